// JSON events for a connection host on another thread: the router packs the wire object, the host
// writes the JSON text. Packing walks the object once and copies all its strings with one native
// write (they are joined first, which V8 does without copying); the host then writes exactly the
// bytes JSON.stringify would have written (test/packed-json.property.test.ts). On the sample event
// that is ~1.3 µs of the router's thread instead of ~2.9 µs for JSON.stringify plus the UTF-8 copy
// (bench/packed-json.ts, issue 13); the host pays more than the difference, on its own core.
//
// Bytes: u32 struct length, the struct (tags below, numbers little-endian), then the text: every
// string and key in walk order, ASCII only. Anything else packs as `false` and the caller
// stringifies as before: non-ASCII or lone surrogates, BigInt, toJSON, non-plain objects (Date,
// Map, typed arrays, class instances), cycles and deep nesting, more than 32 KiB of text, and a
// struct whose JSON might pass the frame limit (so the exact check stays with JSON.stringify's text).
import { ErrorCode, zapError, type AgentPoolError } from '../protocol/errors.js';
import { METADATA_KEYS, REQUEST_HEADERS_KEYS } from '../protocol/events-request.js';
import { FRAME_HEADER_LENGTH, MAX_PAYLOAD_LENGTH } from '../protocol/frame-encoder.js';
import type { RequestHeadersEvent } from '../protocol/types.js';

const OBJECT = 1; // u32 member count, then per member: u32 key length, value
const ARRAY = 2; // u32 length, then the values
const STRING = 3; // u32 length
const NUMBER = 4; // f64
const NULL = 5;
const OMITTED = 6; // undefined, a function or a symbol: no member in an object, null in an array
const TRUE = 7;
const FALSE = 8;
const SCHEMA = 9; // u8 schema, then one value per key of the schema, in its order (OMITTED: no member)

/**
 * Objects whose keys the host knows: their keys cross as nothing. A RequestHeaders event is packed
 * from the caller's event as requestHeadersToWire would map it (the test compares the two).
 */
const SCHEMA_KEYS: readonly (readonly string[])[] = [REQUEST_HEADERS_KEYS, METADATA_KEYS];
const REQUEST_HEADERS = 0;
const METADATA = 1;

/** Deeper wire objects are stringified on the router (JSON.stringify's own recursion limit applies there). */
const MAX_DEPTH = 64;
/**
 * More text than this is stringified on the router too: JSON.stringify copies a long string natively,
 * faster than the host's byte loop writes it (a base64 body chunk), so packing pays for small events only.
 */
const MAX_TEXT = 32 * 1024;
/** Most JSON bytes one text byte or one struct byte can become (`\u00XX`; a number's 24 digits and its comma). */
const TEXT_GROWTH = 6;
const STRUCT_GROWTH = 26;
const INITIAL_BYTES = 4096;
/** Past this the scratch buffer is let go after use, so one large event does not pin memory. */
const KEEP_BYTES = 1 << 20;

/** Thrown inside the walk, caught in pack(): this value takes the JSON.stringify path. */
const UNPACKABLE = Symbol('unpackable');

/** Router side: one scratch buffer, reused; `bytes[0, length)` is the last packed value until the next pack(). */
export class PackedJsonWriter {
  bytes: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  length = 0;
  private view = new DataView(this.bytes.buffer);
  private text = '';

  /** Packs `value` (a wire object); false, with nothing to use, when it must be stringified instead. */
  pack(value: object): boolean {
    this.begin();
    try {
      this.room(9);
      this.value(value, 0);
    } catch (err) {
      return this.refuse(err);
    }
    return this.finish();
  }

  /** Packs a RequestHeaders event as its wire object with `correlationId` injected (spec §6.1, §6.2); false as pack(). */
  packRequestHeaders(e: RequestHeadersEvent, correlationId: string): boolean {
    this.begin();
    try {
      const m = e.metadata as RequestHeadersEvent['metadata'] | null;
      if (typeof m !== 'object' || m === null) throw UNPACKABLE; // requestHeadersToWire's own error, via stringify
      this.room(11 + 13 * 5 + 13 * 12);
      this.schema(REQUEST_HEADERS);
      this.schema(METADATA);
      this.value(m.correlationId, 2);
      this.value(m.requestId, 2);
      this.value(m.clientIp, 2);
      this.value(m.clientPort, 2);
      this.value(m.serverName, 2);
      this.value(m.protocol, 2);
      this.value(m.tlsVersion, 2);
      this.value(m.tlsCipher, 2);
      this.value(m.routeId, 2);
      this.value(m.upstreamId, 2);
      this.value(m.timestamp, 2);
      this.value(m.traceparent, 2);
      this.value(e.method, 1);
      this.value(e.uri, 1);
      this.value(e.headers, 1);
      this.value(correlationId, 1);
    } catch (err) {
      return this.refuse(err);
    }
    return this.finish();
  }

  private begin(): void {
    this.length = 4;
    this.text = '';
  }

  /** The walk threw: UNPACKABLE means stringify instead; anything else is the caller's (as JSON.stringify would throw it). */
  private refuse(err: unknown): false {
    this.abandon();
    if (err === UNPACKABLE) return false;
    throw err;
  }

