// Failure mode per agent (spec §10.11, §13.1): what a proxy does when an agent is unavailable.
// fail-open: the call resolves with a synthetic Allow (counted); fail-closed: the typed error
// stands, and `failClosedResponse` gives the 503-style block a proxy answers with.
import { AgentPoolError, ErrorCode, type ErrorCodeValue } from '../protocol/errors.js';
import type { AgentResponse } from '../protocol/types.js';
import { allowResponse } from '../protocol/agent-response.js';

export type FailureMode = 'open' | 'closed';

/** Errors meaning "the agent is unavailable" (not: caller aborts, oversize events, unknown agents,
 *  malformed caller arguments — those are the caller's bugs and always reject). */
const UNAVAILABLE = new Set<ErrorCodeValue>([
  ErrorCode.Timeout,
  ErrorCode.CircuitOpen,
  ErrorCode.NoHealthyConnection,
  ErrorCode.ConnectionLost,
  ErrorCode.Error,
  ErrorCode.ProtocolError,
  ErrorCode.QueueFull,
  ErrorCode.WorkerLost,
  ErrorCode.FlowPaused,
]);

export function isUnavailable(error: unknown): boolean {
  return error instanceof AgentPoolError && UNAVAILABLE.has(error.code);
}

/** The Allow a fail-open agent yields, marked synthetic (never on the wire). */
export function syntheticAllow(): AgentResponse {
  const response = allowResponse();
  response.synthetic = true;
  return response;
}

/** The response a fail-closed proxy sends to its client for `error` (spec §10.11 table). */
export function failClosedResponse(error: unknown): AgentResponse {
  const code = error instanceof AgentPoolError ? error.code : ErrorCode.Error;
  const [status, body] =
    code === ErrorCode.Timeout
      ? [504, 'Gateway timeout']
      : code === ErrorCode.FrameTooLarge
        ? [413, 'Payload too large']
        : [503, 'Service unavailable'];
  const response = allowResponse();
  response.decision = { type: 'block', status, body, headers: null };
  response.synthetic = true;
  return response;
}
