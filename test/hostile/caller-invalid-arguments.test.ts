// Issue 11 item 7, "caller mistakes black-hole a healthy agent": an event with missing fields was
// encoded into ZAP_PROTOCOL_ERROR, which the breaker counted, so five such calls opened it for 30 s;
// timeoutMs NaN removed the deadline and a negative one rejected at once. Through a real pool
// (workers 0 and 1, failure mode closed and open) and a real agent process: 20 malformed calls over
// every send method each reject with ZAP_INVALID_ARGUMENT, nothing reaches the agent (its received
// count), the breaker stays CLOSED, no fail-open Allow hides the bug, and a valid call right after
// is served.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { AgentPoolError, ErrorCode } from '../../src/protocol/errors.js';
import type { AgentResponse } from '../../src/protocol/types.js';
import { requestHeaders, sampleDomainEvent } from '../support/events.js';
import { FaultAgentProcess } from '../support/fault-agent-process.js';
import { socketPath } from '../support/tmp.js';

/** Each entry: what the caller got wrong, and the call making that mistake. */
type Mistake = [what: string, call: (pool: AgentPool, agentId: string) => Promise<unknown>];

const chunk = sampleDomainEvent('request_body_chunk', 'm');
const MISTAKES: Mistake[] = [
  ['request headers without metadata', (p, a) => p.sendRequestHeaders(a, 'm', { ...requestHeaders('m'), metadata: undefined } as never)],
  [
    'request headers: client port as a string',
    (p, a) =>
      p.sendRequestHeaders(a, 'm', { ...requestHeaders('m'), metadata: { ...requestHeaders('m').metadata, clientPort: '443' } } as never),
  ],
  [
    'request headers: a header value that is not an array',
    (p, a) => p.sendRequestHeaders(a, 'm', { ...requestHeaders('m'), headers: { host: 'x' } } as never),
  ],
  ['request headers without a method', (p, a) => p.sendRequestHeaders(a, 'm', { ...requestHeaders('m'), method: undefined } as never)],
  [
    'request headers: metadata.correlationId contradicts the argument',
    (p, a) => p.sendRequestHeaders(a, 'm', requestHeaders('someone-else')),
  ],
  ['body chunk: data as base64 text', (p, a) => p.sendRequestBodyChunk(a, 'm', { ...chunk, data: 'aGVsbG8=' } as never)],
  ['body chunk without isLast', (p, a) => p.sendRequestBodyChunk(a, 'm', { ...chunk, isLast: undefined } as never)],
  [
    'response headers: status as a string',
    (p, a) => p.sendResponseHeaders(a, 'm', { ...sampleDomainEvent('response_headers', 'm'), status: '200' } as never),
  ],
  [
    'response body chunk: its correlationId contradicts the argument',
    (p, a) => p.sendResponseBodyChunk(a, 'm', sampleDomainEvent('response_body_chunk', 'other')),
  ],
  [
    'request complete: negative duration',
    (p, a) => p.sendRequestComplete(a, 'm', { ...sampleDomainEvent('request_complete', 'm'), durationMs: -1 }),
  ],
  [
    'websocket frame: unknown opcode',
    (p, a) => p.sendWebSocketFrame(a, 'm', { ...sampleDomainEvent('websocket_frame', 'm'), opcode: 'TEXT' } as never),
  ],
  [
    'guardrail inspect without content',
    (p, a) => p.sendGuardrailInspect(a, 'm', { ...sampleDomainEvent('guardrail_inspect', 'm'), content: undefined } as never),
  ],
  [
    'configure without isInitial',
    (p, a) => p.send(a, 'configure', 'm', { ...sampleDomainEvent('configure', 'm'), isInitial: undefined } as never),
  ],
  ['sticky session: contradicting correlation id', (p, a) => p.sendRequestHeadersWithStickySession('s1', a, 'm', requestHeaders('other'))],
  ['timeoutMs NaN', (p, a) => p.sendRequestHeaders(a, 'm', requestHeaders('m'), { timeoutMs: Number.NaN })],
  ['timeoutMs negative', (p, a) => p.sendRequestHeaders(a, 'm', requestHeaders('m'), { timeoutMs: -5 })],
  ['timeoutMs 0', (p, a) => p.sendRequestBodyChunk(a, 'm', chunk, { timeoutMs: 0 })],
  ['timeoutMs Infinity', (p, a) => p.sendRequestHeaders(a, 'm', requestHeaders('m'), { timeoutMs: Infinity })],
  ['timeoutMs not a number', (p, a) => p.sendRequestHeaders(a, 'm', requestHeaders('m'), { timeoutMs: '100' } as never)],
  ['empty correlation id', (p, a) => p.sendRequestBodyChunk(a, '', { ...chunk, correlationId: '' })],
];

let agent: FaultAgentProcess;
let path: string;
before(async () => {
  path = socketPath('caller-args');
  agent = await FaultAgentProcess.start(path, { kind: 'normal' });
});
after(() => agent.kill());

describe('caller mistakes: 20 malformed calls never reach the agent nor its breaker', () => {
  assert.equal(MISTAKES.length, 20);
  for (const workers of [0, 1]) {
    for (const failureMode of ['closed', 'open'] as const) {
      test(
        `workers: ${workers}, failure mode ${failureMode} — each ZAP_INVALID_ARGUMENT, nothing sent, ` + `breaker CLOSED, next call served`,
        async () => {
          // One connection: the agent reads its socket in order, so anything wrongly sent before the
          // valid call would be counted before the valid call is answered.
          const pool = new AgentPool({
            workers,
            connectionsPerAgent: 1,
            failureMode,
            circuitBreaker: { failureThreshold: 5, openDurationMs: 30_000 },
          });
          after(() => pool.destroy());
          const agentId = `args-${workers}-${failureMode}`;
          const states: number[] = [];
          pool.on('circuit-state', (_id, s) => states.push(s));
          assert.deepEqual(await pool.addAgent(agentId, `unix:${path}`), { ready: 1, errors: [] });
          const receivedBefore = (await agent.stats()).received;

          for (const [what, call] of MISTAKES) {
            // Called directly, not inside a closure: a synchronous throw fails the test too.
            const pending = call(pool, agentId);
            assert.ok(pending instanceof Promise, `${what}: a rejected promise, not a throw`);
            const outcome = await pending.then(
              (value) => ({ value }),
              (error: unknown) => ({ error }),
            );
            if (!('error' in outcome)) assert.fail(`${what}: resolved with ${JSON.stringify((outcome.value as AgentResponse).decision)}`);
            const err = outcome.error;
            assert.ok(err instanceof AgentPoolError, `${what}: ${String(err)}`);
            assert.equal(err.code, ErrorCode.InvalidArgument, `${what}: ${err.message}`);
            assert.equal(err.agentId, agentId);
          }

          assert.equal(pool.circuitState(agentId), 0, 'breaker CLOSED');
          assert.deepEqual(states, []);
          const stats = pool.agentStats(agentId);
          assert.equal(stats.totalErrors, 0, 'no call reached admission');
          assert.equal(stats.failOpenAllows, 0, 'no synthetic Allow');
          assert.equal(stats.totalInFlight, 0);

          const ok = await pool.sendRequestHeaders(agentId, 'valid', requestHeaders('valid'), { timeoutMs: 5_000 });
          assert.equal(ok.decision.type, 'allow');
          assert.notEqual(ok.synthetic, true, 'served by the agent');
          assert.equal((await agent.stats()).received, receivedBefore + 1, 'only the valid call reached the agent');
          await pool.destroy();
        },
      );
    }
  }
});
