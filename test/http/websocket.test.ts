// WebSocket through the relay: a real `ws` client → a node:http server whose 'upgrade' hands the
// socket to relayWebSocket → a real echo upstream (ws server), with every frame shown to a real
// agent process (test/http/websocket-agent.ts) over a Unix socket.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { AgentPool } from '../../src/index.js';
import { createHttpEngine } from '../../src/http/engine.js';
import { routeAgent, type RouteAgent } from '../../src/http/route.js';
import { createUpstream, type HttpUpstream } from '../../src/http/upstream.js';
import { relayWebSocket, type WebSocketRelayResult } from '../../src/http/websocket-relay.js';
import { socketPath } from '../support/tmp.js';
import { waitFor } from '../support/wait-for.js';

const AGENT = fileURLToPath(new URL('./websocket-agent.ts', import.meta.url));

interface AgentReport {
  op: 'frame' | 'cancel' | 'listening' | 'complete';
  status?: number;
  error?: string | null;
  cid?: string;
  clientToServer?: boolean;
  frameIndex?: number;
  opcode?: string;
  text?: string;
  reason?: string | null;
}

let agent: ChildProcess;
const reports: AgentReport[] = [];
let pool: AgentPool;
let upstreamServer: WebSocketServer;
/** Text messages the upstream received, the close codes it saw, the `x-ws-checked` of its handshakes. */
const upstreamGot: string[] = [];
const upstreamChecked: (string | string[] | undefined)[] = [];
const upstreamCloses: number[] = [];
let upstream: HttpUpstream;
let gateway: Server;
let gatewayPort = 0;

/** Agents and relay settings of the next connection, and what the relay reported per cid. */
let routeAgents: RouteAgent[] = [];
let relaySettings: { maxFrameBytes?: number; maxQueuedFrames?: number; upstream?: HttpUpstream } = {};
const doneCalls = new Map<string, (string | null | undefined)[]>();
/** The status the relay told `done` the client got, per cid. */
const doneStatus = new Map<string, number>();
const results = new Map<string, WebSocketRelayResult>();
let nextCid = 0;
const relayLog: string[] = [];

before(async () => {
  const path = socketPath('ws-agent');
  agent = fork(AGENT, [path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  agent.on('message', (m: AgentReport) => reports.push(m));
  await waitFor(() => reports.some((r) => r.op === 'listening'), 20_000);

  pool = new AgentPool({ workers: 0 });
  assert.equal((await pool.addAgent('ws-guard', `unix:${path}`)).errors.length, 0);

  upstreamServer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  upstreamServer.on('connection', (ws, req) => {
    upstreamChecked.push(req.headers['x-ws-checked']);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.send(data, { binary: true });
      const text = data.toString();
      upstreamGot.push(text);
      if (text === 'upstream-bye') {
        ws.close(4002, 'upstream is done');
      } else if (text === 'push') {
        // Two frames the other way: the agent drops the first.
        ws.send('drop this (from upstream)');
        ws.send('pushed');
      } else ws.send(`echo:${text}`);
    });
    ws.on('close', (code) => upstreamCloses.push(code));
  });
  await once(upstreamServer, 'listening');
  upstream = createUpstream({ id: 'echo', target: `127.0.0.1:${(upstreamServer.address() as AddressInfo).port}` });

  gateway = createServer();
  gateway.on('upgrade', (req, socket, head) => {
    const cid = `ws-${++nextCid}`;
    doneCalls.set(cid, []);
    const { upstream: target = upstream, ...limits } = relaySettings;
    relayWebSocket({
      pool,
      agents: routeAgents,
      route: { id: 'chat', agents: routeAgents, upstream: target },
      cid,
      clientIp: req.socket.remoteAddress ?? '',
      req,
      socket,
      head,
      upstream: target,
      log: (level, message) => relayLog.push(`${level}: ${message}`),
      ...limits,
      upstreamHeaders: { host: req.headers.host },
      done: (error, status) => {
        doneCalls.get(cid)?.push(error);
        doneStatus.set(cid, status);
        pool.endRequest(cid);
      },
      onEnd: (result) => results.set(cid, result),
    });
  });
  gateway.listen(0, '127.0.0.1');
  await once(gateway, 'listening');
  gatewayPort = (gateway.address() as AddressInfo).port;
});

