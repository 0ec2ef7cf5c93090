// One call to one agent of a route, with the agent's failure mode applied (spec §10.11).
import { AgentPoolError, ErrorCode } from '../protocol/errors.js';
import type { AgentResponse, Decision } from '../protocol/types.js';
import { failClosedResponse, isUnavailable } from '../pool/failure-mode.js';
import type { RouteAgent } from './route.js';

/**
 * `reply`: the agent answered (a fail-open synthetic Allow of the pool counts as an answer);
 * `skipped`: the agent failed and is fail-open, so the request goes on without it;
 * `failed`: the agent failed and is fail-closed; `decision` is the 504/503/413 block to render.
 */
export type AgentOutcome =
  | { kind: 'reply'; response: AgentResponse }
  | { kind: 'skipped'; error: AgentPoolError }
  | { kind: 'failed'; error: unknown; decision: Decision };

/** True for the pool's AbortError (ABORT_ERR): the request was abandoned, nothing is rendered. */
export function isAbort(error: unknown): boolean {
  return error instanceof AgentPoolError && error.code === ErrorCode.Abort;
}

/** Runs `call`; an abort rethrows, any other failure becomes `skipped` or `failed` by failure mode. */
export async function callAgent(agent: RouteAgent, call: () => Promise<AgentResponse>): Promise<AgentOutcome> {
  try {
    return { kind: 'reply', response: await call() };
  } catch (error) {
    if (isAbort(error)) throw error;
    // An event too large for the agent is an inspection the agent cannot do: skipped when open.
    const skippable = isUnavailable(error) || (error instanceof AgentPoolError && error.code === ErrorCode.FrameTooLarge);
    if (agent.failureMode === 'open' && skippable) return { kind: 'skipped', error: error as AgentPoolError };
    return { kind: 'failed', error, decision: failClosedResponse(error).decision };
  }
}

/** The 413 a fail-closed agent's oversize body gets (spec §10.11). */
export function bodyTooLarge(): Decision {
  return { type: 'block', status: 413, body: 'Payload too large', headers: null };
}
