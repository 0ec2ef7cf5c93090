// The one error of a call whose connection went away under it (spec §10.11 ZAP_CONNECTION_LOST):
// the socket closed or failed, the gRPC stream ended or failed with a non-OK status, or the
// connection the router chose was gone by the time its host came to write. The breaker counts it
// as a failure (§10.10); callers can tell it from an internal ZAP_ERROR.
import { AgentPoolError, ErrorCode } from '../protocol/errors.js';

export function connectionLost(agentId: string | undefined, why: string, cause?: unknown, correlationId?: string): AgentPoolError {
  const who = agentId === undefined ? 'agent' : `agent '${agentId}'`;
  return new AgentPoolError(ErrorCode.ConnectionLost, `Connection to ${who} lost: ${why}`, { agentId, correlationId, cause });
}
