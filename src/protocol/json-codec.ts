// JSON payload codec (spec §4.1): compact UTF-8, keys in the canonical order the wire mappers build,
// byte fields as padded base64. JSON.stringify of a freshly built object: no replacer, no copies.
import type { AgentResponse, EventKind, EventMap } from './types.js';
import type { ParsedResponse, PayloadCodec, ReadReply } from './payload-codec-types.js';
import { protocolError } from './errors.js';
import { decodedEvent, eventToWire } from './events.js';
import { agentResponseToWire, extractCorrelationId } from './agent-response.js';
import { jsonBoundsViolation } from './json-bounds.js';
import { scanAgentResponse } from './json-reply-scanner.js';
import { peerText } from './peer-text.js';

// Strict UTF-8 (§4.1): an invalid sequence or a BOM makes the payload malformed. As fast as Buffer#toString.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function encodeValue(wire: unknown): Buffer {
  let text: string | undefined;
  try {
    text = JSON.stringify(wire) as string | undefined;
  } catch (err) {
    // A BigInt or a cycle in a caller-supplied value (config, audit.custom).
    throw protocolError(`value cannot be written as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw protocolError(`value cannot be written as JSON: ${typeof wire}`);
  return Buffer.from(text, 'utf8');
}

function decodeValue(payload: Uint8Array): unknown {
  return parseText(utf8Text(payload));
}

function utf8Text(payload: Uint8Array): string {
  try {
    return UTF8.decode(payload);
  } catch (err) {
    throw protocolError(`invalid JSON payload: ${(err as Error).message}`, { cause: err });
  }
}

function parseText(text: string): unknown {
  const violation = jsonBoundsViolation(text);
  if (violation !== null) throw protocolError(`invalid JSON payload: ${violation}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 quotes the offending input in its message: escape it like any peer text.
    throw protocolError(`invalid JSON payload: ${peerText((err as Error).message)}`, { cause: err });
  }
}

export const jsonCodec: PayloadCodec = {
  encoding: 'json',
  encodeEvent<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): Buffer {
    return encodeValue(eventToWire(kind, event, correlationId, false));
  },
  decodeEvent<K extends EventKind>(kind: K, payload: Uint8Array): { event: EventMap[K]; correlationId: string } {
    return decodedEvent(kind, decodeValue(payload));
  },
  encodeResponse(response: AgentResponse, correlationId: string): Buffer {
    return encodeValue(agentResponseToWire(response, correlationId));
  },
  parseResponse(payload: Uint8Array): ParsedResponse {
    const body = decodeValue(payload);
    return { correlationId: extractCorrelationId(body), body };
  },
  readReply(payload: Uint8Array): ReadReply {
    const text = utf8Text(payload);
    const scanned = scanAgentResponse(payload, text);
    if (scanned !== undefined) return { correlationId: scanned.correlationId, response: scanned.response, body: undefined };
    const body = parseText(text);
    return { correlationId: extractCorrelationId(body), response: undefined, body };
  },
  encodeValue,
  decodeValue,
};
