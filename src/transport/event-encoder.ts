// Encode once, on the router: the bytes a connection host writes unchanged. Framed transports
// (UDS, reverse) get a whole frame in the negotiated encoding (here); gRPC gets the ProxyToAgent
// message bytes (grpc-event-encoder.ts). event-encoder-for.ts picks one by negotiated encoding.
// JSON for a host on another thread is the exception: packed here, written out as text there
// (packed-json.ts), because JSON.stringify is the largest cost left on the router's thread.
import { protocolError } from '../protocol/errors.js';
import { eventToWire } from '../protocol/events.js';
import { checkTextFrame, encodeFrame } from '../protocol/frame-encoder.js';
import { EVENT_MESSAGE_TYPE } from '../protocol/message-type.js';
import { codecFor } from '../protocol/payload-codec.js';
import type { Encoding, EventKind, EventMap } from '../protocol/types.js';
import { hasSchema, PackedJsonWriter } from './packed-json.js';

/**
 * What a connection host writes for one event: the bytes as they are, or, for JSON frames, the
 * payload text, which the host side frames (type = the event's message type) while copying it
 * where it goes: into the send batch, or one frame buffer when the host runs on the router's thread.
 * A PackedJsonWriter holds the payload packed (`bytes[start, length)`), in place in a worker's send
 * batch (contract/send-batch.ts), which alone packs: a host packs through its own encoder
 * (HostHandle.eventEncoder).
 */
export type EncodedEvent = Uint8Array | string | PackedJsonWriter;

export interface EventEncoder {
  encode<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): EncodedEvent;
}

/** Frames in a binary encoding: the codec's payload behind the frame header. */
export function framedEventEncoder(encoding: Encoding): EventEncoder {
  const codec = codecFor(encoding);
  return {
    encode: (kind, event, correlationId) => encodeFrame(EVENT_MESSAGE_TYPE[kind], codec.encodeEvent(kind, event, correlationId)),
  };
}

/** JSON events: stringify once; the text is checked against the frame limit here and framed by the host side. */
export const jsonFramedEventEncoder: EventEncoder = {
  encode: (kind, event, correlationId) => jsonText(kind, eventToWire(kind, event, correlationId, false)),
};

/**
 * A JSON event for a host on another thread: packed by `packer` when the form allows it (true), else
 * its JSON text. The wire object is built once (a body chunk's base64 is not worth encoding twice).
 */
export function packOrStringify<K extends EventKind>(
  packer: PackedJsonWriter,
  kind: K,
  event: EventMap[K],
  correlationId: string,
): true | string {
  if (hasSchema(kind)) {
    if (packer.packEvent(kind, event as EventMap[typeof kind], correlationId)) return true;
    return jsonText(kind, eventToWire(kind, event, correlationId, false));
  }
  const wire = eventToWire(kind, event, correlationId, false);
  return packer.pack(wire) ? true : jsonText(kind, wire);
}

function jsonText(kind: EventKind, wire: Record<string, unknown>): string {
  let text: string;
  try {
    text = JSON.stringify(wire);
  } catch (err) {
    throw protocolError(`event cannot be written as JSON: ${(err as Error).message}`, { cause: err });
  }
  checkTextFrame(EVENT_MESSAGE_TYPE[kind], text);
  return text;
}
