// The AgentPool with a gRPC agent, workers 0 and 1: every event kind, decisions identical to the
// same scenario over UDS, cancel and timeout through the pool, health reports, one HTTP/2
// connection per pool connection, the agent's config delivered on connect.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AgentServer } from '../src/agent/agent-server.js';
import type { GrpcAgentStream } from '../src/agent/grpc-agent-stream.js';
import type { AgentHandler } from '../src/agent/handler.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import type { HostReport } from '../src/contract/host-messages.js';
import type { AgentResponse } from '../src/protocol/types.js';
import { ALL_EVENT_KINDS, requestHeaders, sampleDomainEvent } from './support/events.js';
import { waitFor } from './support/grpc-agents.js';
import { socketPath } from './support/tmp.js';

/** A handler whose answers use only what both transports carry (no routing metadata, mutations, WS decisions). */
const scenario: AgentHandler = {
  onRequestHeaders: (e) => {
    if (e.uri.includes('evil'))
      return { decision: { type: 'block', status: 403, body: 'no', headers: { 'x-why': 'evil' } }, audit: { ruleIds: ['942100'] } };
    if (e.uri === '/login') return { decision: { type: 'redirect', url: 'https://sso.example/', status: 302 } };
    if (e.uri === '/bot') return { decision: { type: 'challenge', challengeType: 'captcha', params: { k: 'v' } } };
    return { requestHeaders: [{ op: 'set', name: 'x-uri', value: e.uri }], audit: { tags: ['seen'] } };
  },
  onRequestBodyChunk: (e) => ({ needsMore: !e.isLast, audit: { tags: [`chunk-${e.chunkIndex}`] } }),
  onResponseHeaders: (e) => ({
    responseHeaders: [
      { op: 'remove', name: 'server' },
      { op: 'add', name: 'x-status', value: String(e.status) },
    ],
  }),
  onResponseBodyChunk: () => ({}),
  onRequestComplete: (e) => ({ audit: { reasonCodes: [String(e.status)] } }),
  onWebSocketFrame: () => ({}),
  onGuardrailInspect: (e) =>
    e.content.includes('Ignore') ? { decision: { type: 'block', status: 400, body: 'injection', headers: null } } : {},
  onConfigure: () => ({}),
};

async function startBoth(handler: AgentHandler): Promise<{ uds: string; grpc: string; server: AgentServer; streams: GrpcAgentStream[] }> {
  const server = new AgentServer({ agentId: 'both', handler });
  const streams: GrpcAgentStream[] = [];
  server.on('connection', (c: { transport?: string }) => {
    if (c.transport === 'grpc') streams.push(c as GrpcAgentStream);
  });
  const uds = await server.listen(`unix:${socketPath('both')}`);
  const grpc = await server.listen('127.0.0.1:0');
  after(() => server.close());
  return { uds, grpc, server, streams };
}

/** With workers, every connection on a worker (no light-load one): the workers cases cover the thread hop. */
function newPool(workers: number, extra: ConstructorParameters<typeof AgentPool>[0] = {}): AgentPool {
  const pool = new AgentPool({ workers, inlineBelowInFlight: 0, ...extra });
  after(() => pool.destroy());
  return pool;
}

/** What must be equal across transports (the cid echo and UDS-only fields are not). */
function decisionOf(r: AgentResponse): string {
  return JSON.stringify([r.decision, r.requestHeaders, r.responseHeaders, r.needsMore, r.audit.tags, r.audit.ruleIds, r.audit.reasonCodes]);
}

async function runScenario(pool: AgentPool, agentId: string): Promise<string[]> {
  const out: string[] = [];
  for (const kind of ALL_EVENT_KINDS) {
    if (kind === 'configure') continue; // a push, not an event the caller sends
    out.push(decisionOf(await pool.send(agentId, kind, `${kind}-1`, sampleDomainEvent(kind, `${kind}-1`) as never)));
  }
  for (const uri of ['/a', '/evil', '/login', '/bot'])
    out.push(decisionOf(await pool.sendRequestHeaders(agentId, uri, requestHeaders(uri, uri))));
  const chunk = sampleDomainEvent('request_body_chunk', 'multi');
  out.push(decisionOf(await pool.sendRequestBodyChunk(agentId, 'multi', { ...chunk, isLast: false })));
  out.push(decisionOf(await pool.sendRequestBodyChunk(agentId, 'multi', { ...chunk, chunkIndex: 1 })));
  return out;
}

