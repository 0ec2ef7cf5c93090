// The router's encoder for gRPC connections (encoding name 'protobuf'): one ProxyToAgent message's
// protobuf bytes per event, written by the connection as they are. No gRPC length prefix: grpc-js
// adds it. A Configure carries its acknowledgement id in `config_version` (grpcReplyCorrelationId);
// the connection reads it back from the bytes (grpc-codec.ts configureReplyId).
import type { EventEncoder } from './event-encoder.js';
import { eventToProto } from '../protocol/proto-mapping.js';
import { encodeProxyToAgent } from './grpc-codec.js';

export const GRPC_ENCODING = 'protobuf';

export const grpcEventEncoder: EventEncoder = {
  encode: (kind, event, correlationId) => encodeProxyToAgent(eventToProto(kind, event, correlationId, Date.now())),
};
