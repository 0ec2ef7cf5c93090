// The byte primitives of the binary batches that cross between the router and a host thread
// (send-batch.ts, result-batch.ts): a growable writer and a reader that checks every read against
// the buffer's end, so that a corrupt batch throws a typed error instead of reading garbage.
import { ErrorCode, zapError, type AgentPoolError } from '../protocol/errors.js';
import { GrowableBytes } from '../protocol/growable-bytes.js';

const UTF8 = 0;
const ASCII = 1;
const UTF16 = 2;
/** Strings up to this many UTF-16 units are copied in JS when they are ASCII (ids, header names). */
const SHORT_STRING = 32;

/** Buffer's decoding methods behind toString(), which @types/node does not declare. */
interface BufferSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}

/** String.prototype.isWellFormed (V8 11, Node 20), which the ES2022 lib we compile against does not declare. */
interface WellFormed {
  isWellFormed(): boolean;
}

/** A batch's head: its u32 item count (patched by the batch writer), then its u32 byte length. */
const HEAD = 8;

/**
 * Appends numbers and strings to one growing buffer behind the batch's head; `take()` hands out the
 * bytes as a fresh, transferable ArrayBuffer, or `handOver()` the whole buffer, and the next batch starts.
 */
export class BatchWriter extends GrowableBytes {
  /** Bytes written so far, the head included. */
  override length = HEAD;

  u8(value: number): void {
    this.room(1);
    this.bytes[this.length++] = value;
  }

  u16(value: number): void {
    this.room(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }

  u32(value: number): void {
    this.room(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  f64(value: number): void {
    this.room(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  /**
   * The string's bytes behind a u32 of byte length × 4 + encoding: UTF-8, ASCII (the reader takes the
   * cheaper latin1 path), or UTF-16LE for a string with a lone surrogate, which UTF-8 would replace.
   */
  str(value: string): void {
    this.room(4 + value.length * 3);
    const at = this.length + 4;
    if (value.length <= SHORT_STRING && this.asciiInto(value, at)) {
      this.view.setUint32(this.length, value.length * 4 + ASCII, true);
      this.length = at + value.length;
      return;
    }
    let written = this.bytes.write(value, at, 'utf8');
    let encoding = written === value.length ? ASCII : UTF8;
    if (encoding === UTF8 && !(value as unknown as WellFormed).isWellFormed()) {
      written = this.bytes.write(value, at, 'utf16le');
      encoding = UTF16;
    }
    this.view.setUint32(this.length, written * 4 + encoding, true);
    this.length = at + written;
  }

  /** Copies a short ASCII string byte by byte (cheaper than a native call); false, with bytes to be overwritten, for any other. */
  private asciiInto(value: string, at: number): boolean {
    const bytes = this.bytes;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) return false;
      bytes[at + i] = c;
    }
    return true;
  }

  /** Overwrites the u32 at `at` (a count known only at the end). */
  patchU32(at: number, value: number): void {
    this.view.setUint32(at, value, true);
  }

  patchU8(at: number, value: number): void {
    this.bytes[at] = value;
  }

  patchF64(at: number, value: number): void {
    this.view.setFloat64(at, value, true);
  }

  /** Reserves `bytes` to be filled later with the patch methods; returns where they start. */
  skip(bytes: number): number {
    this.room(bytes);
    const at = this.length;
    this.length += bytes;
    return at;
  }

  /** `value` as UTF-8 with nothing in front (the caller records the length); returns its byte count. */
  utf8(value: string): number {
    this.room(value.length * 3);
    const written = this.bytes.write(value, this.length, 'utf8');
    this.length += written;
    return written;
  }

  raw(value: Uint8Array): void {
    this.room(value.byteLength);
    this.bytes.set(value, this.length);
    this.length += value.byteLength;
  }

  /** The bytes written, copied into an exact-size ArrayBuffer (ours to transfer); the writer starts over. */
  take(): ArrayBuffer {
    this.view.setUint32(4, this.length, true);
    const out = new Uint8Array(this.length);
    out.set(this.bytes.subarray(0, this.length));
    this.length = HEAD;
    this.release();
    return out.buffer;
  }

  /**
   * The whole buffer, not copied (to transfer: its head says how much of it is the batch); the writer
   * starts over in `next`, or in a new buffer. No copy, and with a buffer the host gave back, no fresh
   * memory to fault in either (issue 13).
   */
  override handOver(next: ArrayBuffer | undefined): ArrayBuffer {
    this.view.setUint32(4, this.length, true);
    const out = super.handOver(next);
    this.length = HEAD;
    return out;
  }
}

/** Reads a batch front to back; any read past the end, or a value out of its range, throws ZAP_ERROR. */
export class BatchReader {
  private readonly bytes: Buffer;
  private readonly view: DataView;
  /** The batch's byte length (a field: every read checks against it). */
  private size: number;
  offset = 0;

  constructor(
    readonly buffer: ArrayBuffer,
    private readonly what: string,
  ) {
    this.bytes = Buffer.from(buffer);
    this.view = new DataView(buffer);
    this.size = buffer.byteLength;
  }

  /**
   * The batch's item count; reads the head, whose byte length may be less than the buffer's (a whole
   * buffer handed over). `end()` then checks that nothing follows the last item.
   */
  count(): number {
    const count = this.u32();
    const length = this.u32();
    if (length < HEAD || length > this.size) throw this.corrupt(`byte length ${length} in a buffer of ${this.size}`);
    this.size = length;
    return count;
  }

  end(): void {
    if (this.offset !== this.size) throw this.corrupt(`${this.size - this.offset} byte(s) after the last item`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++] as number;
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return v;
  }

  str(): string {
    const head = this.u32();
    const length = head >>> 2;
    this.need(length);
    const start = this.offset;
    const end = start + length;
    // Buffer's own slice methods: toString() would check its arguments again on every string.
    const bytes = this.bytes as unknown as BufferSlices;
    switch (head & 3) {
      case ASCII:
        this.offset = end;
        return bytes.latin1Slice(start, end);
      case UTF8:
        this.offset = end;
        return bytes.utf8Slice(start, end);
      case UTF16:
        this.offset = end;
        return bytes.ucs2Slice(start, end);
      default:
        throw this.corrupt('unknown string encoding');
    }
  }

  /** `length` bytes as a view into the batch (no copy). */
  view8(length: number): Buffer {
    this.need(length);
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** A typed error for a value that cannot be right (unknown tag, count past the end). */
  corrupt(why: string): AgentPoolError {
    return zapError(ErrorCode.Error, `corrupt ${this.what} at byte ${this.offset}: ${why}`);
  }

  private need(bytes: number): void {
    if (this.offset + bytes > this.size) {
      throw this.corrupt(`${bytes} byte(s) wanted, ${this.size - this.offset} left`);
    }
  }
}
