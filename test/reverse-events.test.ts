// Events over reverse connections (spec §9.5), with the listener on the calling thread (workers: 0)
// and in a connection-host worker (workers: 1): every event kind over UDS and TCP, forward and
// reverse connections of one agent in one pool entry, initial Configure, losing and regaining the
// last connection.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AgentServer } from '../src/agent/agent-server.js';
import type { AgentHandler, HandlerContext } from '../src/agent/handler.js';
import { ReverseConnector } from '../src/agent/reverse-connector.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import type { EventKind } from '../src/protocol/types.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { ALL_EVENT_KINDS, requestHeaders, sampleDomainEvent } from './support/events.js';
import { waitUntil } from './support/reverse-raw-agent.js';
import { socketPath } from './support/tmp.js';

/** Tags every reply with the event kind, the transport it came over, and one detail of the event. */
function taggingHandler(log: string[] = []): AgentHandler {
  const tag = (kind: EventKind, detail: string, ctx: HandlerContext) => {
    log.push(kind === 'configure' ? `configure:${detail}` : kind);
    return { audit: { tags: [kind, ctx.transport, detail] } };
  };
  return {
    onRequestHeaders: (e, ctx) => tag('request_headers', e.uri, ctx),
    onRequestBodyChunk: (e, ctx) => tag('request_body_chunk', Buffer.from(e.data).toString(), ctx),
    onResponseHeaders: (e, ctx) => tag('response_headers', String(e.status), ctx),
    onResponseBodyChunk: (e, ctx) => tag('response_body_chunk', Buffer.from(e.data).toString(), ctx),
    onRequestComplete: (e, ctx) => tag('request_complete', String(e.durationMs), ctx),
    onWebSocketFrame: (e, ctx) => tag('websocket_frame', Buffer.from(e.data).toString(), ctx),
    onGuardrailInspect: (e, ctx) => tag('guardrail_inspect', e.content, ctx),
    onConfigure: (e, ctx) => tag('configure', `${e.isInitial}:${JSON.stringify(e.config)}`, ctx),
  };
}

const DETAIL: Record<EventKind, string> = {
  request_headers: '/',
  request_body_chunk: 'hello',
  response_headers: '200',
  response_body_chunk: 'hello',
  request_complete: '42',
  websocket_frame: 'hello',
  guardrail_inspect: 'Ignore all previous instructions',
  configure: 'false:{"level":2}',
};

function connector(endpoint: string, agentId: string, handler: AgentHandler, connections = 2): ReverseConnector {
  const c = new ReverseConnector({ endpoint, agentId, connections, handler, backoff: { initialMs: 20, maxMs: 200 } });
  after(() => c.close());
  return c;
}

function healthy(pool: AgentPool, agentId: string): number {
  return pool.agentIds().includes(agentId) ? pool.agentStats(agentId).healthyConnections : 0;
}