  /** Appends the text after the struct; false when it is not ASCII or its JSON might pass the frame limit. */
  private finish(): boolean {
    const text = this.text;
    this.text = '';
    const structEnd = this.length;
    if (text.length > MAX_TEXT || text.length * TEXT_GROWTH + structEnd * STRUCT_GROWTH > MAX_PAYLOAD_LENGTH) return this.abandon();
    // ASCII has one byte per UTF-16 unit: any other count means a character this form does not carry.
    // The room is for the worst case, so a short count cannot come from running out of buffer.
    this.room(text.length * 3);
    const written = this.bytes.write(text, structEnd, 'utf8');
    if (written !== text.length) return this.abandon();
    this.view.setUint32(0, structEnd - 4, true);
    this.length = structEnd + written;
    return true;
  }

  /** Lets a buffer grown by a large event go (call after its bytes were copied). */
  release(): void {
    if (this.bytes.byteLength > KEEP_BYTES) this.reset(INITIAL_BYTES);
  }

  private abandon(): false {
    this.text = '';
    this.length = 0;
    this.release();
    return false;
  }

  /** One value; its container reserved room for the value's head (at most 9 bytes). */
  private value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'string':
        if (v.length > MAX_TEXT) throw UNPACKABLE;
        this.bytes[this.length] = STRING;
        this.view.setUint32(this.length + 1, v.length, true);
        this.length += 5;
        this.text += v;
        return;
      case 'number':
        this.bytes[this.length] = NUMBER;
        this.view.setFloat64(this.length + 1, v, true);
        this.length += 9;
        return;
      case 'boolean':
        this.tag(v ? TRUE : FALSE);
        return;
      case 'undefined':
      case 'function':
      case 'symbol':
        this.tag(OMITTED);
        return;
      case 'object':
        if (v === null) return this.tag(NULL);
        if (depth >= MAX_DEPTH || (v as { toJSON?: unknown }).toJSON !== undefined) throw UNPACKABLE;
        if (Array.isArray(v)) return this.array(v, depth);
        return this.object(v as Record<string, unknown>, depth);
      default:
        throw UNPACKABLE; // bigint: JSON.stringify throws, and should say so itself
    }
  }

  private array(a: unknown[], depth: number): void {
    const n = a.length;
    this.room(5 + n * 9);
    this.bytes[this.length] = ARRAY;
    this.view.setUint32(this.length + 1, n, true);
    this.length += 5;
    for (let i = 0; i < n; i++) this.value(a[i], depth + 1);
  }

  private object(o: Record<string, unknown>, depth: number): void {
    const proto: unknown = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) throw UNPACKABLE;
    const keys = Object.keys(o);
    this.room(5 + keys.length * 13);
    this.bytes[this.length] = OBJECT;
    this.view.setUint32(this.length + 1, keys.length, true);
    this.length += 5;
    for (const key of keys) {
      this.view.setUint32(this.length, key.length, true);
      this.length += 4;
      this.text += key;
      this.value(o[key], depth + 1);
    }
  }

  private schema(schema: number): void {
    this.bytes[this.length] = SCHEMA;
    this.bytes[this.length + 1] = schema;
    this.length += 2;
  }

  private tag(tag: number): void {
    this.bytes[this.length++] = tag;
  }

  private room(extra: number): void {
    if (this.length + extra > this.bytes.byteLength) this.grow(this.length + extra);
  }

  private grow(need: number): void {
    let size = this.bytes.byteLength * 2;
    while (size < need) size *= 2;
    const kept = this.bytes.subarray(0, this.length);
    this.reset(size);
    this.bytes.set(kept);
  }

  private reset(size: number): void {
    this.bytes = Buffer.allocUnsafeSlow(size);
    this.view = new DataView(this.bytes.buffer);
  }
}

/** Host side: the frame (`type`, then the JSON text of the packed value) in a Buffer of its own. */
export function packedJsonFrame(packed: Uint8Array, type: number): Buffer {
  return new PackedJsonReader(packed).frame(type);
}

/** `"key":` of every schema key, and `{"key":` of the first, as bytes. */
const SCHEMA_MEMBERS = SCHEMA_KEYS.map((keys) => keys.map((key) => new Uint8Array(Buffer.from(`${JSON.stringify(key)}:`, 'latin1'))));

const ESCAPES: Record<number, number> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72, 0x22: 0x22, 0x5c: 0x5c };
const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** The host thread's output scratch, reused from frame to frame (a worst-case size, so every write fits). */
let scratch: Buffer | undefined;

function scratchOf(size: number): Buffer {
  if (scratch === undefined || scratch.byteLength < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, INITIAL_BYTES));
  return scratch;
}

/** Writes the JSON text of packed bytes; every read is checked, so bytes that are not ours throw ZAP_ERROR. */
class PackedJsonReader {
  private readonly view: DataView;
  private at = 4;
  private readonly structEnd: number;
  private textAt: number;
  private out: Buffer;
  private length = FRAME_HEADER_LENGTH;

