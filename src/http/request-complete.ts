// The last word on a request (spec §6.5): request_complete to the route's subscribers, then
// endRequest. Shared by the HTTP lifecycle and WebSocket upgrades. Not tied to the request's signal:
// a request whose client went away still completes for the agents.
import { peerText } from '../protocol/peer-text.js';
import type { EngineLog, EnginePool, RequestOutcome } from './engine-types.js';
import { agentsFor, type HttpRoute } from './route.js';

export async function completeRequest(pool: EnginePool, route: HttpRoute, outcome: RequestOutcome, log: EngineLog): Promise<void> {
  const event = {
    correlationId: outcome.correlationId,
    status: outcome.status,
    durationMs: outcome.durationMs,
    requestBodySize: outcome.requestBodySize,
    responseBodySize: outcome.responseBodySize,
    upstreamAttempts: 1,
    error: outcome.error,
  };
  const calls = agentsFor(route, 'request_complete').map(async (agent) => {
    try {
      await pool.sendRequestComplete(agent.id, outcome.correlationId, event, { timeoutMs: agent.timeoutMs });
    } catch (error) {
      log('warn', `agent ${agent.id}: request_complete failed: ${peerText(messageOf(error))}`);
    }
  });
  await Promise.all(calls);
  try {
    pool.endRequest(outcome.correlationId);
  } catch (error) {
    // Callers do not wait for this promise: it must never reject (an embedder's pool may throw).
    log('error', `${outcome.correlationId}: endRequest failed: ${peerText(messageOf(error))}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
