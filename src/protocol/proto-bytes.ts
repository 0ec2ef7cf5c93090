// Protobuf wire bytes by hand, for the writers of the hot messages (proto-request-headers.ts,
// proto-reply.ts): sizes are summed first, then the bytes written into one buffer of exactly that
// size. Only what those writers need: varints of non-negative safe integers, string fields with
// one-byte tags, embedded messages whose size the caller computed.

/** Wire type of strings, bytes and embedded messages. */
export const LEN = 2;
/** Strings shorter than this are written by a JS loop (a native call costs more for them). */
const SHORT_STRING = 48;

/** Bytes of `s` in UTF-8 as Buffer#write writes it (a lone surrogate becomes 3 bytes of U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: 2 UTF-16 units → 4 bytes
      i++;
    } else n += 2;
  }
  return n;
}

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Field tags of one-byte varint size are all we write (fields 1–15). */
export function stringFieldSize(byteLength: number): number {
  return 1 + varintSize(byteLength) + byteLength;
}

export class ByteWriter {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  varint(v: number): void {
    const buf = this.buf;
    while (v >= 128) {
      buf[this.offset++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    buf[this.offset++] = v;
  }

  byte(b: number): void {
    this.buf[this.offset++] = b;
  }

  /** A varint field (wire type 0), left out when 0 as proto3 leaves out defaults. */
  optVarint(field: number, v: number): void {
    if (v === 0) return;
    this.buf[this.offset++] = field << 3;
    this.varint(v);
  }

  /** A string field whose UTF-8 length the size pass measured; left out when undefined. */
  optString(field: number, s: string | undefined, byteLength: number): void {
    if (s === undefined) return;
    this.buf[this.offset++] = (field << 3) | LEN;
    this.varint(byteLength);
    if (byteLength === s.length && byteLength < SHORT_STRING) {
      const buf = this.buf;
      let at = this.offset;
      for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
      this.offset = at;
    } else {
      this.offset += this.buf.write(s, this.offset, byteLength, 'utf8');
    }
  }
}
