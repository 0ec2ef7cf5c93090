// Agent-side replies on gRPC, for ProcessStream and ProcessEvent alike: an AgentResponse as the
// bytes of an AgentToProxy (fields gRPC cannot carry, spec §8.5, are dropped and named first), and
// the cid an undecodable event is answered for.
import type { AgentResponse } from '../protocol/types.js';
import { agentResponseToProto, grpcDroppedResponseFields, type PbProxyToAgent } from '../protocol/proto-mapping.js';
import { writeAllowReplyProto } from '../protocol/proto-reply.js';
import { encodeAgentToProxy } from '../transport/grpc-codec.js';

export type DroppedFieldsSink = (fields: string[], correlationId: string) => void;

/** Throws when the reply cannot be encoded (the caller answers Block 500 instead). */
export function encodeGrpcReply(response: AgentResponse, correlationId: string, onDroppedFields: DroppedFieldsSink | undefined): Buffer {
  const dropped = grpcDroppedResponseFields(response);
  if (dropped.length > 0) onDroppedFields?.(dropped, correlationId);
  // The common reply (Allow, header ops, no audit) is written directly; the same bytes.
  return writeAllowReplyProto(response, correlationId) ?? encodeAgentToProxy(agentResponseToProto(response, correlationId));
}

/**
 * §6.10 agent side: the cid of an event member of a ProxyToAgent that decoded as protobuf but not as
 * an event ('' when unset); undefined when the message is no event (handshake, cancel, ping, empty).
 */
export function bestEffortEventCid(pb: PbProxyToAgent): string | undefined {
  switch (pb.message) {
    case 'request_headers':
      return pb.request_headers?.metadata?.correlation_id ?? '';
    case 'request_body_chunk':
      return pb.request_body_chunk?.correlation_id ?? '';
    case 'response_body_chunk':
      return pb.response_body_chunk?.correlation_id ?? '';
    case 'response_headers':
      return pb.response_headers?.correlation_id ?? '';
    case 'request_complete':
      return pb.request_complete?.correlation_id ?? '';
    case 'websocket_frame':
      return pb.websocket_frame?.correlation_id ?? '';
    case 'guardrail':
      return pb.guardrail?.correlation_id ?? '';
    case 'configure':
      return pb.configure?.config_version ?? '';
    default:
      return undefined;
  }
}