after(async () => {
  gateway?.close();
  upstreamServer?.close();
  await upstream?.close();
  await pool?.close();
  agent?.disconnect();
  if (agent !== undefined && agent.exitCode === null) await once(agent, 'exit');
});

/** Text messages a client receives, with a bounded wait for the next. */
function inbox(ws: WebSocket): () => Promise<string> {
  const received: string[] = [];
  ws.on('message', (data, isBinary) => received.push(isBinary ? `binary:${Buffer.from(data as Buffer).toString('hex')}` : data.toString()));
  return async () => {
    await waitFor(() => received.length > 0 || ws.readyState === WebSocket.CLOSED);
    const value = received.shift();
    assert.ok(value !== undefined, 'connection closed before a message came');
    return value;
  };
}

/** A connected client with a bounded queue of what it received; `cid` is the relay's id for it. */
async function connect(
  agents: RouteAgent[],
  settings: typeof relaySettings = {},
): Promise<{ ws: WebSocket; cid: string; next: () => Promise<string>; closed: Promise<[number, string]> }> {
  routeAgents = agents;
  relaySettings = settings;
  const ws = new WebSocket(`ws://127.0.0.1:${gatewayPort}/chat`);
  const next = inbox(ws);
  const closed = once(ws, 'close').then(([code, reason]) => [code as number, String(reason)] as [number, string]);
  await once(ws, 'open');
  const cid = `ws-${nextCid}`;
  return { ws, cid, next, closed };
}

async function resultOf(cid: string): Promise<WebSocketRelayResult> {
  await waitFor(() => results.has(cid));
  return results.get(cid) as WebSocketRelayResult;
}

const framesOf = (cid: string) => reports.filter((r) => r.op === 'frame' && r.cid === cid);

