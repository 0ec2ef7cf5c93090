// A MetricsReport in the same read as the handshake reply was dropped (issue 11 item 9): the agent
// writes HandshakeResponse and a control frame in one socket.write, the proxy decodes both in one
// push, but nobody listened for the second yet. Control frames that arrive before their listener
// are now held and delivered when it is attached — the same for frames sent while the initial
// Configure is outstanding. Raw agents over real Unix sockets and a plain gRPC peer; the pool on the
// calling thread and in a worker thread, and a standalone connection.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { EventEmitter } from 'node:events';
import { connectUdsAgent } from '../src/connection/uds-agent-client.js';
import { HeldControlEvents, MAX_HELD_CONTROL_EVENTS } from '../src/connection/held-control-events.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { encodeFrame } from '../src/protocol/frame-encoder.js';
import { MessageType } from '../src/protocol/message-type.js';
import type { HostReport } from '../src/contract/host-messages.js';
import { plainHandshakeOk, startPlainServer } from './support/grpc-plain-peer.js';
import { rawUdsAgent } from './support/raw-uds-agent.js';
import { waitFor } from './support/wait-for.js';

const HANDSHAKE_OK = {
  protocol_version: 2,
  capabilities: {
    agent_id: 'raw',
    name: 'raw',
    version: '0',
    supported_events: [1],
    features: { flow_control: true, health_reporting: true, metrics_export: true },
  },
  success: true,
  error: null,
  encoding: 'json',
};

const METRICS = { counters: [{ name: 'same_chunk_total', value: 7 }], gauges: [], histograms: [] };
const HEALTH = { agent_id: 'raw', state: 2, message: 'warming up', timestamp_ms: 1 };
const PAUSE = { correlation_id: null, action: 1, buffer_available: null, timestamp_ms: 1 };

function frame(type: number, body: unknown): Buffer {
  return encodeFrame(type, Buffer.from(JSON.stringify(body), 'utf8'));
}

/** The handshake reply followed by `extra` frames, all in one socket.write. */
function oneWrite(...extra: Buffer[]): Buffer {
  return Buffer.concat([frame(MessageType.HandshakeResponse, HANDSHAKE_OK), ...extra]);
}

/** A raw agent answering every HandshakeRequest with `bytes` in a single write. */
async function rawAgent(bytes: Buffer): Promise<string> {
  return (await rawUdsAgent('same-chunk', () => bytes)).path;
}

for (const workers of [0, 1]) {
  test(`a MetricsReport in the same read as the handshake reply is dropped: now exported (pool, workers: ${workers})`, async () => {
    const path = await rawAgent(oneWrite(frame(MessageType.MetricsReport, METRICS)));
    const pool = new AgentPool({ workers });
    after(() => pool.close());
    const reports: HostReport[] = [];
    pool.on('report', (_id, r) => reports.push(r));
    assert.equal((await pool.addAgent('raw', `unix:${path}`, { connectionsPerAgent: 1 })).ready, 1);
    await waitFor(() => reports.some((r) => r.type === 'metrics'));
    assert.match(await pool.registry.metrics(), /^same_chunk_total\{agent_id="raw"\} 7$/m);
  });

  test(
    `a MetricsReport in the same read as the handshake reply is dropped: health (0x30) and flow ` +
      `control (0x33) too (pool, workers: ${workers})`,
    async () => {
      const path = await rawAgent(oneWrite(frame(MessageType.HealthStatus, HEALTH), frame(MessageType.FlowControl, PAUSE)));
      const pool = new AgentPool({ workers });
      after(() => pool.close());
      assert.equal((await pool.addAgent('raw', `unix:${path}`, { connectionsPerAgent: 1 })).ready, 1);
      // The health report outlives the ready transition (which resets health); the PAUSE pauses the connection.
      await waitFor(() => {
        const c = pool.agentStats('raw').connections[0];
        return c?.health === 'degraded' && c.state === 'paused';
      });
    },
  );
}

test(
  'a MetricsReport in the same read as the handshake reply is dropped: a standalone connection ' + 'delivers it to its first listener',
  async () => {
    const path = await rawAgent(oneWrite(frame(MessageType.MetricsReport, METRICS), frame(MessageType.HealthStatus, HEALTH)));
    const connection = await connectUdsAgent(path, { agentId: 'raw' });
    after(() => connection.close());
    // Bounded: without the fix these events never come.
    const signal = AbortSignal.timeout(5_000);
    const metrics = once(connection, 'metrics', { signal });
    const health = once(connection, 'health', { signal });
    const [[report], [status]] = await Promise.all([metrics, health]);
    assert.equal(report.counters[0]?.name, 'same_chunk_total');
    assert.equal(status.message, 'warming up');
  },
);

test(
  'a MetricsReport in the same read as the handshake reply is dropped: gRPC metrics and health ' +
    'sent before the initial Configure is answered reach the pool',
  async () => {
    const { address } = await startPlainServer({
      onStreamMessage(call, msg) {
        if (msg['message'] === 'handshake')
          return void call.write(plainHandshakeOk('plain', { config_push: true, health_reporting: true, metrics_export: true }));
        if (msg['message'] !== 'configure') return;
        // Between the handshake and the acknowledgement of the initial Configure: nobody listens yet.
        call.write({ metrics: { agent_id: 'plain', timestamp_ms: 1, counters: [{ name: 'grpc_same_total', value: 3 }] } });
        call.write({
          health: { agent_id: 'plain', state: 2, message: 'warming up', timestamp_ms: 1, timeout_multiplier: 1, recoverable: true },
        });
        call.write({ response: { correlation_id: msg['configure']['config_version'], allow: {} } });
      },
    });
    const pool = new AgentPool({ workers: 0 });
    after(() => pool.close());
    assert.equal((await pool.addAgent('plain', `grpc://${address}`, { connectionsPerAgent: 1, config: { a: 1 } })).ready, 1);
    await waitFor(async () => /^grpc_same_total\{agent_id="plain"\} 3$/m.test(await pool.registry.metrics()));
    await waitFor(() => pool.agentStats('plain').connections[0]?.health === 'degraded');
  },
);

test('a MetricsReport in the same read as the handshake reply is dropped: the hold is bounded when nobody ever listens', async () => {
  const emitter = new EventEmitter();
  const held = new HeldControlEvents(emitter);
  for (let i = 0; i < MAX_HELD_CONTROL_EVENTS + 10; i++)
    held.emit('metrics', { counters: [], gauges: [], histograms: [], agentId: String(i), timestampMs: i } as never);
  assert.equal(held.dropped, 10);
  // The first listener gets the held ones in order, later ones directly after them.
  const seen: string[] = [];
  emitter.on('metrics', (m: { agentId: string }) => seen.push(m.agentId));
  held.emit('metrics', { agentId: 'late' } as never);
  await waitFor(() => seen.length === MAX_HELD_CONTROL_EVENTS + 1);
  assert.deepEqual(seen, [...Array.from({ length: MAX_HELD_CONTROL_EVENTS }, (_, i) => String(i)), 'late']);
});
