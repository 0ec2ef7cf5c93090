// AbortError-compatible typed error (spec §10.9): name "AbortError", code "ABORT_ERR",
// cause = the signal's reason.
import { AgentPoolError, ErrorCode } from '../protocol/errors.js';

export function abortError(reason: unknown, agentId?: string, correlationId?: string): AgentPoolError {
  const why = typeof reason === 'string' ? reason : reason instanceof Error ? reason.message : 'aborted';
  return new AgentPoolError(ErrorCode.Abort, `Request aborted: ${why}`, { agentId, correlationId, cause: reason });
}