describe('AgentPool with a gRPC agent', () => {
  for (const workers of [0, 1]) {
    test(`workers ${workers}: the same scenario over UDS and gRPC gives identical decisions`, async () => {
      const { uds, grpc } = await startBoth(scenario);
      const pool = newPool(workers);
      assert.deepEqual(await pool.addAgent('u', uds), { ready: 4, errors: [] });
      assert.deepEqual(await pool.addAgent('g', grpc), { ready: 4, errors: [] });
      assert.deepEqual(
        pool.agentStats('g').connections.map((c) => c.encoding),
        ['protobuf', 'protobuf', 'protobuf', 'protobuf'],
      );
      const viaUds = await runScenario(pool, 'u');
      const viaGrpc = await runScenario(pool, 'g');
      assert.deepEqual(viaGrpc, viaUds);
      assert.match(viaGrpc.join('\n'), /"block".*"redirect".*"challenge"/s);
      assert.equal(pool.agentCapabilities('g')?.agentId, 'both');
    });
  }

  test('workers 1 with the light-load connection: one call at a time runs on the calling thread, with the same decisions', async () => {
    const { uds, grpc } = await startBoth(scenario);
    const pool = newPool(1, { inlineBelowInFlight: 1 });
    assert.deepEqual(await pool.addAgent('u', uds), { ready: 4, errors: [] });
    assert.deepEqual(await pool.addAgent('g', grpc), { ready: 4, errors: [] });
    const viaUds = await runScenario(pool, 'u');
    const viaGrpc = await runScenario(pool, 'g');
    assert.deepEqual(viaGrpc, viaUds);
    const g = pool.agentStats('g').connections;
    assert.deepEqual(
      g.map((c) => c.inline),
      [true, false, false, false],
    );
    assert.deepEqual(
      g.map((c) => c.dispatched > 0),
      [true, false, false, false],
      'every call of the sequential scenario went to the calling thread',
    );
  });

  test('workers 1: 256 concurrent requests, abort and timeout send CancelRequest on the carrying stream', async () => {
    const cancelled: string[] = [];
    const hung: string[] = [];
    const { grpc } = await startBoth({
      onRequestHeaders: (e, ctx) =>
        e.uri === '/hang'
          ? new Promise((resolve) => {
              // The abort waits for this: a call withdrawn before it was written sends no Cancel.
              hung.push(ctx.correlationId);
              ctx.signal.addEventListener(
                'abort',
                () => (cancelled.push(`${ctx.correlationId}:${String(ctx.signal.reason)}`), resolve({})),
              );
            })
          : { requestHeaders: [{ op: 'set', name: 'x-cid', value: ctx.correlationId }] },
    });
    const pool = newPool(1);
    await pool.addAgent('g', grpc);
    const replies = await Promise.all(
      Array.from({ length: 256 }, (_, i) => pool.sendRequestHeaders('g', `c${i}`, requestHeaders(`c${i}`))),
    );
    replies.forEach((r, i) => assert.deepEqual(r.requestHeaders, [{ op: 'set', name: 'x-cid', value: `c${i}` }]));
    const ac = new AbortController();
    const aborted = pool.sendRequestHeaders('g', 'x1', requestHeaders('x1', '/hang'), {
      signal: ac.signal,
      cancelReason: 'upstream_error',
    });
    await waitFor(() => hung.includes('x1'));
    ac.abort();
    await assert.rejects(aborted, { code: 'ABORT_ERR' });
    // Long enough for the worker to write the event on a stalled machine (a timeout before that
    // withdraws it unsent, and no Cancel goes out).
    await assert.rejects(pool.sendRequestHeaders('g', 'x2', requestHeaders('x2', '/hang'), { timeoutMs: 500 }), { code: 'ZAP_TIMEOUT' });
    await waitFor(() => cancelled.length === 2);
    assert.deepEqual(cancelled.sort(), ['x1:upstream_error', 'x2:timeout']);
    assert.equal(pool.stats().inFlight, 0);
  });

  test('workers 0: each pool connection is its own HTTP/2 connection; config and health reports flow', async () => {
    const configs: unknown[] = [];
    const { grpc, server, streams } = await startBoth({ onConfigure: (e) => void configs.push([e.config, e.isInitial]) });
    const pool = newPool(0);
    const reports: HostReport[] = [];
    pool.on('report', (_id, r) => reports.push(r));
    assert.deepEqual(await pool.addAgent('g', grpc, { config: { mode: 'block' } }), { ready: 4, errors: [] });
    await waitFor(() => streams.length === 4);
    assert.equal(new Set(streams.map((s) => s.peer)).size, 4);
    assert.deepEqual(configs, Array(4).fill([{ mode: 'block' }, true]));
    server.reportHealth({
      agentId: 'both',
      state: 1,
      message: null,
      load: null,
      resources: null,
      validUntilMs: null,
      timestampMs: Date.now(),
      disabledFeatures: [],
      timeoutMultiplier: 1,
      drainEtaMs: null,
      unhealthyReason: null,
      recoverable: false,
    });
    await waitFor(() => reports.filter((r) => r.type === 'health').length === 4);
  });

  test('workers 1: an agent that goes away: calls fail fast, the pool reconnects when it is back', async () => {
    const first = new AgentServer({ agentId: 'flaky', handler: {} });
    const endpoint = await first.listen('127.0.0.1:0');
    const pool = newPool(1, { reconnectInitialBackoffMs: 20, reconnectMaxBackoffMs: 100, connectionsPerAgent: 2 });
    await pool.addAgent('f', endpoint);
    await first.close();
    await waitFor(() => pool.agentStats('f').healthyConnections === 0);
    await assert.rejects(pool.sendRequestHeaders('f', 'down', requestHeaders('down')), { code: 'ZAP_NO_HEALTHY_CONNECTION' });
    const second = new AgentServer({ agentId: 'flaky', handler: {} });
    await second.listen(endpoint.replace('grpc://', ''));
    after(() => second.close());
    await waitFor(() => pool.agentStats('f').healthyConnections === 2, 10_000);
    assert.equal((await pool.sendRequestHeaders('f', 'up', requestHeaders('up'))).decision.type, 'allow');
  });
});
