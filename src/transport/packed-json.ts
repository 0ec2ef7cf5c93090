// JSON events for a connection host on another thread, router side: the event is packed
// (packed-json-format.ts) and the host writes its JSON text (packed-json-frame.ts), exactly the bytes
// JSON.stringify would have written (test/packed-json.property.test.ts). Packing walks the value once
// and copies all its strings with one native write (they are joined first, which V8 does without
// copying). On the sample event that is ~1.0 µs of the router's thread instead of ~3 µs for
// JSON.stringify plus the UTF-8 copy (bench/packed-json.ts, issue 13); the host pays more than the
// difference, on its own core.
//
// Anything the form cannot carry exactly packs as `false` and the caller stringifies as before:
// non-ASCII or lone surrogates, BigInt, toJSON, non-plain objects (Date, Map, typed arrays, class
// instances), cycles and deep nesting, more than 32 KiB of text, and a struct whose JSON might pass
// the frame limit (so the exact check stays with JSON.stringify's text).
import { MAX_PAYLOAD_LENGTH } from '../protocol/frame-encoder.js';
import { GrowableBytes } from '../protocol/growable-bytes.js';
import type { EventKind, EventMap, RequestHeadersEvent, ResponseHeadersEvent } from '../protocol/types.js';
import {
  OBJECT,
  ARRAY,
  STRING,
  NUMBER,
  NULL,
  OMITTED,
  TRUE,
  FALSE,
  SCHEMA,
  REQUEST_HEADERS,
  RESPONSE_HEADERS,
  METADATA,
  MAX_DEPTH,
  MAX_TEXT,
  TEXT_GROWTH,
  STRUCT_GROWTH,
} from './packed-json-format.js';

/** The events packed from the caller's object (packEvent); every other kind packs its wire object (pack). */
export type SchemaEventKind = 'request_headers' | 'response_headers';

export function hasSchema(kind: EventKind): kind is SchemaEventKind {
  return kind === 'request_headers' || kind === 'response_headers';
}

/** Thrown inside the walk, caught in pack(): this value takes the JSON.stringify path. */
const UNPACKABLE = Symbol('unpackable');

/**
 * Router side: one scratch buffer, reused; `bytes[start, length)` is the last packed value until the
 * next pack(). `start` is 0 unless the writer packs into another writer's buffer (`appendTo`).
 */
export class PackedJsonWriter extends GrowableBytes {
  /** Where a packed value begins (its u32 struct length). */
  private base = 0;

  get start(): number {
    return this.base;
  }

  /**
   * Every later pack goes into `owner`'s buffer, `gap` bytes after `owner.length` (room the owner fills
   * in front of it), until the next appendTo. The owner takes the buffer back with useBufferOf: a
   * pack may have grown it. Nothing of the owner's is let go here, whatever a pack does.
   */
  appendTo(owner: GrowableBytes, gap: number): void {
    this.useBufferOf(owner);
    this.base = owner.length + gap;
  }

  /** Packs `value` (a wire object); false, with nothing to use, when it must be stringified instead. */
  pack(value: object): boolean {
    this.begin();
    let text: string;
    try {
      text = this.value(value, 0, '');
    } catch (err) {
      return this.refuse(err);
    }
    return this.finish(text);
  }

  /**
   * Packs a RequestHeaders or ResponseHeaders event straight from the caller's object, its keys as a
   * schema, as its wire mapper would map it with `correlationId` injected (spec §6.1); false as pack().
   */
  packEvent<K extends SchemaEventKind>(kind: K, event: EventMap[K], correlationId: string): boolean {
    this.begin();
    let text: string;
    try {
      text =
        kind === 'request_headers'
          ? this.requestHeaders(event as RequestHeadersEvent, correlationId)
          : this.responseHeaders(event as ResponseHeadersEvent, correlationId);
    } catch (err) {
      return this.refuse(err);
    }
    return this.finish(text);
  }

  /** As requestHeadersToWire maps it (spec §6.2); returns the text. */
  private requestHeaders(e: RequestHeadersEvent, correlationId: string): string {
    const m = e.metadata as RequestHeadersEvent['metadata'] | null;
    if (typeof m !== 'object' || m === null) throw UNPACKABLE; // requestHeadersToWire's own error, via stringify
    this.schema(REQUEST_HEADERS);
    this.schema(METADATA);
    let t = this.value(m.correlationId, 2, '');
    t = this.value(m.requestId, 2, t);
    t = this.value(m.clientIp, 2, t);
    t = this.value(m.clientPort, 2, t);
    t = this.value(m.serverName, 2, t);
    t = this.value(m.protocol, 2, t);
    t = this.value(m.tlsVersion, 2, t);
    t = this.value(m.tlsCipher, 2, t);
    t = this.value(m.routeId, 2, t);
    t = this.value(m.upstreamId, 2, t);
    t = this.value(m.timestamp, 2, t);
    t = this.value(m.traceparent, 2, t);
    t = this.value(e.method, 1, t);
    t = this.value(e.uri, 1, t);
    t = this.headers(e.headers, t);
    return this.value(correlationId, 1, t);
  }

  /** As responseHeadersToWire maps it (spec §6.4); returns the text. */
  private responseHeaders(e: ResponseHeadersEvent, correlationId: string): string {
    this.schema(RESPONSE_HEADERS);
    const t = this.value(correlationId, 1, '');
    return this.headers(e.headers, this.value(e.status, 1, t));
  }

  private begin(): void {
    this.length = this.base;
    this.room(4);
    this.length += 4;
  }

