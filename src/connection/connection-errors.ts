// Typed errors of a proxy-side connection (spec §10.11), one set for every transport: framed
// (UDS, reverse) and gRPC connections fail their calls with the same codes and texts.
import { AgentPoolError, ErrorCode, protocolError, zapError } from '../protocol/errors.js';

/**
 * ZAP_CONNECTION_LOST (spec §10.11): the socket closed or failed, the gRPC stream ended or failed
 * with a non-OK status, or the connection the router chose was gone by the time its host came to
 * write. The breaker counts it as a failure (§10.10); callers can tell it from an internal ZAP_ERROR.
 */
export function connectionLost(agentId: string | undefined, why: string, cause?: unknown, correlationId?: string): AgentPoolError {
  const who = agentId === undefined ? 'agent' : `agent '${agentId}'`;
  return new AgentPoolError(ErrorCode.ConnectionLost, `Connection to ${who} lost: ${why}`, { agentId, correlationId, cause });
}

export function handshakeFailed(agentId: string, why: string, cause?: unknown): AgentPoolError {
  return zapError(ErrorCode.HandshakeFailed, `Handshake with agent '${agentId}' failed: ${why}`, { agentId, cause });
}

/** A handshake the agent answered, refused with the spec's own text (§8.4 step 4). */
export function handshakeRefused(agentId: string, message: string): AgentPoolError {
  return zapError(ErrorCode.HandshakeFailed, message, { agentId });
}

/**
 * What an inbound message that does not decode fails (or is dropped) with: a typed error keeps
 * its code (a framing limit stays what it is) and gains this connection's agent; anything else
 * becomes ZAP_PROTOCOL_ERROR.
 */
export function asProtocolError(err: unknown, agentId: string): AgentPoolError {
  if (err instanceof AgentPoolError) {
    if (err.agentId === agentId) return err;
    return new AgentPoolError(err.code, err.message, { agentId, correlationId: err.correlationId, cause: err.cause });
  }
  return protocolError(err instanceof Error ? err.message : String(err), { agentId, cause: err });
}

/** The same error, carrying this call's agent and cid (a connection-wide error is shared by many calls). */
export function withIds(err: unknown, agentId: string, correlationId: string): unknown {
  if (!(err instanceof AgentPoolError)) return err;
  if (err.agentId === agentId && err.correlationId === correlationId) return err;
  return new AgentPoolError(err.code, err.message, { agentId, correlationId, cause: err.cause });
}
