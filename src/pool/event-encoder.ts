// Encode once, on the router: the bytes a connection host writes unchanged. Framed transports
// (UDS, reverse) get a whole frame in the negotiated encoding; other transports plug their own
// encoder in (gRPC: the ProxyToAgent message bytes).
import { encodeFrame } from '../protocol/frame-encoder.js';
import { EVENT_MESSAGE_TYPE } from '../protocol/message-type.js';
import { codecFor } from '../protocol/payload-codec.js';
import type { Encoding, EventKind, EventMap } from '../protocol/types.js';
import { GRPC_ENCODING, grpcEventEncoder } from '../transport/grpc-event-encoder.js';

export interface EventEncoder {
  encode<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): Buffer;
}

function framed(encoding: Encoding): EventEncoder {
  const codec = codecFor(encoding);
  return {
    encode: (kind, event, correlationId) => encodeFrame(EVENT_MESSAGE_TYPE[kind], codec.encodeEvent(kind, event, correlationId)),
  };
}

const encoders = new Map<string, EventEncoder>([
  ['json', framed('json')],
  ['msgpack', framed('msgpack')],
  [GRPC_ENCODING, grpcEventEncoder],
]);

/** Lets a transport register the encoder for its `encoding` name (e.g. 'protobuf'). */
export function registerEventEncoder(encoding: string, encoder: EventEncoder): void {
  encoders.set(encoding, encoder);
}

export function eventEncoderFor(encoding: string): EventEncoder | undefined {
  return encoders.get(encoding);
}
