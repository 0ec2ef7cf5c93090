// JSON events for a connection host on another thread, host side: the JSON text of a packed value
// (packed-json-format.ts), byte for byte what JSON.stringify writes for the value the router packed.
import { ErrorCode, zapError, type AgentPoolError } from '../protocol/errors.js';
import { FRAME_HEADER_LENGTH, MAX_PAYLOAD_LENGTH, writeFrameHeader } from '../protocol/frame-encoder.js';
import { INITIAL_BYTES, KEEP_BYTES } from '../protocol/growable-bytes.js';
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
  MAX_DEPTH,
  MAX_TEXT,
  TEXT_GROWTH,
  STRUCT_GROWTH,
  SCHEMA_KEYS,
} from './packed-json-format.js';

/** Host side: the frame (`type`, then the JSON text of the packed value) in a Buffer of its own. */
export function packedJsonFrame(packed: Uint8Array, type: number): Buffer {
  return new PackedJsonReader(packed).frame(type);
}

/** `"key":` of every schema key, as bytes. */
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
    // The router packs nothing past these bounds (PackedJsonWriter.finish): checked before the worst-case
    // scratch is sized from them, they also keep the frame under the limit.
    if (textLength > MAX_TEXT || textLength * TEXT_GROWTH + this.structEnd * STRUCT_GROWTH > MAX_PAYLOAD_LENGTH) {
      throw corrupt('larger than the router packs');
    }
    this.out = scratchOf(FRAME_HEADER_LENGTH + textLength * TEXT_GROWTH + this.structEnd * STRUCT_GROWTH);
  }

  frame(type: number): Buffer {
    this.value(0);
    if (this.at !== this.structEnd || this.textAt !== this.packed.byteLength) throw corrupt('bytes left after the value');
    writeFrameHeader(this.out, 0, this.length - FRAME_HEADER_LENGTH, type);
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
