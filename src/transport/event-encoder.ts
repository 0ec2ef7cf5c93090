// Encode once, on the router: the bytes a connection host writes unchanged. Framed transports
// (UDS, reverse) get a whole frame in the negotiated encoding (here); gRPC gets the ProxyToAgent
// message bytes (grpc-event-encoder.ts). event-encoder-for.ts picks one by negotiated encoding.
import { protocolError } from '../protocol/errors.js';
import { eventToWire } from '../protocol/events.js';
import { encodeFrame, encodeTextFrame } from '../protocol/frame-encoder.js';
import { EVENT_MESSAGE_TYPE } from '../protocol/message-type.js';
import { codecFor } from '../protocol/payload-codec.js';
import type { Encoding, EventKind, EventMap } from '../protocol/types.js';

export interface EventEncoder {
  encode<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): Buffer;
}

/** Frames in a binary encoding: the codec's payload behind the frame header. */
export function framedEventEncoder(encoding: Encoding): EventEncoder {
  const codec = codecFor(encoding);
  return {
    encode: (kind, event, correlationId) => encodeFrame(EVENT_MESSAGE_TYPE[kind], codec.encodeEvent(kind, event, correlationId)),
  };
}

/** JSON events: stringify once, then one allocation holding header and text (no payload copy). */
export const jsonFramedEventEncoder: EventEncoder = {
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
