// Encode once, on the router: the bytes a connection host writes unchanged. Framed transports
// (UDS, reverse) get a whole frame in the negotiated encoding; other transports plug their own
// encoder in (gRPC: the ProxyToAgent message bytes).
import { protocolError } from '../protocol/errors.js';
import { eventToWire } from '../protocol/events.js';
import { encodeFrame, encodeTextFrame } from '../protocol/frame-encoder.js';
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

/** JSON events: stringify once, then one allocation holding header and text (no payload copy). */
const jsonFramed: EventEncoder = {
  encode: (kind, event, correlationId) => {
    let text: string;
    try {
      text = JSON.stringify(eventToWire(kind, event, correlationId, false));
    } catch (err) {
      throw protocolError(`event cannot be written as JSON: ${(err as Error).message}`, { cause: err });
    }
    return encodeTextFrame(EVENT_MESSAGE_TYPE[kind], text);
  },
};

const encoders = new Map<string, EventEncoder>([
  ['json', jsonFramed],
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