describe('WebSocket relay through a real agent process', () => {
  test('allow: frames of both directions reach the agent in order and are forwarded; a client close ends it once', async () => {
    const { ws, cid, next, closed } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'] })]);
    ws.send('hello');
    assert.equal(await next(), 'echo:hello');
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal(await next(), 'binary:010203');
    ws.close(1000, 'bye');
    assert.deepEqual(await closed, [1000, 'bye']);
    const result = await resultOf(cid);
    assert.equal(result.endedBy, 'client');
    assert.equal(result.frames.forwardedClientToServer, 2);
    assert.equal(result.frames.forwardedServerToClient, 2);
    assert.deepEqual(doneCalls.get(cid), [null]);
    assert.equal(doneStatus.get(cid), 101, 'the client got its upgrade');
    assert.deepEqual(
      framesOf(cid).map((f) => [f.clientToServer, f.frameIndex, f.opcode, f.text]),
      [
        [true, 0, 'text', 'hello'],
        [false, 0, 'text', 'echo:hello'],
        [true, 1, 'binary', '\u0001\u0002\u0003'],
        [false, 1, 'binary', '\u0001\u0002\u0003'],
      ],
    );
  });

  test('drop: a dropped frame is not forwarded, in either direction, and the next one is', async () => {
    const { ws, cid, next } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'] })]);
    ws.send('please drop me');
    ws.send('after');
    assert.equal(await next(), 'echo:after');
    assert.ok(!upstreamGot.includes('please drop me'));
    ws.send('push');
    assert.equal(await next(), 'pushed');
    ws.close();
    const result = await resultOf(cid);
    assert.equal(result.frames.dropped, 2);
    assert.deepEqual(doneCalls.get(cid), [null]);
  });

  test('close: the agent closes both sides with its code and reason', async () => {
    const before = upstreamCloses.length;
    const { ws, cid, closed } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'] })]);
    ws.send('close now');
    assert.deepEqual(await closed, [4001, 'closed by agent']);
    const result = await resultOf(cid);
    assert.equal(result.endedBy, 'agent');
    assert.equal(result.agentId, 'ws-guard');
    assert.deepEqual(upstreamCloses.slice(before), [4001]);
    assert.ok(!upstreamGot.includes('close now'));
    assert.equal(doneCalls.get(cid)?.length, 1);
  });

  test('an agent that times out fail-closed closes both sides with 1011', async () => {
    const before = upstreamCloses.length;
    const { ws, cid, closed } = await connect([
      routeAgent('ws-guard', { events: ['websocket_frame'], timeoutMs: 200, failureMode: 'closed' }),
    ]);
    ws.send('slow one');
    assert.deepEqual(await closed, [1011, 'Service unavailable']);
    assert.equal((await resultOf(cid)).endedBy, 'agent-failure');
    assert.deepEqual(upstreamCloses.slice(before), [1011]);
    assert.ok(!upstreamGot.includes('slow one'));
  });

  test('an agent that times out fail-open is skipped and the frame forwarded', async () => {
    const { ws, cid, next } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'], timeoutMs: 200, failureMode: 'open' })]);
    ws.send('slow but open');
    assert.equal(await next(), 'echo:slow but open');
    ws.close();
    assert.equal((await resultOf(cid)).endedBy, 'client');
  });

  test('a client that goes away mid-frame cancels the call (client_disconnect) and nothing reaches the upstream', async () => {
    const { ws, cid } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'], timeoutMs: 10_000 })]);
    ws.send('slow and abandoned');
    ws.send('queued behind it');
    await waitFor(() => framesOf(cid).length === 1);
    ws.terminate();
    await waitFor(() => reports.some((r) => r.op === 'cancel' && r.cid === cid));
    assert.equal(reports.find((r) => r.op === 'cancel' && r.cid === cid)?.reason, 'client_disconnect');
    const result = await resultOf(cid);
    assert.equal(result.endedBy, 'client');
    assert.equal(result.frames.discarded, 2);
    assert.deepEqual(doneCalls.get(cid), [null]);
    assert.ok(!upstreamGot.includes('slow and abandoned') && !upstreamGot.includes('queued behind it'));
    assert.equal(framesOf(cid).length, 1);
  });

  test('a chain of agents is asked one after another and stops at the first non-allow', async () => {
    const guard = routeAgent('ws-guard', { events: ['websocket_frame'] });
    const { ws, cid, next } = await connect([guard, guard]);
    ws.send('drop at the first');
    ws.send('second: drop at the second');
    ws.send('hello');
    assert.equal(await next(), 'echo:hello');
    const asked = (text: string) => framesOf(cid).filter((f) => f.text === text).length;
    assert.equal(asked('drop at the first'), 1);
    assert.equal(asked('second: drop at the second'), 2);
    assert.equal(asked('hello'), 2);
    assert.equal(asked('echo:hello'), 2);
    ws.close();
    assert.equal((await resultOf(cid)).frames.dropped, 2);
  });

  test('pings and pongs go through the agent too, both ways', async () => {
    const { ws, cid } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'] })]);
    const pong = once(ws, 'pong');
    ws.ping('p1');
    assert.equal(String((await pong)[0]), 'p1');
    assert.deepEqual(
      framesOf(cid).map((f) => [f.clientToServer, f.opcode, f.text]),
      [
        [true, 'ping', 'p1'],
        [false, 'pong', 'p1'],
      ],
    );
    ws.close();
    await resultOf(cid);
  });

  test('an upstream close closes the client with its code and cancels the call in flight (upstream_error)', async () => {
    const { ws, cid, closed } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'], timeoutMs: 10_000 })]);
    ws.send('upstream-bye');
    ws.send('slow, outlived by the upstream');
    assert.deepEqual(await closed, [4002, 'upstream is done']);
    await waitFor(() => reports.some((r) => r.op === 'cancel' && r.cid === cid));
    assert.equal(reports.find((r) => r.op === 'cancel' && r.cid === cid)?.reason, 'upstream_error');
    const result = await resultOf(cid);
    assert.equal(result.endedBy, 'upstream');
    assert.deepEqual(doneCalls.get(cid), [null]);
  });

  test('a small queue pauses and resumes the client socket and keeps every frame in order', async () => {
    const { ws, cid, next } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'] })], { maxQueuedFrames: 2 });
    const sent = Array.from({ length: 20 }, (_, i) => `m${i}`);
    for (const text of sent) ws.send(text);
    const got: string[] = [];
    for (let i = 0; i < sent.length; i++) got.push(await next());
    assert.deepEqual(
      got,
      sent.map((t) => `echo:${t}`),
    );
    ws.close();
    assert.equal((await resultOf(cid)).frames.forwardedClientToServer, 20);
  });

  test('a message over maxFrameBytes closes the client with 1009 and the upstream with it', async () => {
    const before = upstreamCloses.length;
    const { ws, cid, closed } = await connect([routeAgent('ws-guard', { events: ['websocket_frame'] })], { maxFrameBytes: 1024 });
    ws.send('x'.repeat(2048));
    assert.equal((await closed)[0], 1009);
    const result = await resultOf(cid);
    assert.equal(result.code, 1009);
    await waitFor(() => upstreamCloses.length > before);
    assert.deepEqual(upstreamCloses.slice(before), [1009]);
    assert.equal(result.endedBy, 'client');
    assert.equal(framesOf(cid).length, 0);
    assert.equal(doneCalls.get(cid)?.length, 1);
  });

  test('an upstream that refuses the upgrade gets the client a 502 and no upgrade', async () => {
    const plain = createServer((_req, res) => res.end('no websockets here'));
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const refusing = createUpstream({ id: 'plain', target: `127.0.0.1:${(plain.address() as AddressInfo).port}` });
    try {
      routeAgents = [];
      relaySettings = { upstream: refusing };
      const ws = new WebSocket(`ws://127.0.0.1:${gatewayPort}/chat`);
      ws.on('error', () => {}); // terminate() before the upgrade reports one
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 502);
      ws.terminate();
      const cid = `ws-${nextCid}`;
      assert.equal((await resultOf(cid)).endedBy, 'upstream-refused');
      assert.deepEqual(doneCalls.get(cid), ['upstream: websocket handshake failed']);
      assert.equal(doneStatus.get(cid), 502);
      assert.ok(
        relayLog.some((line) => line.startsWith('warn: ') && line.includes('refused the WebSocket handshake')),
        relayLog.join('\n'),
      );
    } finally {
      plain.close();
      await refusing.close();
    }
  });
  test('an upgrade that is not a WebSocket handshake (h2c) gets 400 and never reaches the upstream', async () => {
    const connectionsBefore = upstreamChecked.length;
    routeAgents = [];
    relaySettings = {};
    const req = request({ host: '127.0.0.1', port: gatewayPort, path: '/chat', headers: { connection: 'Upgrade', upgrade: 'h2c' } });
    req.end();
    const [res] = (await once(req, 'response')) as [{ statusCode: number; resume: () => void }];
    res.resume();
    assert.equal(res.statusCode, 400);
    const cid = `ws-${nextCid}`;
    assert.deepEqual(doneCalls.get(cid), ['not a websocket upgrade']);
    assert.equal(doneStatus.get(cid), 400);
    assert.equal(upstreamChecked.length, connectionsBefore);
  });
  const handshake = { 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
  for (const [what, headers] of [
    ['a repeated subprotocol', { ...handshake, 'sec-websocket-protocol': 'chat, chat' }],
    ['a subprotocol that is not a token', { ...handshake, 'sec-websocket-protocol': 'a b, chat' }],
    ['no Sec-WebSocket-Version', { 'sec-websocket-key': handshake['sec-websocket-key'] }],
    ['Sec-WebSocket-Version 12', { ...handshake, 'sec-websocket-version': '12' }],
  ] as const) {
    test(`a handshake offering ${what} gets 400 and never reaches the upstream (the process survives it)`, async () => {
      const connectionsBefore = upstreamChecked.length;
      routeAgents = [];
      relaySettings = {};
      const req = request({
        host: '127.0.0.1',
        port: gatewayPort,
        path: '/chat',
        headers: { connection: 'Upgrade', upgrade: 'websocket', ...headers },
      });
      req.end();
      const [res] = (await once(req, 'response')) as [{ statusCode: number; resume: () => void }];
      res.resume();
      assert.equal(res.statusCode, 400);
      assert.deepEqual(doneCalls.get(`ws-${nextCid}`), ['not a websocket upgrade']);
      assert.equal(doneStatus.get(`ws-${nextCid}`), 400);
      assert.equal(upstreamChecked.length, connectionsBefore);
    });
  }
});

