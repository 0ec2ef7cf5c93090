// Reverse listener registration (spec §9.4): every refusal is a complete `success:false` reply
// with the exact text, written before the close; admitted connections join the pool.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { ReverseConnector } from '../src/agent/reverse-connector.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { healthStatusToWire } from '../src/protocol/health-status.js';
import { AgentPool, type ReverseListenOptions } from '../src/pool/agent-pool.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { requestHeaders } from './support/events.js';
import {
  expectAdmitted,
  expectRefusal,
  jsonBytes,
  RawReverseClient,
  registrationBody,
  tcpTarget,
  waitUntil,
  type ReverseTarget,
} from './support/reverse-raw-agent.js';
import { socketPath } from './support/tmp.js';

/** The validation tests register many ad-hoc ids: undeclared ids allowed; no token unless given (the opt-out). */
const OPEN: ReverseListenOptions = { insecureAllowUnauthenticated: true, allowUndeclaredAgents: true };

async function listen(options: Omit<ReverseListenOptions, 'path'> = {}, workers = 0) {
  const pool = new AgentPool({ workers });
  after(() => pool.destroy());
  const refusals: Array<[string | null, string]> = [];
  pool.on('reverse-refused', (agentId, error) => refusals.push([agentId, error]));
  const path = socketPath('rev');
  const handle = await pool.listenReverse({ path, ...OPEN, ...options });
  return { pool, handle, refusals, target: { path } as ReverseTarget };
}

async function refusalFor(target: ReverseTarget, send: (c: RawReverseClient) => void): Promise<string> {
  const client = await RawReverseClient.connect(target);
  send(client);
  return expectRefusal(client);
}