  /** The walk threw: UNPACKABLE means stringify instead; anything else is the caller's (as JSON.stringify would throw it). */
  private refuse(err: unknown): false {
    this.abandon();
    if (err === UNPACKABLE) return false;
    throw err;
  }

  /** Appends the text after the struct; false when it is not ASCII or its JSON might pass the frame limit. */
  private finish(text: string): boolean {
    const structEnd = this.length;
    const structBytes = structEnd - this.base;
    if (text.length > MAX_TEXT || text.length * TEXT_GROWTH + structBytes * STRUCT_GROWTH > MAX_PAYLOAD_LENGTH) return this.abandon();
    // ASCII has one byte per UTF-16 unit: any other count means a character this form does not carry.
    // The room is for the worst case, so a short count cannot come from running out of buffer.
    this.room(text.length * 3);
    const written = this.bytes.write(text, structEnd, 'utf8');
    if (written !== text.length) return this.abandon();
    this.view.setUint32(this.base, structBytes - 4, true);
    this.length = structEnd + written;
    return true;
  }

  private abandon(): false {
    this.length = this.base;
    // A borrowed buffer is its owner's to let go.
    if (this.base === 0) this.release();
    return false;
  }

  /**
   * One value, its strings appended to `text`; returns the text. Every write makes its own room first
   * (a reservation made by a container for its members falls short once a member is itself a
   * container, and a byte written past a Buffer's end is dropped without an error). The text travels
   * through arguments, not a field: storing each new rope in the writer (an old object) would run the
   * write barrier once per string. Tested with `typeof v === …` one kind at a time, not a switch on
   * `typeof v`: TurboFan turns each comparison into a type check, where the switch calls the typeof
   * builtin for its string first.
   */
  private value(v: unknown, depth: number, text: string): string {
    if (typeof v === 'string') {
      if (v.length > MAX_TEXT) throw UNPACKABLE;
      this.head(STRING, v.length);
      return text + v;
    }
    if (typeof v === 'object') {
      if (v === null) this.tag(NULL);
      else if (depth >= MAX_DEPTH || (v as { toJSON?: unknown }).toJSON !== undefined) throw UNPACKABLE;
      else if (Array.isArray(v)) return this.array(v, depth, text);
      else return this.object(v as Record<string, unknown>, depth, text);
    } else if (typeof v === 'number') {
      this.room(9);
      this.bytes[this.length] = NUMBER;
      this.view.setFloat64(this.length + 1, v, true);
      this.length += 9;
    } else if (typeof v === 'boolean') this.tag(v ? TRUE : FALSE);
    else if (typeof v === 'undefined' || typeof v === 'function' || typeof v === 'symbol') this.tag(OMITTED);
    else throw UNPACKABLE; // bigint: JSON.stringify throws, and should say so itself
    return text;
  }

  /**
   * An event's header record (a member at depth 1): the bytes object() writes, with the usual value,
   * an array of strings, walked here instead of through value() and array() per header.
   */
  private headers(h: unknown, text: string): string {
    if (typeof h !== 'object' || h === null || Array.isArray(h)) return this.value(h, 1, text);
    if ((h as { toJSON?: unknown }).toJSON !== undefined) throw UNPACKABLE;
    const o = h as Record<string, unknown>;
    for (const key of this.members(o)) {
      this.keyLength(key);
      text += key;
      const values = o[key];
      if (!Array.isArray(values)) {
        text = this.value(values, 2, text);
        continue;
      }
      // Read once, as value() reads it: a getter may answer differently the second time.
      if ((values as { toJSON?: unknown }).toJSON !== undefined) throw UNPACKABLE;
      const n = values.length;
      this.head(ARRAY, n);
      for (let i = 0; i < n; i++) {
        const v: unknown = values[i];
        if (typeof v !== 'string' || v.length > MAX_TEXT) {
          text = this.value(v, 3, text);
          continue;
        }
        this.head(STRING, v.length);
        text += v;
      }
    }
    return text;
  }

  private array(a: unknown[], depth: number, text: string): string {
    const n = a.length;
    this.head(ARRAY, n);
    for (let i = 0; i < n; i++) text = this.value(a[i], depth + 1, text);
    return text;
  }

  private object(o: Record<string, unknown>, depth: number, text: string): string {
    for (const key of this.members(o)) {
      this.keyLength(key);
      text = this.value(o[key], depth + 1, text + key);
    }
    return text;
  }

  /**
   * A plain object's head; returns its keys, each to be written (keyLength) and read in turn. One key
   * list, then each member read when it is reached, as JSON.stringify reads them: a getter sees (and
   * may change) only what comes after it. (Object.values would be ~8 % faster, but it runs every
   * getter first and asks a Proxy for its keys twice.)
   */
  private members(o: object): string[] {
    const proto: unknown = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) throw UNPACKABLE;
    const keys = Object.keys(o);
    this.head(OBJECT, keys.length);
    return keys;
  }

  /** A tag and its u32 (a string's length, a container's count). */
  private head(tag: number, count: number): void {
    this.room(5);
    this.bytes[this.length] = tag;
    this.view.setUint32(this.length + 1, count, true);
    this.length += 5;
  }

  private keyLength(key: string): void {
    this.room(4);
    this.view.setUint32(this.length, key.length, true);
    this.length += 4;
  }

  private schema(schema: number): void {
    this.room(2);
    this.bytes[this.length] = SCHEMA;
    this.bytes[this.length + 1] = schema;
    this.length += 2;
  }

  private tag(tag: number): void {
    this.room(1);
    this.bytes[this.length++] = tag;
  }
}
