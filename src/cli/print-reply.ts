// What `zap call` prints: the agent's reply (or handshake response) in wire JSON form, holding only
// what the agent sent. Anything zap knows besides (transport, encoding, agent) goes under a separate
// "zap" key, and only with --verbose.
import { agentResponseToWire } from '../protocol/agent-response.js';
import { encodeHandshakeResponse } from '../protocol/handshake.js';
import type { AgentResponse, HandshakeResponse } from '../protocol/types.js';

/** `--verbose` only: what zap adds, never mixed into the agent's own keys. */
type ZapNote = Readonly<Record<string, string>> | undefined;

/**
 * The reply as the agent sent it. `agentResponseToWire` is the SDK's writer: it puts the cid into
 * `audit.custom` (the UDS JSON form does), which a gRPC agent never sends, so custom is the agent's
 * own, and `correlation_id` is present only when the reply carried one.
 */
export function replyAsSent(response: AgentResponse, correlationId: string, transport: string, zap: ZapNote): Record<string, unknown> {
  const wire = agentResponseToWire(response, correlationId);
  (wire['audit'] as Record<string, unknown>)['custom'] = response.audit.custom;
  if (response.correlationId === undefined) delete wire['correlation_id'];
  else wire['correlation_id'] = response.correlationId;
  return zap === undefined ? wire : { ...wire, zap: { ...zap, transport } };
}

/**
 * The handshake response as the agent sent it: over gRPC the message has no `encoding` field
 * (payloads are protobuf), so none is printed; over UDS it is the negotiated JSON/MessagePack.
 */
export function handshakeAsSent(hs: HandshakeResponse, transport: string, zap: ZapNote): Record<string, unknown> {
  const wire = JSON.parse(encodeHandshakeResponse(hs).toString('utf8')) as Record<string, unknown>;
  if (transport === 'grpc') delete wire['encoding'];
  return zap === undefined ? wire : { ...wire, zap: { ...zap, transport } };
}
