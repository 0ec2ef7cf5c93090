// The router's events as the pool wires them: metrics on every dispatch and settle (the hot path:
// one reused record, no allocation per call), and the two hooks the pool itself needs.
import { AgentPoolError, ErrorCode } from '../protocol/errors.js';
import type { PoolMetrics, SettledCall } from '../metrics/pool-metrics.js';
import type { RouterEvents } from './router.js';

export function routerEventsFor(m: PoolMetrics, hooks: Required<Pick<RouterEvents, 'report' | 'ready'>>): RouterEvents {
  /** SettledCall with every key always present (a stable shape; undefined = absent). */
  const settledScratch: { [K in keyof SettledCall]-?: SettledCall[K] | undefined } = {
    decision: undefined,
    synthetic: undefined,
    errorCode: undefined,
    callSeconds: 0,
    writeToReplySeconds: undefined,
  };
  return {
    report: hooks.report,
    ready: hooks.ready,
    dispatched: (call, _connection, encodeSeconds) => m.dispatched(call.agent.id, encodeSeconds),
    settled: (call, response, error, latencyMs) => {
      // One reused record: this runs once per request, and settled() reads it synchronously.
      const o = settledScratch;
      o.callSeconds = latencyMs / 1000;
      o.decision = response?.decision.type;
      o.synthetic = response?.synthetic === true;
      // latencyMs was read at settle: no second clock read for the write → reply time.
      o.writeToReplySeconds =
        response !== undefined && !Number.isNaN(call.dispatchedAt) ? (call.startedAt + latencyMs - call.dispatchedAt) / 1000 : undefined;
      o.errorCode = error === undefined ? undefined : error instanceof AgentPoolError ? error.code : ErrorCode.Error;
      m.settled(call.agent.id, o as SettledCall);
    },
    connectionError: (agent, kind) => m.connectionError(agent.id, kind),
    flowPause: (agent) => m.flowPause(agent.id),
    flowRejection: (agent) => m.flowRejection(agent.id),
  };
}
