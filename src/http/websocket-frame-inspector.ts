// One frame through the agents of a route (spec §10.2: events other than request headers go to
// the agents one after another and stop at the first non-allow), turned into a FrameVerdict.
// Failure modes are the route agent's: a fail-open agent that fails is skipped (the pool may have
// answered a synthetic Allow already); fail-closed closes the connection with 1011 (§10.11).
import { isUnavailable } from '../pool/failure-mode.js';
import { AgentPoolError, ErrorCode } from '../protocol/errors.js';
import type { AgentResponse, WebSocketFrameEvent } from '../protocol/types.js';
import type { EnginePool } from './engine-types.js';
import type { RouteAgent } from './route.js';
import { CLOSE_AGENT_FAILED, closeReason, sendableCloseCode } from './websocket-close.js';
import type { FrameVerdict } from './websocket-frame-pump.js';

/** RFC 6455 section 7.4.1: the message is too big to process. */
const CLOSE_TOO_BIG = 1009;

/**
 * Asks `agents` in order about `event`; the first drop or close wins. `signal` cancels the call in
 * flight (its reason becomes the Cancel reason). Never rejects.
 */
export async function inspectFrame(
  pool: Pick<EnginePool, 'sendWebSocketFrame'>,
  agents: readonly RouteAgent[],
  event: WebSocketFrameEvent,
  signal: AbortSignal,
): Promise<FrameVerdict> {
  for (const agent of agents) {
    let response: AgentResponse;
    try {
      response = await pool.sendWebSocketFrame(agent.id, event.correlationId, event, { signal, timeoutMs: agent.timeoutMs });
    } catch (error) {
      if (error instanceof AgentPoolError && error.code === ErrorCode.Abort) return { type: 'cancelled' };
      // Fail-open: the agent is skipped and the frame goes on (spec §10.11).
      if (agent.failureMode === 'open' && isUnavailable(error)) continue;
      return failed(agent.id, error);
    }
    // §6.9.8: null/absent = allow.
    const decision = response.websocketDecision;
    if (decision === null || decision.type === 'allow') continue;
    if (decision.type === 'drop') return { type: 'drop', agentId: agent.id };
    return {
      type: 'close',
      code: sendableCloseCode(decision.code),
      reason: closeReason(decision.reason),
      agentId: agent.id,
      failed: false,
    };
  }
  return { type: 'forward' };
}

function failed(agentId: string, error: unknown): FrameVerdict {
  if (error instanceof AgentPoolError && error.code === ErrorCode.FrameTooLarge) {
    return { type: 'close', code: CLOSE_TOO_BIG, reason: 'Frame too large', agentId, failed: true };
  }
  return { type: 'close', code: CLOSE_AGENT_FAILED, reason: 'Service unavailable', agentId, failed: true };
}