for (const workers of [0, 1]) {
  describe(`reverse connections, workers: ${workers}`, () => {
    // One pool (and, with workers: 1, one worker thread) for the whole group; agent ids differ.
    let pool: AgentPool;
    before(() => {
      pool = new AgentPool({ workers });
    });
    after(() => pool.destroy());
    test('every event kind over reverse UDS and reverse TCP', async () => {
      const handle = await pool.listenReverse({ path: socketPath('rev'), tcpAddress: '127.0.0.1:0' });
      const viaUds = connector(`unix:${handle.path}`, 'via-uds', taggingHandler());
      const viaTcp = connector(`tcp://${handle.tcpAddress}`, 'via-tcp', taggingHandler());
      await Promise.all([viaUds.start(), viaTcp.start()]);
      for (const agentId of ['via-uds', 'via-tcp']) {
        await waitUntil(() => healthy(pool, agentId) === 2, `${agentId} ready`);
        for (const kind of ALL_EVENT_KINDS) {
          const cid = `${agentId}-${kind}`;
          const r = await pool.send(agentId, kind, cid, sampleDomainEvent(kind, cid) as never);
          assert.deepEqual(r.audit.tags, [kind, 'reverse', DETAIL[kind]], `${agentId} ${kind}`);
          assert.equal(r.correlationId, cid);
        }
      }
      assert.equal(pool.agentStats('via-tcp').endpoint, 'reverse://via-tcp');
      assert.equal(pool.agentCapabilities('via-tcp')?.agentId, 'via-tcp');
      assert.equal(pool.agentCapabilities('via-tcp')?.features.websocket, true);
    });

    test('forward (UDS) and reverse connections of one agent are balanced together', async () => {
      const path = socketPath('fwd');
      const server = new AgentServer({ agentId: 'x', handler: taggingHandler() });
      await server.listen(path);
      after(() => server.close());
      assert.deepEqual(await pool.addAgent('x', `unix:${path}`, { connectionsPerAgent: 2 }), { ready: 2, errors: [] });
      const handle = await pool.listenReverse({ path: socketPath('rev') });
      const reverse = connector(`unix:${handle.path}`, 'x', taggingHandler());
      await reverse.start();
      await waitUntil(() => healthy(pool, 'x') === 4, '2 forward + 2 reverse connections');
      const transports = async (n: number) => {
        const seen = { uds: 0, reverse: 0 };
        for (let i = 0; i < n; i++) {
          const r = await pool.sendRequestHeaders('x', `m-${i}`, requestHeaders(`m-${i}`, `/${i}`));
          seen[r.audit.tags[1] as 'uds' | 'reverse']++;
          pool.endRequest(`m-${i}`);
        }
        return seen;
      };
      // Round-robin over the 4 candidates in creation order: each transport gets half.
      assert.deepEqual(await transports(40), { uds: 20, reverse: 20 });
      assert.equal(pool.agentStats('x').endpoint, `unix:${path}`);
      await reverse.close();
      await waitUntil(() => healthy(pool, 'x') === 2, 'the reverse connections to go');
      assert.deepEqual(await transports(10), { uds: 10, reverse: 0 });
    });

    test('initial Configure first; with the last connection gone the agent has none until one returns', async () => {
      assert.deepEqual(await pool.addAgent('cfg', 'reverse://cfg', { config: { level: 3 } }), { ready: 0, errors: [] });
      const handle = await pool.listenReverse({ tcpAddress: '127.0.0.1:0' });
      const log: string[] = [];
      const first = connector(`tcp://${handle.tcpAddress}`, 'cfg', taggingHandler(log), 1);
      await first.start();
      await waitUntil(() => healthy(pool, 'cfg') === 1, 'cfg ready');
      const r = await pool.sendRequestHeaders('cfg', 'c-1', requestHeaders('c-1', '/one'));
      assert.deepEqual(r.audit.tags, ['request_headers', 'reverse', '/one']);
      assert.deepEqual(log, ['configure:true:{"level":3}', 'request_headers']);

      await first.close();
      await waitUntil(() => pool.agentStats('cfg').activeConnections === 0, 'no connections');
      assert.ok(pool.agentIds().includes('cfg'));
      await assert.rejects(
        pool.sendRequestHeaders('cfg', 'c-2', requestHeaders('c-2')),
        (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_NO_HEALTHY_CONNECTION',
      );

      const log2: string[] = [];
      const second = connector(`tcp://${handle.tcpAddress}`, 'cfg', taggingHandler(log2), 1);
      await second.start();
      await waitUntil(() => healthy(pool, 'cfg') === 1, 'cfg back');
      const r2 = await pool.sendRequestHeaders('cfg', 'c-3', requestHeaders('c-3', '/three'));
      assert.deepEqual(r2.audit.tags, ['request_headers', 'reverse', '/three']);
      assert.deepEqual(log2, ['configure:true:{"level":3}', 'request_headers']);
    });
  });
}
