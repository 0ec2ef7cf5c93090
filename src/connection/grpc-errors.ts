// Typed errors of a gRPC connection (spec §10.11), shaped like those of the framed connection.
import { AgentPoolError, ErrorCode, protocolError, zapError } from '../protocol/errors.js';
import { connectionLost } from './connection-lost.js';

/** ZAP_CONNECTION_LOST (spec §10.11): the stream ended, failed with a non-OK status, or was closed. */
export function lost(agentId: string, why: string): AgentPoolError {
  return connectionLost(agentId, why);
}

export function handshakeFailed(agentId: string, why: string, cause?: unknown): AgentPoolError {
  return zapError(ErrorCode.HandshakeFailed, `Handshake with agent '${agentId}' failed: ${why}`, { agentId, cause });
}

export function refused(agentId: string, message: string): AgentPoolError {
  return zapError(ErrorCode.HandshakeFailed, message, { agentId });
}

export function asProtocolError(err: unknown, agentId: string): AgentPoolError {
  if (err instanceof AgentPoolError && err.code === ErrorCode.ProtocolError) {
    return err.agentId === agentId ? err : protocolError(err.message, { agentId, cause: err.cause });
  }
  return protocolError(err instanceof Error ? err.message : String(err), { agentId, cause: err });
}

/** The same error, carrying this call's agent and cid (a connection-wide error is shared by many calls). */
export function withIds(err: unknown, agentId: string, correlationId: string): unknown {
  if (!(err instanceof AgentPoolError)) return err;
  if (err.agentId === agentId && err.correlationId === correlationId) return err;
  return new AgentPoolError(err.code, err.message, { agentId, correlationId, cause: err.cause });
}