describe('reverse registration: validation order and refusal texts', () => {
  test('version, empty id, allow-list, globs, missing and wrong token, right token', async () => {
    const { target, refusals } = await listen({
      requireAuth: true,
      authTokens: ['tok-a', 'tok-b'],
      allowedAgents: ['waf-*', 'auth', '*-guard-?'],
    });
    const cases: Array<[string, (c: RawReverseClient) => void]> = [
      ['Protocol version mismatch: expected 2, got 1', (c) => c.register('auth', { version: 1, token: 'tok-a' })],
      ['Invalid message format: Agent ID cannot be empty', (c) => c.register('', { token: 'tok-a' })],
      ["Invalid message format: Agent 'mallory' is not in the allowed list", (c) => c.register('mallory', { token: 'tok-a' })],
      // `?` is no wildcard and matching is case-sensitive.
      ["Invalid message format: Agent 'llm-guard-1' is not in the allowed list", (c) => c.register('llm-guard-1', { token: 'tok-a' })],
      ["Invalid message format: Agent 'WAF-1' is not in the allowed list", (c) => c.register('WAF-1', { token: 'tok-a' })],
      ['Invalid message format: Authentication required but no token provided', (c) => c.register('auth')],
      ['Invalid message format: Authentication required but no token provided', (c) => c.register('auth', { token: '' })],
      ['Invalid message format: Authentication failed', (c) => c.register('auth', { token: 'tok-c' })],
      ['Invalid message format: Authentication failed', (c) => c.register('waf-1', { token: 'tok-a ' })],
      // Version is checked before the id, the id before the allow-list, the allow-list before the token.
      ['Protocol version mismatch: expected 2, got 3', (c) => c.register('', { version: 3 })],
      ['Invalid message format: Agent ID cannot be empty', (c) => c.register('')],
      ["Invalid message format: Agent 'x' is not in the allowed list", (c) => c.register('x')],
    ];
    for (const [text, send] of cases) assert.equal(await refusalFor(target, send), text);
    assert.deepEqual(
      refusals.map(([, e]) => e),
      cases.map(([t]) => t),
    );
    assert.equal(refusals[2]?.[0], 'mallory');

    for (const [id, token] of [
      ['waf-eu-1', 'tok-b'],
      ['waf-', 'tok-a'],
      ['auth', 'tok-a'],
    ] as const) {
      const client = await RawReverseClient.connect(target);
      client.register(id, { token });
      await expectAdmitted(client, id);
      client.close();
    }
  });

  test('explicit opt-out (insecureAllowUnauthenticated): any valid id and any token are admitted; glob `*` alone admits all', async () => {
    for (const options of [{}, { allowedAgents: ['*'] }]) {
      const { target, pool } = await listen(options);
      const client = await RawReverseClient.connect(target);
      client.register('anyone', { token: 'whatever' });
      await expectAdmitted(client, 'anyone');
      await waitUntil(() => pool.agentIds().includes('anyone'), 'the agent entry');
      assert.equal(pool.agentStats('anyone').endpoint, 'reverse://anyone');
      client.close();
    }
  });

  test('framing errors and wrong first frames are refused with their Display texts', async () => {
    const { target } = await listen();
    const header = (n: number, type: number) => Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff, type]);
    const cases: Array<[string | RegExp, (c: RawReverseClient) => void]> = [
      ['Invalid message format: Zero-length message', (c) => c.sendRaw(Buffer.from([0, 0, 0, 0]))],
      ['Message too large: 16777217 bytes (max: 65536)', (c) => c.sendRaw(header(16_777_217, 0x01))],
      ['Message too large: 65537 bytes (max: 65536)', (c) => c.sendRaw(header(65_537, 0x01))],
      ['Message too large: 4294967295 bytes (max: 65536)', (c) => c.sendRaw(Buffer.from([0xff, 0xff, 0xff, 0xff]))],
      ['Invalid message format: Unknown message type: 0x99', (c) => c.sendRaw(Buffer.concat([header(3, 0x99), Buffer.from('{}')]))],
      ['Invalid message format: Unknown message type: 0x03', (c) => c.sendRaw(Buffer.concat([header(3, 0x03), Buffer.from('{}')]))],
      ['Invalid message format: Expected registration request (HandshakeRequest), got RequestHeaders', (c) => c.send(0x10, jsonBytes({}))],
      ['Invalid message format: Expected registration request (HandshakeRequest), got Pong', (c) => c.send(0x42, Buffer.alloc(0))],
      [/^Invalid message format: .+/, (c) => c.send(0x01, Buffer.from('{"protocol_version":2,'))],
      [/^Invalid message format: .*capabilities/, (c) => c.send(0x01, jsonBytes({ protocol_version: 2, agent_id: 'a' }))],
      [/^Invalid message format: .*agent_id/, (c) => c.send(0x01, jsonBytes({ ...registrationBody('a'), agent_id: 7 }))],
    ];
    for (const [text, send] of cases) {
      const got = await refusalFor(target, send);
      if (typeof text === 'string') assert.equal(got, text);
      else assert.match(got, text);
    }
    // A registration frame delivered one byte per write is fine.
    const client = await RawReverseClient.connect(target);
    const bytes = encodeFrame(0x01, jsonBytes(registrationBody('slow')));
    for (const b of bytes) {
      client.sendRaw(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    await expectAdmitted(client, 'slow');
    client.close();
  });

  test('a silent client gets `Timeout after …` and is closed; EOF mid-frame is closed without a word', async () => {
    const { target: t2 } = await listen({ handshakeTimeoutMs: 1_100 });
    const slow = RawReverseClient.connect(t2).then(expectRefusal);
    const { target, refusals } = await listen({ handshakeTimeoutMs: 150 });
    const silent = await RawReverseClient.connect(target);
    assert.equal(await expectRefusal(silent), 'Timeout after 150ms');
    const partial = await RawReverseClient.connect(target);
    partial.sendRaw(Buffer.from([0, 0, 0, 50, 0x01, 0x7b]));
    assert.equal(await expectRefusal(partial), 'Timeout after 150ms');
    const quitter = await RawReverseClient.connect(target);
    quitter.sendRaw(Buffer.from([0, 0, 0, 50, 0x01]));
    quitter.socket.end();
    await quitter.closed;
    assert.equal(quitter.frames.length, 0);
    assert.deepEqual(refusals, [
      [null, 'Timeout after 150ms'],
      [null, 'Timeout after 150ms'],
    ]);
    assert.equal(await slow, 'Timeout after 1.1s');
  });

  test('pending handshakes are bounded: the one over the bound is closed at once and reported', async () => {
    const { target, handle, refusals } = await listen({ maxPendingHandshakes: 2, handshakeTimeoutMs: 30_000 });
    const silent = [await RawReverseClient.connect(target), await RawReverseClient.connect(target)];
    // Connections are accepted in arrival order, so the third finds the first two pending.
    const third = await RawReverseClient.connect(target);
    await third.closed;
    assert.equal(third.frames.length, 0);
    await waitUntil(() => refusals.length === 1, 'the report');
    assert.deepEqual(refusals, [[null, 'Connection failed: too many pending registrations (2); 1 socket closed']]);
    silent[0]!.register('late');
    await expectAdmitted(silent[0]!, 'late');
    // A slot is free again.
    const fourth = await RawReverseClient.connect(target);
    fourth.register('fourth');
    await expectAdmitted(fourth, 'fourth');
    for (const c of [...silent, fourth]) c.close();
    await handle.close();
  });

  test('per-agent limit: the 5th of 4 is refused, the first 4 keep working, a freed slot is reused', async () => {
    const { target, pool } = await listen();
    await pool.addAgent('lim', 'reverse://lim');
    const connector = new ReverseConnector({
      endpoint: `unix:${(target as { path: string }).path}`,
      agentId: 'lim',
      connections: 4,
      handler: { onRequestHeaders: (e) => ({ requestHeaders: [{ op: 'set', name: 'x-uri', value: e.uri }] }) },
    });
    after(() => connector.close());
    await connector.start();
    await waitUntil(() => pool.agentIds().includes('lim') && pool.agentStats('lim').healthyConnections === 4, '4 ready connections');
    const fifth = await RawReverseClient.connect(target);
    fifth.register('lim');
    assert.equal(await expectRefusal(fifth), 'Connection failed: Agent lim already has maximum connections (4)');
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, i) => pool.sendRequestHeaders('lim', `l-${i}`, requestHeaders(`l-${i}`, `/${i}`))),
    );
    replies.forEach((r, i) => assert.deepEqual(r.requestHeaders, [{ op: 'set', name: 'x-uri', value: `/${i}` }]));
    const used = pool.agentStats('lim').connections.filter((c) => c.dispatched > 0);
    assert.equal(used.length, 4);
    await connector.close();
    await waitUntil(() => pool.agentStats('lim').activeConnections === 0, 'the connections to go');
    const again = await RawReverseClient.connect(target);
    again.register('lim');
    await expectAdmitted(again, 'lim');
    again.close();
  });

  test('frames sent right behind the registration (same write) reach the pool', async () => {
    const { target, pool } = await listen();
    const reports: string[] = [];
    pool.on('report', (agentId, r) => reports.push(`${agentId}:${r.type}`));
    const client = await RawReverseClient.connect(target);
    const health = healthStatusToWire({
      agentId: 'eager',
      state: 2,
      message: 'warming up',
      load: null,
      resources: null,
      validUntilMs: null,
      timestampMs: Date.now(),
      disabledFeatures: [],
      timeoutMultiplier: 2,
      drainEtaMs: null,
      unhealthyReason: null,
      recoverable: true,
    });
    client.sendRaw(Buffer.concat([encodeFrame(0x01, jsonBytes(registrationBody('eager'))), encodeFrame(0x30, jsonBytes(health))]));
    await expectAdmitted(client, 'eager');
    await waitUntil(() => reports.includes('eager:health'), 'the health report');
    client.close();
  });

  test('a stale socket file is replaced; the file is removed on close; a non-socket is refused', async () => {
    const path = socketPath('stale');
    // A process that dies while listening leaves its socket file behind.
    spawnSync(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`],
      { stdio: 'ignore' },
    );
    assert.ok(existsSync(path), 'the dead listener left its file');
    writeFileSync(`${path}.txt`, 'x');
    const pool = new AgentPool({ workers: 0 });
    after(() => pool.destroy());
    const handle = await pool.listenReverse({ path, ...OPEN });
    const client = await RawReverseClient.connect({ path });
    client.register('after-stale');
    await expectAdmitted(client, 'after-stale');
    client.close();
    await handle.close();
    assert.equal(existsSync(path), false);
    await assert.rejects(
      pool.listenReverse({ path: `${path}.txt`, ...OPEN }),
      (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_INVALID_CONFIG',
    );
    const live = await pool.listenReverse({ path: socketPath('live'), ...OPEN });
    await assert.rejects(pool.listenReverse({ path: live.path as string, ...OPEN }), /another process is serving that socket/);
  });

  test('TCP listener on port 0 reports the real port; refusals work the same over TCP', async () => {
    const pool = new AgentPool({ workers: 0 });
    after(() => pool.destroy());
    const handle = await pool.listenReverse({ tcpAddress: '127.0.0.1:0', allowedAgents: ['ok'], ...OPEN });
    assert.match(handle.tcpAddress as string, /^127\.0\.0\.1:[1-9]\d*$/);
    const target = tcpTarget(handle.tcpAddress as string);
    assert.equal(await refusalFor(target, (c) => c.register('nope')), "Invalid message format: Agent 'nope' is not in the allowed list");
    // The oversized header is refused at once, without waiting for 16 MiB.
    assert.equal(
      await refusalFor(target, (c) => c.sendRaw(Buffer.from([0x01, 0, 0, 1, 0x01]))),
      'Message too large: 16777217 bytes (max: 65536)',
    );
    const client = await RawReverseClient.connect(target);
    client.register('ok');
    await expectAdmitted(client, 'ok');
    client.close();
  });
});