describe('WebSocket through the HTTP engine (engine.upgrade)', () => {
  test('request headers go through the agent first (its header op reaches the upstream handshake), then frames', async () => {
    const agents = [routeAgent('ws-guard', { events: ['request_headers', 'websocket_frame', 'request_complete'] })];
    const completesBefore = reports.filter((r) => r.op === 'complete').length;
    const engine = createHttpEngine({ pool, route: { id: 'engine-chat', agents, upstream } });
    const server = createServer();
    server.on('upgrade', (req, socket, head) => engine.upgrade(req, socket, head));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const checkedBefore = upstreamChecked.length;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`);
      const next = inbox(ws);
      await once(ws, 'open');
      assert.deepEqual(upstreamChecked.slice(checkedBefore), ['yes']);
      ws.send('via engine: drop');
      ws.send('via engine');
      assert.equal(await next(), 'echo:via engine');
      assert.ok(!upstreamGot.includes('via engine: drop'));
      ws.send('via engine: close');
      assert.deepEqual((await once(ws, 'close')).map(String), ['4001', 'closed by agent']);

      const blocked = new WebSocket(`ws://127.0.0.1:${port}/blocked`);
      blocked.on('error', () => {}); // terminate() before the upgrade reports one
      const [, res] = (await once(blocked, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 403);
      blocked.terminate();
      assert.equal(upstreamChecked.length, checkedBefore + 1);

      // A rate-limit challenge is 429 on an upgrade too, as on any request.
      const limited = new WebSocket(`ws://127.0.0.1:${port}/limited`);
      limited.on('error', () => {});
      const [, limitedRes] = (await once(limited, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(limitedRes.statusCode, 429);
      limited.terminate();

      // Every upgrade request ends with request_complete: the relayed one once it is over (101 and
      // the agent's close as the error), the refused ones with the status the client got.
      await waitFor(() => reports.filter((r) => r.op === 'complete').length === completesBefore + 3);
      const completes = reports.filter((r) => r.op === 'complete').slice(completesBefore);
      const byStatus = new Map(completes.map((r) => [r.status, r.error]));
      assert.deepEqual([...byStatus.keys()].sort(), [101, 403, 429]);
      assert.match(byStatus.get(101) ?? '', /^websocket closed 4001 by agent ws-guard: closed by agent$/);
      assert.equal(byStatus.get(403), null);
      assert.equal(byStatus.get(429), null);
      assert.equal(new Set(completes.map((r) => r.cid)).size, 3, 'one per request, each with its own correlation id');
    } finally {
      server.close();
    }
  });
});
