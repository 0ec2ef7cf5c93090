// Helpers shared by the event and AgentResponse wire mappers (spec §6): byte and wide-integer fields that
// differ between JSON and MessagePack, the header-map reader, and safe access to decoded structs.
import type { HeaderMap } from './types.js';
import { describe, encodeBase64, isAbsent, type WireStruct } from './wire-reader.js';
import { protocolError } from './errors.js';
import { quotedPeerText } from './peer-text.js';

/**
 * A byte field on the wire: padded base64 text in JSON, the bytes themselves (packed as msgpack bin)
 * when `binary` is true (spec §4.2).
 */
export function wireBytes(bytes: Uint8Array, binary: boolean): string | Uint8Array {
  return binary ? bytes : encodeBase64(bytes);
}

/**
 * A u64 field. msgpackr writes a JS number above 2^32 as float64, which Rust rejects for integer fields;
 * a BigInt makes it write a 64-bit integer instead (spec §4.2: integers in integer form).
 */
export function wireU64(n: number, binary: boolean): number | bigint {
  return binary && n > 0xffffffff && Number.isSafeInteger(n) ? BigInt(n) : n;
}

/**
 * Header map (name → array of strings, spec §6.2). The decoded object is fresh from the parser, so a
 * valid one is returned as is: no copy, arrival order preserved. A msgpack Map is converted.
 */
export function headerMapFromWire(s: WireStruct, key: string, what: string): HeaderMap {
  let v = s[key];
  if (isAbsent(v)) throw protocolError(`${what}: key '${key}' must be an object of string arrays, got ${describe(v)}`);
  if (v instanceof Map) v = Object.fromEntries(v);
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw protocolError(`${what}: key '${key}' must be an object of string arrays, got ${describe(v)}`);
  }
  const map = v as Record<string, unknown>;
  for (const name in map) {
    const values = map[name];
    if (!Array.isArray(values)) {
      throw protocolError(`${what}: header ${quotedPeerText(name)} must be an array of strings, got ${describe(values)}`);
    }
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== 'string') {
        throw protocolError(`${what}: header ${quotedPeerText(name)} must be an array of strings, got ${describe(values[i])} inside`);
      }
    }
  }
  return map as HeaderMap;
}

/** Unsigned integer no wider than `max` (u16 status codes, u32 indexes). */
export function checkRange(n: number, max: number, what: string, key: string): number {
  if (n < 0 || n > max) throw protocolError(`${what}: key '${key}' out of range: ${n}`);
  return n;
}

export const U16_MAX = 0xffff;
export const U32_MAX = 0xffffffff;

/**
 * Value of `key` in a decoded struct, which may be a plain object, a Map, or (msgpack) a positional
 * array read at `index` (-1: not addressable by position). Anything else yields undefined.
 */
export function member(value: unknown, key: string, index: number): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) return index >= 0 ? value[index] : undefined;
  if (value instanceof Map) return value.get(key);
  if (value instanceof Uint8Array) return undefined;
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

/** Sets an own enumerable property; plain assignment would change the prototype for the key `__proto__`. */
export function setOwn(o: object, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else (o as Record<string, unknown>)[key] = value;
}