  constructor(private readonly packed: Uint8Array) {
    this.view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    if (packed.byteLength < 4) throw corrupt('shorter than its header');
    this.structEnd = 4 + this.view.getUint32(0, true);
    if (this.structEnd > packed.byteLength) throw corrupt('struct past the end');
    this.textAt = this.structEnd;
    const textLength = packed.byteLength - this.structEnd;
    // The router checked this bound before packing, so the frame cannot pass the limit.
    this.out = scratchOf(FRAME_HEADER_LENGTH + textLength * TEXT_GROWTH + this.structEnd * STRUCT_GROWTH);
  }

  frame(type: number): Buffer {
    this.value(0);
    if (this.at !== this.structEnd || this.textAt !== this.packed.byteLength) throw corrupt('bytes left after the value');
    const payload = this.length - FRAME_HEADER_LENGTH;
    if (payload > MAX_PAYLOAD_LENGTH) throw corrupt('text past the frame limit');
    this.out.writeUInt32BE(payload + 1, 0);
    this.out[4] = type;
    // The scratch is sized for the worst case: the frame gets exact bytes of its own.
    const frame = Buffer.allocUnsafe(this.length);
    this.out.copy(frame, 0, 0, this.length);
    if (this.out.byteLength > KEEP_BYTES) scratch = undefined;
    return frame;
  }

  private value(depth: number): void {
    if (depth > MAX_DEPTH) throw corrupt('nested too deep');
    const tag = this.u8();
    switch (tag) {
      case STRING:
        return this.string(this.u32());
      case NUMBER: {
        this.need(8);
        const n = this.view.getFloat64(this.at, true);
        this.at += 8;
        return this.ascii(Number.isFinite(n) ? String(n) : 'null');
      }
      case NULL:
      case OMITTED:
        return this.ascii('null');
      case TRUE:
        return this.ascii('true');
      case FALSE:
        return this.ascii('false');
      case ARRAY: {
        const n = this.u32();
        this.byte(0x5b);
        for (let i = 0; i < n; i++) {
          if (i > 0) this.byte(0x2c);
          this.value(depth + 1);
        }
        return this.byte(0x5d);
      }
      case SCHEMA: {
        const members = SCHEMA_MEMBERS[this.u8()];
        if (members === undefined) throw corrupt('unknown schema');
        this.byte(0x7b);
        let first = true;
        for (const member of members) {
          if (this.omitted()) continue;
          if (!first) this.byte(0x2c);
          first = false;
          this.bytesOf(member);
          this.value(depth + 1);
        }
        return this.byte(0x7d);
      }
      case OBJECT: {
        const n = this.u32();
        this.byte(0x7b);
        let first = true;
        for (let i = 0; i < n; i++) {
          const keyLength = this.u32();
          // JSON.stringify leaves out a member whose value it cannot write.
          if (this.omitted()) {
            this.skipText(keyLength);
            continue;
          }
          if (!first) this.byte(0x2c);
          first = false;
          this.string(keyLength);
          this.byte(0x3a);
          this.value(depth + 1);
        }
        return this.byte(0x7d);
      }
      default:
        throw corrupt(`unknown tag ${tag}`);
    }
  }

  private string(n: number): void {
    const end = this.textAt + n;
    if (end > this.packed.byteLength) throw corrupt('text past the end');
    const src = this.packed;
    const out = this.out;
    let o = this.length;
    out[o++] = 0x22;
    for (let i = this.textAt; i < end; i++) {
      const c = src[i] as number;
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        if (c > 0x7f) throw corrupt('text not ASCII');
        out[o++] = c;
        continue;
      }
      out[o++] = 0x5c;
      const short = ESCAPES[c];
      if (short !== undefined) out[o++] = short;
      else {
        out[o++] = 0x75;
        out[o++] = 0x30;
        out[o++] = 0x30;
        out[o++] = HEX[c >> 4] as number;
        out[o++] = HEX[c & 15] as number;
      }
    }
    out[o++] = 0x22;
    this.length = o;
    this.textAt = end;
  }

  /** Steps over the next value when it is OMITTED. */
  private omitted(): boolean {
    if (this.at >= this.structEnd || this.packed[this.at] !== OMITTED) return false;
    this.at++;
    return true;
  }

  /** A schema key: short, so copied byte by byte (cheaper than a native set() per key). */
  private bytesOf(b: Uint8Array): void {
    const out = this.out;
    let o = this.length;
    for (let i = 0; i < b.length; i++) out[o++] = b[i] as number;
    this.length = o;
  }

  private skipText(n: number): void {
    if (this.textAt + n > this.packed.byteLength) throw corrupt('text past the end');
    this.textAt += n;
  }

  private ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.out[this.length++] = s.charCodeAt(i);
  }

  private byte(b: number): void {
    this.out[this.length++] = b;
  }

  private u8(): number {
    this.need(1);
    return this.packed[this.at++] as number;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }

  private need(bytes: number): void {
    if (this.at + bytes > this.structEnd) throw corrupt('struct cut short');
  }
}

function corrupt(why: string): AgentPoolError {
  return zapError(ErrorCode.Error, `corrupt packed JSON: ${why}`);
}
