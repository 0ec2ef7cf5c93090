// Hostile clients against the reverse listener's memory (issue 11 item 2): unauthenticated sockets
// that announce huge registration frames and drip them, and more sockets than the pending bound.
// The flood comes from a child process (its send buffers are not ours); the listener runs on this
// thread (workers: 0), so this process's RSS is the listener's. A registered agent serves calls
// throughout; every call settles once, with a reply.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { FirstFrameReader } from '../../src/transport/reverse-first-frame.js';
import { callLoop, flood, reverseAgent, rssSampler } from '../support/reverse-hostile.js';
import { waitUntil } from '../support/reverse-raw-agent.js';
import { socketPath } from '../support/tmp.js';

const TOKEN = 'tok-steady';
/** RSS growth allowed while the flood runs (garbage included: no GC is forced). Without the 64 KiB limit the
 *  16 MiB test measured 320 MiB of growth; with it, 1–30 MiB. */
const RSS_BOUND_MIB = 64;

async function listenerWithAgent(transport: 'uds' | 'tcp', options: { handshakeTimeoutMs?: number } = {}) {
  const pool = new AgentPool({ workers: 0 });
  after(() => pool.destroy());
  await pool.addAgent('steady', 'reverse://steady');
  const refusals: string[] = [];
  pool.on('reverse-refused', (_id, error) => refusals.push(error));
  const handle = await pool.listenReverse({
    ...(transport === 'uds' ? { path: socketPath('hostile') } : { tcpAddress: '127.0.0.1:0' }),
    authTokens: [{ token: TOKEN, agents: ['steady'] }],
    ...options,
  });
  const target = transport === 'uds' ? (handle.path as string) : (handle.tcpAddress as string);
  const endpoint = transport === 'uds' ? `unix:${target}` : `tcp://${target}`;
  await reverseAgent(endpoint, 'steady', 2, TOKEN);
  await waitUntil(() => pool.agentStats('steady').healthyConnections === 2, 'steady ready');
  return { pool, target, refusals };
}

describe('reverse registration memory bomb: the first-frame reader', () => {
  const header = (n: number, type = 0x01) => Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff, type]);

  test('an announced length over the limit fails as soon as its 4 bytes are in, even split', () => {
    const reader = new FirstFrameReader(1_024);
    assert.equal(reader.push(header(1_025).subarray(0, 2)), undefined);
    assert.throws(() => reader.push(header(1_025).subarray(2, 4)), /^AgentPoolError: Message too large: 1025 bytes \(max: 1024\)$/);
    assert.throws(() => new FirstFrameReader(1_024).push(header(0)), /Invalid message format: Zero-length message/);
    assert.throws(() => new FirstFrameReader(1_024).push(header(10, 0x99)), /Invalid message format: Unknown message type: 0x99/);
  });

  test('a frame dripped one byte at a time is held in one buffer of its size; bytes after it are handed back', () => {
    const reader = new FirstFrameReader(1_024);
    const payload = Buffer.from('x'.repeat(999));
    const bytes = Buffer.concat([header(1_000), payload, Buffer.from('next')]);
    for (let i = 0; i < 1_003; i++) {
      assert.equal(reader.push(bytes.subarray(i, i + 1)), undefined);
      assert.equal(reader.bufferedBytes, i + 1);
    }
    const frame = reader.push(bytes.subarray(1_003));
    assert.equal(frame?.type, 0x01);
    assert.deepEqual(frame?.payload, payload);
    assert.equal(frame?.leftover.toString(), 'next');
  });
});

for (const transport of ['uds', 'tcp'] as const) {
  describe(`reverse registration memory bomb over ${transport}`, () => {
    test('64 sockets announcing 16 MiB and dripping 4 MiB each: each refused at its length prefix, RSS bounded', async () => {
      const { pool, target, refusals } = await listenerWithAgent(transport);
      const rss = rssSampler();
      const attack = flood(target, { count: 64, announce: 16_777_217, dripBytes: 4 * 1_048_576, chunk: 65_536, intervalMs: 5 });
      const calls = callLoop(pool, 'steady', attack);
      const outcome = await attack;
      const tally = await calls;
      const { baselineMiB, peakMiB, growthMiB } = rss.stop();
      process.stdout.write(
        `# ${transport} 16 MiB announcements: RSS ${baselineMiB} → ${peakMiB} MiB (growth ${growthMiB} MiB), ${tally.ok} calls served\n`,
      );

      assert.deepEqual(outcome.refusals, Array(64).fill('Message too large: 16777217 bytes (max: 65536)'));
      assert.equal(outcome.closed, 0);
      assert.equal(refusals.length, 64);
      assert.ok(growthMiB < RSS_BOUND_MIB, `RSS grew ${growthMiB} MiB (bound ${RSS_BOUND_MIB} MiB)`);
      assert.ok(tally.ok > 0);
      assert.deepEqual(tally.errors, []);
      assert.equal(tally.doubleSettled, 0);
    });

    test('pending bound: 64 sockets hold frames at the 64 KiB limit, 32 more are closed at once; RSS bounded', async () => {
      const { pool, target, refusals } = await listenerWithAgent(transport, { handshakeTimeoutMs: 1_500 });
      const rss = rssSampler();
      // 96 sockets; each drips 60 KiB of a 64 KiB frame over ~0.6 s and then waits: the first 64
      // are pending until the 1.5 s handshake timeout, the rest find the bound full.
      const attack = flood(target, { count: 96, announce: 65_536, dripBytes: 61_440, chunk: 1_024, intervalMs: 10 });
      const calls = callLoop(pool, 'steady', attack);
      const outcome = await attack;
      const tally = await calls;
      const { baselineMiB, peakMiB, growthMiB } = rss.stop();
      process.stdout.write(
        `# ${transport} pending bound: RSS ${baselineMiB} → ${peakMiB} MiB (growth ${growthMiB} MiB), ${tally.ok} calls served\n`,
      );

      assert.deepEqual(outcome.refusals, Array(64).fill('Timeout after 1.5s'));
      assert.equal(outcome.closed, 32);
      // The closed ones are reported in aggregate (at most one report a second), never lost.
      await waitUntil(() => closedReported(refusals) === 32, 'the closed sockets to be reported');
      assert.ok(growthMiB < RSS_BOUND_MIB, `RSS grew ${growthMiB} MiB (bound ${RSS_BOUND_MIB} MiB)`);
      assert.ok(tally.ok > 0);
      assert.deepEqual(tally.errors, []);
      assert.equal(tally.doubleSettled, 0);
    });
  });
}

/** Sum of `N sockets closed` over the pending-bound reports. */
function closedReported(refusals: string[]): number {
  let n = 0;
  for (const r of refusals) {
    const m = /^Connection failed: too many pending registrations \(64\); (\d+) sockets? closed$/.exec(r);
    if (m !== null) n += Number(m[1]);
  }
  return n;
}
