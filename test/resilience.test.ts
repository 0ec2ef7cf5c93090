// Control plane inside the pool, against real agents on Unix sockets: circuit breaker, failure
// mode, agent-reported health, flow control, config push, agent config-update requests, drain.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AgentServer } from '../src/agent/agent-server.js';
import type { AgentHandler } from '../src/agent/handler.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import type { HealthStatus } from '../src/protocol/types.js';
import { requestHeaders, sampleDomainEvent } from './support/events.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

async function startAgent(handler: AgentHandler): Promise<{ path: string; server: AgentServer }> {
  const path = socketPath();
  const server = new AgentServer({ agentId: 'r-agent', handler });
  await server.listen(path);
  after(() => server.close());
  return { path, server };
}

function newPool(config: ConstructorParameters<typeof AgentPool>[0]): AgentPool {
  const pool = new AgentPool(config);
  after(() => pool.destroy());
  return pool;
}

function health(state: HealthStatus['state'], extra: Partial<HealthStatus> = {}): HealthStatus {
  return {
    agentId: 'r-agent',
    state,
    message: null,
    load: null,
    resources: null,
    validUntilMs: null,
    timestampMs: Date.now(),
    disabledFeatures: [],
    timeoutMultiplier: 1,
    drainEtaMs: null,
    unhealthyReason: null,
    recoverable: true,
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('circuit breaker in the pool', () => {
  test('5 timeouts open it; open rejects without I/O; after openDurationMs probes close it again', async () => {
    const seen: string[] = [];
    let slow = true;
    const { path } = await startAgent({
      onRequestHeaders: (e) => {
        seen.push(e.metadata.correlationId);
        return slow && e.uri !== '/marker' ? new Promise(() => {}) : {};
      },
    });
    const pool = newPool({
      workers: 0,
      circuitBreaker: { failureThreshold: 5, successThreshold: 2, openDurationMs: 150, halfOpenMaxRequests: 1 },
    });
    const states: number[] = [];
    let openedAt = 0;
    pool.on('circuit-state', (_id, s) => {
      states.push(s);
      if (s === 1) openedAt = Date.now();
    });
    await pool.addAgent('cb', `unix:${path}`);
    const dispatched = () => pool.agentStats('cb').connections.reduce((n, c) => n + c.dispatched, 0);
    for (let i = 0; i < 5; i++)
      await assert.rejects(pool.sendRequestHeaders('cb', `t${i}`, requestHeaders(`t${i}`), { timeoutMs: 20 }), { code: 'ZAP_TIMEOUT' });
    assert.equal(pool.circuitState('cb'), 1);
    await assert.rejects(pool.sendRequestHeaders('cb', 'x', requestHeaders('x')), { code: 'ZAP_CIRCUIT_OPEN' });
    assert.equal(dispatched(), 5, 'the rejected call was given to no connection');
    slow = false;
    // The breaker's clock: open_duration has passed since it opened (it goes half-open on the next admit).
    await waitFor(() => Date.now() - openedAt > 150);
    const probe = pool.sendRequestHeaders('cb', 'p1', requestHeaders('p1'));
    await assert.rejects(pool.sendRequestHeaders('cb', 'p2', requestHeaders('p2')), { code: 'ZAP_CIRCUIT_OPEN' });
    await probe;
    assert.equal(pool.circuitState('cb'), 2);
    await pool.sendRequestHeaders('cb', 'p3', requestHeaders('p3'));
    assert.equal(pool.circuitState('cb'), 0);
    assert.deepEqual(states, [1, 2, 0]);
    // Positive marker: one call per connection (round-robin), written after anything the pool sent;
    // once all four are answered, every event written before them has reached the agent.
    await Promise.all(['m1', 'm2', 'm3', 'm4'].map((cid) => pool.sendRequestHeaders('cb', cid, requestHeaders(cid, '/marker'))));
    assert.deepEqual(
      new Set(pool.agentStats('cb').connections.map((c) => c.dispatched > 0)),
      new Set([true]),
      'the markers covered every connection',
    );
    assert.deepEqual(
      seen.filter((cid) => cid === 'x' || cid === 'p2'),
      [],
      'no event reached the agent while open',
    );
  });

  test('failureMode open: an unavailable agent yields a synthetic Allow, counted', async () => {
    const pool = newPool({ workers: 0, failureMode: 'open' });
    await pool.addAgent('gone', `unix:${socketPath('gone')}`);
    const reply = await pool.sendRequestHeaders('gone', 'c', requestHeaders('c'));
    assert.equal(reply.decision.type, 'allow');
    assert.equal(reply.synthetic, true);
    assert.equal(pool.agentStats('gone').failOpenAllows, 1);
  });
});

describe('agent-reported health', () => {
  test('draining and unhealthy connections are not picked; healthy clears it; valid_until lapses', async () => {
    const { path, server } = await startAgent({});
    const pool = newPool({ workers: 0 });
    await pool.addAgent('h', `unix:${path}`);
    assert.equal(pool.agentStats('h').healthyConnections, 4);
    server.reportHealth(health(3, { drainEtaMs: 1000 }));
    await waitFor(() => pool.agentStats('h').healthyConnections === 0);
    await assert.rejects(pool.sendRequestHeaders('h', 'c1', requestHeaders('c1')), { code: 'ZAP_NO_HEALTHY_CONNECTION' });
    server.reportHealth(health(1));
    await waitFor(() => pool.agentStats('h').healthyConnections === 4);
    server.reportHealth(health(4, { validUntilMs: Date.now() + 100 }));
    await waitFor(() => pool.agentStats('h').healthyConnections === 0);
    assert.ok(pool.agentStats('h').connections.every((c) => c.health === 'unhealthy'));
  });

  test('degraded: the effective timeout is multiplied; disabled features are respected', async () => {
    const { path, server } = await startAgent({ onRequestHeaders: () => sleep(60).then(() => ({})) });
    const pool = newPool({ workers: 0 });
    await pool.addAgent('d', `unix:${path}`);
    await assert.rejects(pool.sendRequestHeaders('d', 'a', requestHeaders('a'), { timeoutMs: 40 }), { code: 'ZAP_TIMEOUT' });
    server.reportHealth(health(2, { timeoutMultiplier: 3, disabledFeatures: ['guardrails'] }));
    await waitFor(() => pool.agentStats('d').connections.every((c) => c.health === 'degraded'));
    const ok = await pool.sendRequestHeaders('d', 'b', requestHeaders('b'), { timeoutMs: 40 });
    assert.equal(ok.decision.type, 'allow');
    await assert.rejects(
      pool.sendGuardrailInspect('d', 'g', sampleDomainEvent('guardrail_inspect', 'g')),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ZAP_NO_HEALTHY_CONNECTION');
        assert.match(err.message, /guardrails/);
        return true;
      },
    );
  });

  test('unhealthy and not recoverable: the connection is replaced', async () => {
    const { path, server } = await startAgent({});
    const pool = newPool({ workers: 0, connectionsPerAgent: 1, reconnectInitialBackoffMs: 10 });
    await pool.addAgent('u', `unix:${path}`);
    const firstId = pool.agentStats('u').connections[0]!.id;
    let reconnected = false;
    pool.on('report', (_id, r) => {
      if (r.type === 'state' && r.state === 'backoff') reconnected = true;
    });
    server.reportHealth(health(4, { recoverable: false, unhealthyReason: 'db down' }));
    await waitFor(() => reconnected && pool.agentStats('u').healthyConnections === 1);
    assert.equal(pool.agentStats('u').connections[0]!.id, firstId);
    const ok = await pool.sendRequestHeaders('u', 'after', requestHeaders('after'));
    assert.equal(ok.decision.type, 'allow');
  });
});

describe('flow control', () => {
  const pause = { correlationId: null, action: 1 as const, bufferAvailable: null, timestampMs: 0 };
  const resume = { correlationId: null, action: 2 as const, bufferAvailable: null, timestampMs: 0 };

  test('fail-closed rejects with ZAP_FLOW_PAUSED; response headers still go through', async () => {
    const { path, server } = await startAgent({});
    const pool = newPool({ workers: 0 });
    await pool.addAgent('f', `unix:${path}`);
    server.sendFlowControl(pause);
    await waitFor(() => pool.agentStats('f').connections.every((c) => c.state === 'paused'));
    await assert.rejects(pool.sendRequestHeaders('f', 'c', requestHeaders('c')), {
      code: 'ZAP_FLOW_PAUSED',
      message: "Flow control paused: agent 'f' requested backpressure",
    });
    const rh = await pool.sendResponseHeaders('f', 'c2', sampleDomainEvent('response_headers', 'c2'));
    assert.equal(rh.decision.type, 'allow');
    assert.equal(pool.agentStats('f').flowRejections, 1);
  });

  test('fail-open answers with a synthetic Allow without I/O', async () => {
    let seen = 0;
    const { path, server } = await startAgent({ onRequestHeaders: () => void seen++ });
    const pool = newPool({ workers: 0, flowControlMode: 'fail-open' });
    await pool.addAgent('fo', `unix:${path}`);
    server.sendFlowControl(pause);
    await waitFor(() => pool.agentStats('fo').connections.every((c) => c.state === 'paused'));
    const r = await pool.sendRequestHeaders('fo', 'c', requestHeaders('c'));
    assert.equal(r.synthetic, true);
    assert.equal(seen, 0);
  });

  test('wait-and-retry: resume within the wait releases held calls in order', async () => {
    const order: string[] = [];
    const { path, server } = await startAgent({
      onRequestHeaders: (e) => void order.push(e.metadata.correlationId),
      onResponseHeaders: (e) => void order.push(e.correlationId),
    });
    const pool = newPool({ workers: 0, connectionsPerAgent: 1, flowControlMode: 'wait-and-retry', flowControlWaitTimeoutMs: 2_000 });
    await pool.addAgent('w', `unix:${path}`);
    server.sendFlowControl(pause);
    await waitFor(() => pool.agentStats('w').connections.every((c) => c.state === 'paused'));
    const calls = ['a', 'b', 'c'].map((cid) => pool.sendRequestHeaders('w', cid, requestHeaders(cid)));
    // Positive marker: response headers are not held by a pause; on the one connection, once the
    // agent has them, anything written before them has arrived too.
    await pool.sendResponseHeaders('w', 'marker', sampleDomainEvent('response_headers', 'marker'));
    assert.deepEqual(order, ['marker'], 'nothing held was sent while paused');
    server.sendFlowControl(resume);
    await Promise.all(calls);
    assert.deepEqual(order, ['marker', 'a', 'b', 'c']);
  });

  test('wait-and-retry still paused after the wait → ZAP_FLOW_PAUSED', async () => {
    const { path, server } = await startAgent({});
    const pool = newPool({ workers: 0, flowControlMode: 'wait-and-retry', flowControlWaitTimeoutMs: 50 });
    await pool.addAgent('w2', `unix:${path}`);
    server.sendFlowControl(pause);
    await waitFor(() => pool.agentStats('w2').connections.every((c) => c.state === 'paused'));
    await assert.rejects(pool.sendRequestHeaders('w2', 'c', requestHeaders('c')), { code: 'ZAP_FLOW_PAUSED' });
  });

  test('a per-request pause holds only that cid', async () => {
    const { path, server } = await startAgent({});
    const pool = newPool({ workers: 0 });
    await pool.addAgent('pc', `unix:${path}`);
    await pool.sendRequestHeaders('pc', 'r1', requestHeaders('r1'));
    const paused = new Promise<void>((resolve) => pool.on('report', (_id, r) => r.type === 'flow-control' && resolve()));
    server.sendFlowControl({ ...pause, correlationId: 'r1' });
    await paused;
    await assert.rejects(pool.sendRequestBodyChunk('pc', 'r1', sampleDomainEvent('request_body_chunk', 'r1')), { code: 'ZAP_FLOW_PAUSED' });
    const other = await pool.sendRequestHeaders('pc', 'r2', requestHeaders('r2'));
    assert.equal(other.decision.type, 'allow');
    pool.endRequest('r1');
    const again = await pool.sendRequestBodyChunk('pc', 'r1', sampleDomainEvent('request_body_chunk', 'r1'));
    assert.equal(again.decision.type, 'allow');
  });
});

describe('configuration', () => {
  test('initial config on connect; pushConfig acknowledged on every connection', async () => {
    const received: Array<{ initial: boolean; config: unknown; version: string | null }> = [];
    const { path } = await startAgent({
      onConfigure: (e) => void received.push({ initial: e.isInitial, config: e.config, version: e.configVersion }),
    });
    const pool = newPool({ workers: 1, connectionsPerAgent: 2 });
    await pool.addAgent('c', `unix:${path}`, { config: { level: 1 } });
    assert.equal(received.filter((r) => r.initial).length, 2);
    const [pushId] = pool.pushConfig('c', { level: 2 }, 'v2');
    await waitFor(() => pool.pushStatus(pushId!)?.state === 'acknowledged');
    assert.deepEqual(
      received.filter((r) => !r.initial),
      [
        { initial: false, config: { level: 2 }, version: 'v2' },
        { initial: false, config: { level: 2 }, version: 'v2' },
      ],
    );
  });

  test('a push without acknowledgement is resent, then fails; a newer push expires an older one', async () => {
    let configures = 0;
    const { path } = await startAgent({ onConfigure: (e) => (e.isInitial ? {} : (configures++, new Promise(() => {}))) });
    const pool = newPool({ workers: 0, connectionsPerAgent: 1, pushTimings: { ackTimeoutMs: 30, retryDelayMs: 10, maxResends: 2 } });
    await pool.addAgent('nr', `unix:${path}`);
    const [first] = pool.pushConfig('nr', { a: 1 });
    await waitFor(() => pool.pushStatus(first!)?.state === 'failed');
    // The third Configure left 30 ms before the push failed; the agent may read it just after.
    await waitFor(() => configures >= 3);
    assert.equal(configures, 3);
    assert.match(pool.pushStatus(first!)!.error ?? '', /no acknowledgement/);
    const [second] = pool.pushConfig('nr', { a: 2 });
    const [third] = pool.pushConfig('nr', { a: 3 });
    assert.equal(pool.pushStatus(second!)?.state, 'expired');
    assert.match(pool.pushStatus(second!)!.error ?? '', new RegExp(`superseded by ${third}`));
    assert.notEqual(pool.pushStatus(third!)?.state, 'expired');
  });

  test('a rejected push fails; a push with no ready connection stays pending until one is ready', async () => {
    const { path } = await startAgent({
      onConfigure: (e) =>
        (e.config as { ok: boolean }).ok ? {} : { decision: { type: 'block', status: 500, body: 'Configuration rejected', headers: null } },
    });
    const pool = newPool({ workers: 0, connectionsPerAgent: 1 });
    await pool.addAgent('rj', `unix:${path}`);
    const [bad] = pool.pushConfig('rj', { ok: false });
    await waitFor(() => pool.pushStatus(bad!)?.state === 'failed');
    assert.match(pool.pushStatus(bad!)!.error ?? '', /Configuration rejected/);

    const later = socketPath('later');
    await pool.addAgent('late', `unix:${later}`, { reconnectInitialBackoffMs: 20, reconnectMaxBackoffMs: 40 });
    const [pending] = pool.pushConfig('late', { ok: true });
    assert.equal(pool.pushStatus(pending!)?.state, 'pending');
    const server = new AgentServer({ agentId: 'late', handler: {} });
    await server.listen(later);
    after(() => server.close());
    await waitFor(() => pool.pushStatus(pending!)?.state === 'acknowledged');
  });

  test('gRPC agents without config_push: a push is fire-and-forget and ends Sent', async () => {
    const seen: unknown[] = [];
    const server = new AgentServer({
      agentId: 'g',
      capabilities: { features: { configPush: false } },
      handler: { onConfigure: (e) => void seen.push(e.config) },
    });
    const endpoint = await server.listen('127.0.0.1:0');
    after(() => server.close());
    const pool = newPool({ workers: 0, connectionsPerAgent: 1 });
    await pool.addAgent('g', endpoint);
    const [pushId] = pool.pushConfig('g', { level: 3 });
    // The target is Sent once grpc-js has taken the Configure (the record itself says 'sent' from the start).
    await waitFor(() => pool.pushStatus(pushId!)?.targets[0]?.state !== 'sending');
    assert.equal(pool.pushStatus(pushId!)!.state, 'sent');
    assert.deepEqual(
      pool.pushStatus(pushId!)!.targets.map((t) => t.state),
      ['sent'],
    );
    await waitFor(() => seen.length === 1);
    assert.deepEqual(seen, [{ level: 3 }]);
  });

  test('agent config-update requests go to the callback; without one the §7.6 defaults apply', async () => {
    const { path, server } = await startAgent({});
    const seen: Array<[string, boolean, string | null]> = [];
    const pool = newPool({ workers: 0, onConfigUpdate: (_id, req) => ({ accepted: req.updateType.type === 'list_update', error: null }) });
    pool.on('config-update', (id, req, res) => seen.push([id, res.accepted, req.requestId]));
    await pool.addAgent('cu', `unix:${path}`, { connectionsPerAgent: 1 });
    server.requestConfigUpdate({
      requestId: 'cu-1',
      timestampMs: 1,
      updateType: { type: 'list_update', listId: 'ips', add: ['198.51.100.7'], remove: [] },
    });
    server.requestConfigUpdate({
      requestId: 'cu-2',
      timestampMs: 2,
      updateType: { type: 'rule_update', ruleSet: 'x', rules: [], removeRules: [] },
    });
    await waitFor(() => seen.length === 2);
    assert.deepEqual(seen, [
      ['cu', true, 'cu-1'],
      ['cu', false, 'cu-2'],
    ]);
  });
});

describe('drain', () => {
  test('drainAgent waits for in-flight calls, refuses new ones, and closes the connections', async () => {
    let got = 0;
    const { path } = await startAgent({ onRequestHeaders: () => (got++, sleep(80).then(() => ({}))) });
    const pool = newPool({ workers: 0 });
    await pool.addAgent('dr', `unix:${path}`);
    const inflight = Array.from({ length: 8 }, (_, i) => pool.sendRequestHeaders('dr', `i${i}`, requestHeaders(`i${i}`)));
    await waitFor(() => got === 8);
    const drained = pool.drainAgent('dr');
    await assert.rejects(pool.sendRequestHeaders('dr', 'new', requestHeaders('new')), { code: 'ZAP_NO_HEALTHY_CONNECTION' });
    const results = await Promise.allSettled(inflight);
    assert.ok(results.every((r) => r.status === 'fulfilled'));
    await drained;
    await waitFor(() => pool.agentStats('dr').activeConnections === 0);
  });
});
