// The router's encoder for gRPC connections (encoding name 'protobuf'): one ProxyToAgent message's
// protobuf bytes per event, written by the connection as they are. No gRPC length prefix: grpc-js
// adds it. A Configure carries its acknowledgement id in `config_version` (grpcReplyCorrelationId);
// the connection reads it back from the bytes (grpc-codec.ts configureReplyId).
import type { EventEncoder } from './event-encoder.js';
import { requestStartMs } from '../protocol/proto-events.js';
import { eventToProto } from '../protocol/proto-mapping.js';
import { writeRequestHeadersProto } from '../protocol/proto-request-headers.js';
import type { EventKind, EventMap, RequestHeadersEvent } from '../protocol/types.js';
import { encodeProxyToAgent } from './grpc-codec.js';

export const GRPC_ENCODING = 'protobuf';

export const grpcEventEncoder = {
  encode: <K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): Buffer => {
    const nowMs = Date.now();
    if (kind === 'request_headers') {
      // Every request sends one: written directly, the same bytes without the object tree.
      const e = event as RequestHeadersEvent;
      const bytes = writeRequestHeadersProto(e, correlationId, requestStartMs(e.metadata.timestamp, nowMs));
      if (bytes !== undefined) return bytes;
    }
    return encodeProxyToAgent(eventToProto(kind, event, correlationId, nowMs));
  },
} satisfies EventEncoder;
