// Lenient, typed field readers for decoded wire objects (JSON or MessagePack), shared by every
// codec file. Each reader throws a ZAP_PROTOCOL_ERROR naming the message and the key, so a bad
// message produces one clear error and never a TypeError from deep inside a mapper.
import { protocolError } from './errors.js';
import { jsonBoundsViolation } from './json-bounds.js';
import { peerText, quotedPeerText } from './peer-text.js';

export type WireStruct = Record<string, unknown>;

/**
 * A struct as a map, or — MessagePack leniency (spec §4.2) — as a positional array whose elements
 * follow `keys`; missing trailing elements read as absent.
 */
export function asStruct(value: unknown, keys: readonly string[], what: string): WireStruct {
  if (Array.isArray(value)) {
    const out: WireStruct = {};
    for (let i = 0; i < keys.length && i < value.length; i++) out[keys[i] as string] = value[i];
    return out;
  }
  if (value instanceof Map) return Object.fromEntries(value) as WireStruct;
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) return value as WireStruct;
  throw protocolError(`${what}: expected an object, got ${describe(value)}`);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value;
}

function fail(what: string, key: string, expected: string, value: unknown): never {
  throw protocolError(`${what}: key ${quotedPeerText(key)} must be ${expected}, got ${describe(value)}`);
}

export function isAbsent(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

export function reqString(s: WireStruct, key: string, what: string): string {
  const v = s[key];
  if (typeof v !== 'string') fail(what, key, 'a string', v);
  return v;
}

export function stringOr(s: WireStruct, key: string, what: string, dflt: string): string {
  const v = s[key];
  if (isAbsent(v)) return dflt;
  if (typeof v !== 'string') fail(what, key, 'a string', v);
  return v;
}

export function optString(s: WireStruct, key: string, what: string): string | null {
  return isAbsent(s[key]) ? null : reqString(s, key, what);
}

function toSafeInteger(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) {
    return Number(v);
  }
  return undefined;
}

/** Integer without fraction, within ±(2^53 − 1) (spec §4.1). */
export function reqInt(s: WireStruct, key: string, what: string): number {
  const v = toSafeInteger(s[key]);
  if (v === undefined) fail(what, key, 'an integer', s[key]);
  return v;
}

export function intOr(s: WireStruct, key: string, what: string, dflt: number): number {
  return isAbsent(s[key]) ? dflt : reqInt(s, key, what);
}

export function optInt(s: WireStruct, key: string, what: string): number | null {
  return isAbsent(s[key]) ? null : reqInt(s, key, what);
}

export function reqNumber(s: WireStruct, key: string, what: string): number {
  const v = s[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  fail(what, key, 'a number', v);
}

export function numberOr(s: WireStruct, key: string, what: string, dflt: number): number {
  return isAbsent(s[key]) ? dflt : reqNumber(s, key, what);
}

export function optNumber(s: WireStruct, key: string, what: string): number | null {
  return isAbsent(s[key]) ? null : reqNumber(s, key, what);
}

export function reqBool(s: WireStruct, key: string, what: string): boolean {
  const v = s[key];
  if (typeof v !== 'boolean') fail(what, key, 'a boolean', v);
  return v;
}

export function boolOr(s: WireStruct, key: string, what: string, dflt: boolean): boolean {
  return isAbsent(s[key]) ? dflt : reqBool(s, key, what);
}

export function stringArrayOr(s: WireStruct, key: string, what: string, dflt: string[] = []): string[] {
  const v = s[key];
  if (isAbsent(v)) return dflt;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(what, key, 'an array of strings', v);
  return v as string[];
}

/** Object string → string; a Map (MessagePack) is accepted too. */
export function stringMapOr(s: WireStruct, key: string, what: string): Record<string, string> {
  const v = s[key];
  if (isAbsent(v)) return {};
  const entries = v instanceof Map ? [...v.entries()] : typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : null;
  if (entries === null) fail(what, key, 'an object of strings', v);
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (typeof val !== 'string') fail(what, `${key}.${String(k)}`, 'a string', val);
    out[String(k)] = val;
  }
  return out;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Standard base64, padded or not (spec §4.1). Returns null when the text is not valid base64. */
export function decodeBase64(text: string): Buffer | null {
  if (!BASE64_RE.test(text)) return null;
  return Buffer.from(text, 'base64');
}

export function encodeBase64(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('base64');
}

/** Byte field: MessagePack bin, or a base64 string (JSON; also accepted in MessagePack). */
export function reqBytes(s: WireStruct, key: string, what: string): Buffer {
  const v = s[key];
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') {
    const b = decodeBase64(v);
    if (b === null) fail(what, key, 'valid base64', v);
    return b;
  }
  fail(what, key, 'bytes or a base64 string', v);
}

// Strict UTF-8 (a BOM or invalid sequence makes the payload malformed, spec §4.1); created once.
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parse a JSON payload (UTF-8 bytes); any failure becomes a ZAP_PROTOCOL_ERROR naming `what`. */
export function parseJsonPayload(payload: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = UTF8_STRICT.decode(payload);
  } catch (err) {
    throw protocolError(`${what}: invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  // Too deep for later recursive walkers (an untyped RangeError), or too many objects for the heap.
  const violation = jsonBoundsViolation(text);
  if (violation !== null) throw protocolError(`${what}: invalid JSON (${violation})`);
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 quotes the offending input in its message: escape it like any peer text (it may be logged,
    // or sent back in a registration refusal).
    throw protocolError(`${what}: invalid JSON (${peerText(err instanceof Error ? err.message : err)})`);
  }
}
