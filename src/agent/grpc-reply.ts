// An AgentResponse as the bytes of a gRPC AgentToProxy, for ProcessStream and ProcessEvent alike.
// Fields gRPC cannot carry (spec §8.5) are dropped and named to `onDroppedFields` first.
import type { AgentResponse } from '../protocol/types.js';
import { agentResponseToProto, grpcDroppedResponseFields } from '../protocol/proto-mapping.js';
import { encodeAgentToProxy } from '../transport/grpc-codec.js';

export type DroppedFieldsSink = (fields: string[], correlationId: string) => void;

/** Throws when the reply cannot be encoded (the caller answers Block 500 instead). */
export function encodeGrpcReply(response: AgentResponse, correlationId: string, onDroppedFields: DroppedFieldsSink | undefined): Buffer {
  const dropped = grpcDroppedResponseFields(response);
  if (dropped.length > 0) onDroppedFields?.(dropped, correlationId);
  return encodeAgentToProxy(agentResponseToProto(response, correlationId));
}
