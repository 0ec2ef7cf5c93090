// Issue 11 item 5: connection floods against an agent server. Past `maxConnections` a new
// connection is closed at once, counted and logged rate-limited; connections already served keep
// being served, the process lives, and freed slots are usable again. Connections that never
// handshake give their slot back after `handshakeTimeoutMs`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { once } from 'node:events';
import { AgentServer } from '../../src/agent/agent-server.js';
import { RawProxyClient, json, sampleEvents, tempSocketDir } from '../support/raw-proxy-client.js';
import { waitFor } from '../support/wait-for.js';
import { agentUsageFailure, startAgentChild } from './agent-server-child.js';

const dir = tempSocketDir();
after(() => dir.remove());
let seq = 0;
const nextPath = () => dir.path(`flood-${seq++}.sock`);

/** One request_headers event answered on `client` (the echo example allows it). */
async function roundTrip(client: RawProxyClient, cid: string): Promise<void> {
  const [type, body] = sampleEvents(cid)[0]!;
  client.send(type, json(body));
  const reply = await client.nextJson();
  assert.equal(reply['correlation_id'], cid);
}

/** A raw connection; resolves once connected. */
async function rawSocket(path: string): Promise<Socket> {
  const socket = createConnection(path);
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Resolves with the bytes the agent sent before closing `socket`; rejects after `guardMs` (hang guard). */
function closedByPeer(socket: Socket, guardMs = 3_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    socket.on('data', (d: Buffer) => (bytes += d.length));
    const timer = setTimeout(() => reject(new Error(`connection not closed within ${guardMs} ms`)), guardMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(bytes);
    });
  });
}

test(
  'connection flood: past --max-connections a real `zap agent` closes new connections at once, ' + 'keeps serving, logs one line',
  async () => {
    const path = nextPath();
    const MAX = 16;
    const EXTRA = 64;
    const agent = await startAgentChild(path, ['--max-connections', String(MAX)]);
    const { client: served } = await RawProxyClient.open(path);
    await roundTrip(served, 'before-flood');
    const holders: RawProxyClient[] = [];
    for (let i = 1; i < MAX; i++) holders.push((await RawProxyClient.open(path)).client);

    const extras = await Promise.all(Array.from({ length: EXTRA }, () => rawSocket(path)));
    const closed = extras.map((s) => closedByPeer(s));
    // A handshake on a refused connection is never answered.
    for (const s of extras) s.write(Buffer.from([0, 0, 0, 2, 0x01, 0x7b]));
    const bytes = await Promise.all(closed);
    assert.deepEqual(bytes, new Array(EXTRA).fill(0), 'a refused connection got bytes from the agent');

    await roundTrip(served, 'during-flood');
    await waitFor(() => agent.stderr().includes('refused'));
    const lines = agent
      .stderr()
      .split('\n')
      .filter((l) => l.includes('refused'));
    assert.equal(lines.length, 1, `expected one rate-limited line for ${EXTRA} refusals, got:\n${agent.stderr()}`);
    assert.match(lines[0]!, /refused a UDS connection: 16 connections open \(maxConnections\)/);

    // Freed slots are served again.
    await Promise.all(holders.map((h) => h.close()));
    let late: RawProxyClient | undefined;
    await waitFor(async () => {
      // Refused until the agent has seen the holders go: the handshake then fails with 'connection closed'.
      late = await RawProxyClient.open(path).then(
        (o) => o.client,
        () => undefined,
      );
      return late !== undefined;
    });
    await roundTrip(late!, 'after-flood');
    await late!.close();
    await roundTrip(served, 'still-served');
    await served.close();
    assert.equal(agent.child.exitCode, null, 'the agent process died');
    assert.equal(await agent.stop(), 0);
  },
);

test('connection flood: refusals are counted in stats and reported as one rate-limited warning', async () => {
  const path = nextPath();
  const server = new AgentServer({ agentId: 'flood', maxConnections: 4 });
  const warnings: string[] = [];
  server.on('warning', (w: string) => warnings.push(w));
  after(() => server.close());
  await server.listen(path);
  const held = await Promise.all(Array.from({ length: 4 }, async () => (await RawProxyClient.open(path)).client));
  const extras = await Promise.all(Array.from({ length: 20 }, () => rawSocket(path)));
  await Promise.all(extras.map((s) => closedByPeer(s)));
  assert.equal(server.connections, 4);
  assert.deepEqual(server.stats, { connectionsRefused: 20, handshakeTimeouts: 0, frameTimeouts: 0 });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /refused a UDS connection: 4 connections open \(maxConnections\) \(logged at most once per 60 s\)/);
  await Promise.all(held.map((c) => c.close()));
  await server.close();
});

test('connection flood: idle pre-handshake connections hold a slot only until handshakeTimeoutMs', async () => {
  const path = nextPath();
  const server = new AgentServer({ agentId: 'idle', maxConnections: 8, handshakeTimeoutMs: 300 });
  server.on('warning', () => {});
  after(() => server.close());
  await server.listen(path);
  const silent = await Promise.all(Array.from({ length: 8 }, () => rawSocket(path)));
  const silentClosed = silent.map((s) => closedByPeer(s, 5_000));
  await closedByPeer(await rawSocket(path)); // the cap holds while they sit there
  await Promise.all(silentClosed);
  assert.equal(server.stats.handshakeTimeouts, 8);
  assert.equal(server.stats.connectionsRefused, 1);
  const { client } = await RawProxyClient.open(path);
  await roundTrip(client, 'after-idle');
  await client.close();
  await server.close();
});

test('connection flood: maxConnections outside 1…2^53 is refused with ZAP_INVALID_CONFIG', () => {
  for (const maxConnections of [0, -1, 2.5, Number.NaN]) {
    assert.throws(() => new AgentServer({ agentId: 'bad', maxConnections }), { code: 'ZAP_INVALID_CONFIG', message: /maxConnections/ });
  }
});

test('connection flood: `zap agent` refuses bad limit flags, and limit flags with --reverse, as usage errors', async () => {
  const path = nextPath();
  const cases: Array<[string[], RegExp]> = [
    [['--listen', path, '--max-connections', '0'], /--max-connections must be a positive integer/],
    [['--listen', path, '--frame-timeout-ms', '1e3'], /--frame-timeout-ms must be a positive integer/],
    [['--listen', path, '--handshake-timeout-ms=-1'], /--handshake-timeout-ms must be a positive integer/],
    [['--listen', path, '--socket-mode', '0o666'], /--socket-mode must be octal permission bits/],
    [['--reverse', `unix:${path}`, '--id', 'a', '--max-connections', '4'], /apply to --listen only/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await agentUsageFailure(args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, message);
  }
});
