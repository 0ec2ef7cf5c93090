// WebSocket floods through a real `zap gateway`: a client sending 40 MiB of small frames as fast as
// it can while the route's agent takes 5 ms a frame, and a client that never reads while the
// upstream sends 128 MiB. The gateway's RSS is sampled all along and stays within a stated bound
// (the frame queue pauses the flooding side; an unread leg holds the queue), a second client is
// served meanwhile, and everything the upstream sent arrives once the client reads again.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { AgentServer } from '../../src/agent/agent-server.js';
import { socketPath } from '../support/tmp.js';
import { waitFor } from '../support/wait-for.js';
import { rssOf, startGateway } from './gateway-child.js';

const KIB = 1024;
const MIB = KIB * KIB;
/** What the gateway's RSS may grow by during a flood of small frames: a bounded queue and socket buffers. */
const RSS_GROWTH_MAX = 24 * MIB;
/** The same for an unread leg, whose queue holds up to 16 large frames (8 MiB) besides the buffers. */
const RSS_GROWTH_UNREAD_MAX = 40 * MIB;
const FLOOD_FRAMES = 10_000;
const FLOOD_FRAME = Buffer.alloc(4 * KIB, 'f');
const DOWN_PIECE = Buffer.alloc(512 * KIB, 'd');
/** 128 MiB: three times what an unread leg may hold (16 queued 512 KiB frames, 1 MiB unsent, buffers). */
const DOWN_PIECES = 256;

// The upstream echoes; "flood" makes it send DOWN_PIECES pieces at once.
const upstreamHttp = http.createServer();
const upstreamWs = new WebSocketServer({ server: upstreamHttp });
upstreamWs.on('connection', (ws) =>
  ws.on('message', (data, isBinary) => {
    if (!isBinary && String(data) === 'flood') for (let i = 0; i < DOWN_PIECES; i++) ws.send(DOWN_PIECE);
    else ws.send(data, { binary: isBinary });
  }),
);
upstreamHttp.listen(0, '127.0.0.1');
await once(upstreamHttp, 'listening');

// A slow agent: 5 ms a frame, counted.
let framesSeen = 0;
const agentPath = socketPath('ws-flood-agent');
const agent = new AgentServer({
  agentId: 'slow',
  handler: {
    onWebSocketFrame: async () => {
      framesSeen++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return {};
    },
  },
});
await agent.listen(agentPath);
after(async () => {
  for (const c of upstreamWs.clients) c.terminate();
  upstreamWs.close();
  upstreamHttp.close();
  await agent.close();
});

const gw = await startGateway(`listeners {
    listener "http" { address "127.0.0.1:0"; }
}
upstreams {
    upstream "echo" { target "127.0.0.1:${(upstreamHttp.address() as AddressInfo).port}"; }
}
routes {
    route "inspected" {
        matches { path-prefix "/ws/"; }
        upstream "echo"
        agents "slow"
        websocket #true
    }
    route "plain" {
        matches { path-prefix "/plain/"; }
        upstream "echo"
        websocket #true
    }
}
agents {
    agent "slow" {
        unix-socket "${agentPath}"
        events "websocket_frame"
        failure-mode "closed"
    }
}
`);
const pid = gw.child.pid as number;

async function open(path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${gw.address}${path}`);
  ws.on('error', () => {});
  await once(ws, 'open');
  return ws;
}

/** One message sent on `ws` and its echo; rejects after 10 s. */
async function echo(ws: WebSocket, text: string): Promise<string> {
  const reply = once(ws, 'message', { signal: AbortSignal.timeout(10_000) }) as Promise<[Buffer]>;
  ws.send(text);
  return String((await reply)[0]);
}

/** The gateway's highest RSS over `rounds` samples 50 ms apart. */
async function peakRss(rounds: number): Promise<number> {
  let max = 0;
  for (let i = 0; i < rounds; i++) {
    max = Math.max(max, rssOf(pid));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return max;
}

test('40 MiB of small frames against a slow agent: the flooding side is paused, another client is served', async () => {
  const calm = await open('/ws/calm');
  assert.equal(await echo(calm, 'warm'), 'warm');
  const base = rssOf(pid);
  const flood = await open('/ws/flood');
  for (let i = 0; i < FLOOD_FRAMES; i++) flood.send(FLOOD_FRAME);
  const peak = await peakRss(30);
  assert.equal(await echo(calm, 'still here'), 'still here', 'a well-behaved client meanwhile');
  assert.ok(framesSeen < FLOOD_FRAMES, `the agent saw ${framesSeen} frames: the flood was held back, not inspected`);
  assert.ok(peak - base < RSS_GROWTH_MAX, `RSS grew by ${((peak - base) / MIB).toFixed(1)} MiB`);
  process.stdout.write(`# flood: RSS growth ${((peak - base) / MIB).toFixed(1)} MiB, ${framesSeen} frames inspected\n`);
  flood.terminate();
  calm.close();
});

test('a client that never reads: the upstream’s 128 MiB wait outside the gateway, then all arrive', async () => {
  const ws = await open('/plain/never-reads');
  assert.equal(await echo(ws, 'warm'), 'warm');
  const base = rssOf(pid);
  let got = 0;
  ws.on('message', (d: Buffer) => (got += d.length));
  ws.pause();
  ws.send('flood');
  const peak = await peakRss(30);
  assert.ok(peak - base < RSS_GROWTH_UNREAD_MAX, `RSS grew by ${((peak - base) / MIB).toFixed(1)} MiB`);
  process.stdout.write(`# never reads: RSS growth ${((peak - base) / MIB).toFixed(1)} MiB\n`);
  ws.resume();
  await waitFor(() => got >= DOWN_PIECES * DOWN_PIECE.length, 10_000);
  assert.equal(got, DOWN_PIECES * DOWN_PIECE.length, 'everything the upstream sent');
  ws.close();
});
