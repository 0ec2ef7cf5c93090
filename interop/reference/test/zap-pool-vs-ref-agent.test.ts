// zap's AgentPool against the reference crate's own agent servers (ref-agent: UdsAgentServerV2 and
// GrpcAgentServerV2 with a handler mirroring our echo example). Checks, per transport, encoding and
// worker count: the handshake, every decision, every header op applied, body chunks, response
// headers, response body chunks and request_complete answered, and cancels of requests the agent
// really holds accepted (the agent logs them; the connection keeps serving).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentPool } from '../../../src/pool/agent-pool.js';
import { applyHeaderOps } from '../../../src/protocol/header-ops.js';
import type { AgentResponse, EncodingSetting } from '../../../src/protocol/types.js';
import { requestHeaders, sampleDomainEvent } from '../../../test/support/events.js';
import { socketPath } from '../../../test/support/tmp.js';
import { waitFor } from '../../../test/support/wait-for.js';
import { startRefAgent, type RefProcess } from './support/ref-peers.js';

const REQUESTS = 24;
const isBlocked = (i: number) => i % 4 === 3;

/** Headers of request i after the agent's ops, as a proxy would forward them. */
function forwarded(reply: AgentResponse, i: number): Record<string, string[]> {
  return applyHeaderOps({ host: ['shop.example'], 'x-seq': [String(i)] }, reply.requestHeaders);
}

async function fullRequest(pool: AgentPool, i: number): Promise<void> {
  const cid = `z-${i}`;
  const uri = isBlocked(i) ? `/blocked/${i}` : `/item/${i}`;
  const reply = await pool.sendRequestHeaders('ref', cid, requestHeaders(cid, uri, { 'x-seq': [String(i)] }));
  if (isBlocked(i)) {
    assert.deepEqual(reply.decision, { type: 'block', status: 403, body: 'blocked by ref-agent', headers: null }, cid);
    pool.endRequest(cid);
    return;
  }
  assert.equal(reply.decision.type, 'allow', cid);
  assert.deepEqual(reply.requestHeaders, [{ op: 'set', name: 'x-agent-echo', value: `GET ${uri}` }], cid);
  assert.deepEqual(forwarded(reply, i), { host: ['shop.example'], 'x-seq': [String(i)], 'x-agent-echo': [`GET ${uri}`] }, cid);
  for (const kind of ['request_body_chunk', 'response_headers', 'response_body_chunk', 'request_complete'] as const) {
    const r = await pool.send('ref', kind, cid, sampleDomainEvent(kind, cid));
    assert.equal(r.decision.type, 'allow', `${cid} ${kind}`);
  }
  pool.endRequest(cid);
}

/**
 * A /slow request the agent holds for 1.5 s, cancelled once the agent has it; the agent must log
 * the Cancel. Over MessagePack the crate's agent reads a Cancel payload as MessagePack while the
 * crate's own proxy (and we, spec §4.4) send it as JSON, so its log line has an empty correlation
 * id there: the frame is still read as a Cancel and the connection carries on.
 */
async function cancelHeld(
  pool: AgentPool,
  agent: RefProcess,
  cid: string,
  how: 'cancelRequest' | 'signal',
  cidLogged: boolean,
): Promise<void> {
  const logged = () =>
    agent.stderrLines.filter((l) => l.includes('Request cancelled') && (!cidLogged || l.endsWith(`correlation_id=${cid}`))).length;
  const before = logged();
  const abort = new AbortController();
  const pending = pool.sendRequestHeaders('ref', cid, requestHeaders(cid, `/slow/${cid}`), { signal: abort.signal });
  await waitFor(() => agent.stderrLines.some((l) => l === `slow request ${cid}`), 10_000);
  if (how === 'cancelRequest') assert.equal(pool.cancelRequest('ref', cid, 'client_disconnect'), true);
  else abort.abort(new Error('client went away'));
  await assert.rejects(pending, { code: 'ABORT_ERR' });
  // The crate's agent servers log every Cancel they read, with its correlation id.
  await waitFor(() => logged() === before + 1, 10_000);
}

type Case = { transport: 'uds' | 'grpc'; workers: number; encoding?: EncodingSetting };
const CASES: Case[] = [];
for (const workers of [0, 1]) {
  CASES.push(
    { transport: 'uds', workers, encoding: 'json' },
    { transport: 'uds', workers, encoding: 'msgpack' },
    { transport: 'grpc', workers },
  );
}

describe('zap pool → reference agent (ref-agent)', () => {
  for (const c of CASES) {
    const label = `${c.transport}${c.encoding === undefined ? '' : ` ${c.encoding}`}, workers ${c.workers}`;
    test(`reference interop: ${label}: decisions, header ops, every event kind, cancels`, async () => {
      const { agent, endpoint } = await startRefAgent(c.transport, socketPath('ref-agent'));
      // With a worker, every connection on it (no light-load one): the case covers the thread hop.
      const pool = new AgentPool({ workers: c.workers, inlineBelowInFlight: 0 });
      try {
        const { ready } = await pool.addAgent('ref', endpoint, {
          connectionsPerAgent: 2,
          ...(c.encoding === undefined ? {} : { encoding: c.encoding }),
        });
        assert.equal(ready, 2);
        const caps = pool.agentCapabilities('ref');
        assert.equal(caps?.agentId, 'ref-agent');
        assert.equal(caps?.name, 'ref-agent');
        if (c.encoding !== undefined) {
          for (const conn of pool.agentStats('ref').connections) assert.equal(conn.encoding, c.encoding);
        }

        await Promise.all(Array.from({ length: REQUESTS }, (_, i) => fullRequest(pool, i)));
        const cidLogged = c.encoding !== 'msgpack';
        await cancelHeld(pool, agent, 'cancel-by-call', 'cancelRequest', cidLogged);
        await cancelHeld(pool, agent, 'cancel-by-signal', 'signal', cidLogged);

        // After the cancels (and the late answers to them) every connection still serves.
        for (let i = 0; i < 4; i++) {
          const r = await pool.sendRequestHeaders('ref', `after-${i}`, requestHeaders(`after-${i}`, '/after'));
          assert.deepEqual(r.requestHeaders, [{ op: 'set', name: 'x-agent-echo', value: 'GET /after' }]);
        }
        const stats = pool.agentStats('ref');
        assert.equal(stats.totalErrors, 2, 'only the two cancelled requests ended without an answer');
        assert.equal(stats.healthyConnections, 2);
      } finally {
        await pool.close();
        await agent.stop();
      }
    });
  }
});
