// Small value helpers shared by the proto mapping files (proto-*.ts): lenient scalar reads of
// decoded objects, header flattening, float32 display, JSON text fields.
import type { HeaderMap } from './types.js';
import type { PbHeader } from './proto-messages.js';
import { protocolError } from './errors.js';
import { setOwn } from './events-common.js';
import { jsonBoundsViolation } from './json-bounds.js';
import { peerText } from './peer-text.js';

/** An integer/float field: number as is; null/absent → 0; Long, bigint or string (other loader options) converted. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  if (typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return 0;
}

/** A proto3 `optional` numeric field: unset (absent/null) → null. */
export function optNum(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

export function str(v: string | null | undefined): string {
  return typeof v === 'string' ? v : '';
}

/** A proto3 `optional` string: unset → null. */
export function optStr(v: string | null | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * A float32 field as the shortest decimal that maps to the same float32, so 0.98 sent as a proto
 * `float` reads back as 0.98 and not 0.9800000190734863 (what a Rust peer prints, too).
 */
export function f32(x: unknown): number {
  const v = num(x);
  if (!Number.isFinite(v) || Number.isInteger(v)) return v;
  for (let p = 1; p <= 9; p++) {
    const y = Number(v.toPrecision(p));
    if (Math.fround(y) === v) return y;
  }
  return v;
}

/** One Header per value, map order then value order (spec §8.5). */
export function flattenHeaders(headers: HeaderMap): PbHeader[] {
  const out: PbHeader[] = [];
  for (const name in headers) {
    const values = headers[name];
    if (values === undefined) continue;
    for (let i = 0; i < values.length; i++) out.push({ name, value: values[i] });
  }
  return out;
}

/** Back to name → values, names in order of first appearance, values in arrival order. */
export function groupHeaders(list: readonly PbHeader[] | null | undefined): HeaderMap {
  const out: HeaderMap = {};
  if (!list) return out;
  for (const h of list) {
    const name = str(h.name);
    const value = str(h.value);
    // Own keys only: a client's header named `toString` or `constructor` must not find Object.prototype.
    const values = Object.hasOwn(out, name) ? out[name] : undefined;
    if (values !== undefined) values.push(value);
    else setOwn(out, name, [value]);
  }
  return out;
}

/** JSON text of a value; `undefined` writes as "null" (a string field must hold JSON). */
export function jsonText(value: unknown): string {
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** Parse a JSON text field; '' reads as `empty`. Bad JSON → ZAP_PROTOCOL_ERROR naming the field. */
export function parseJsonText(text: string | null | undefined, what: string, empty: unknown, correlationId?: string): unknown {
  if (typeof text !== 'string' || text === '') return empty;
  const violation = jsonBoundsViolation(text);
  if (violation !== null) throw protocolError(`${what}: invalid JSON (${violation})`, { correlationId });
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8 quotes the offending input in its message: escape it like any peer text.
    throw protocolError(`${what}: invalid JSON (${peerText(err instanceof Error ? err.message : err)})`, {
      correlationId,
    });
  }
}

/**
 * A map<string,string> or repeated field of a decoded object. Decoders take ownership of the
 * decoded object's arrays and maps (toObject builds fresh ones per message) instead of copying.
 */
export function mapOf(v: Record<string, string> | null | undefined): Record<string, string> {
  return v ?? {};
}

export function listOf<T>(v: T[] | null | undefined): T[] {
  return v ?? [];
}

/** Bytes of a decoded object as a Buffer (no copy when it already is one). */
export function bytesOf(v: Uint8Array | null | undefined): Buffer {
  if (v === null || v === undefined) return Buffer.alloc(0);
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}
