// The payload codec seam (spec §4): what one encoding's codec does. Apart from payload-codec.ts,
// which picks a codec, so that the codecs implement it without importing their own chooser.
import type { AgentResponse, Encoding, EventKind, EventMap } from './types.js';

export interface ParsedResponse {
  /** §6.9.1 precedence; null when the reply names no cid (it is then dropped, §6.10 step 2). */
  correlationId: string | null;
  /** The decoded body, still unvalidated: pass it to agentResponseFromWire (§6.10 step 4). */
  body: unknown;
}

/** parseResponse, for a codec that can also validate the common reply in the same pass (§6.10 steps 1–4). */
export interface ReadReply extends ParsedResponse {
  /** The validated reply, when the codec took it; else undefined, and `body` goes to agentResponseFromWire. */
  response: AgentResponse | undefined;
}

/**
 * Returned Buffers may be views into a larger shared allocation (Node's Buffer pool, msgpackr's output
 * slab): copy them, or write them out, but never transfer their `.buffer` to another thread.
 * Decoded byte fields may be views into the payload given to a decoder (no copy).
 */
export interface PayloadCodec {
  readonly encoding: Encoding;
  /** Proxy side: serialise an event and inject/overwrite top-level `correlation_id` (§6.1), canonical key order (§4.1). */
  encodeEvent<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): Buffer;
  /** Agent side: decode an event payload (throws ZAP_PROTOCOL_ERROR on a bad shape). correlationId = the injected key,
   *  falling back to the event's own id / metadata.correlation_id. MessagePack reader tolerates the duplicate key (§4.2). */
  decodeEvent<K extends EventKind>(kind: K, payload: Uint8Array): { event: EventMap[K]; correlationId: string };
  /** Agent side: our SDK's canonical reply, every key of §6.9.1, cid in audit.custom AND top level. */
  encodeResponse(response: AgentResponse, correlationId: string): Buffer;
  /** Proxy side, §6.10 steps 1–2: undecodable payload → throws ZAP_PROTOCOL_ERROR (caller closes the connection);
   *  otherwise the extracted cid (precedence §6.9.1; null when none) and the raw decoded body. */
  parseResponse(payload: Uint8Array): ParsedResponse;
  /** What the connections call: parseResponse, with the reply validated already where the codec could. */
  readReply(payload: Uint8Array): ReadReply;
  /** Generic value (de)serialisation in this encoding, used for control messages whose wire objects B2 builds. */
  encodeValue(wire: unknown): Buffer;
  /** Throws ZAP_PROTOCOL_ERROR when undecodable. */
  decodeValue(payload: Uint8Array): unknown;
}
