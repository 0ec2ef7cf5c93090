// A cursor over the bytes of a compact ASCII JSON text, for json-reply-scanner.ts: keys, strings
// without escapes, numbers as JSON.parse reads them, arrays and maps of strings, header ops (§6.9.3).
// Each reader takes the position and returns the one after what it read, or MISS; what it read
// waits in a field (more() leaves its position in `next`). Bytes are compared in local loops over
// local positions: a position kept in a field or a module variable costs V8 a memory round trip
// per byte. Reads at the end of the bytes give undefined, which no comparison below takes.
//
// Strings come from the decoded text, whose offsets are the bytes' own because only ASCII is read.
// One of 13 characters or more is copied out of the bytes instead: V8 would make a slice that keeps
// the whole reply text alive for as long as the caller keeps the string (JSON.parse copies too).
import { MAX_PAYLOAD_CONTAINERS } from './msgpack-bounds.js';
import type { HeaderOp } from './types.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_ARRAY = 0x5d;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
const UPPER_E = 0x45;
const LOWER_E = 0x65;
const PLUS = 0x2b;
const SPACE = 0x20;
const ASCII_MAX = 0x7f;
/** A position below 0: not a reply the scanner takes. */
export const MISS = -1;
/** From this length V8 slices a string instead of copying it (SlicedString::kMinLength). */
const SLICE_MIN = 13;
const latin1Slice = Buffer.prototype.latin1Slice;

export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
export const NULL = ascii('null');
export const TRUE = ascii('true');
export const FALSE = ascii('false');

const K_SET = ascii('set');
const K_ADD = ascii('add');
const K_REMOVE = ascii('remove');
const K_NAME = ascii('name');
const K_VALUE = ascii('value');
const K_CORRELATION_ID = ascii('correlation_id');

/** True when b[at, at + word.length) is `word`. */
export function startsWith(b: Uint8Array, at: number, word: Uint8Array): boolean {
  const n = word.length;
  if (at + n > b.length) return false;
  for (let i = 0; i < n; i++) if (b[at + i] !== word[i]) return false;
  return true;
}

/**
 * End (exclusive) of the string whose body starts at `at`; MISS at an escape, a control character,
 * a byte outside ASCII (the general path checks the UTF-8) or the end.
 */
function stringEnd(b: Uint8Array, at: number): number {
  const n = b.length;
  for (; at < n; at++) {
    const c = b[at] as number;
    if (c === QUOTE) return at;
    if (c < SPACE || c === BACKSLASH || c > ASCII_MAX) return MISS;
  }
  return MISS;
}

/** One scan at a time per thread: a scan's state lives in the fields. */
export class ReplyCursor {
  b: Uint8Array = new Uint8Array(0);
  text = '';
  containers = 0;
  /** The key read by key(): b[keyStart, keyEnd). */
  keyStart = 0;
  keyEnd = 0;
  /** What the last value reader produced. */
  str = '';
  num = 0;
  strs: string[] = [];
  map: Record<string, string> = {};
  ops: HeaderOp[] = [];

  /** `"key":` at `at`; the cursor after the colon, or MISS. */
  key(at: number): number {
    const b = this.b;
    if (b[at] !== QUOTE) return MISS;
    const end = stringEnd(b, at + 1);
    if (end < 0 || b[end + 1] !== COLON) return MISS;
    this.keyStart = at + 1;
    this.keyEnd = end;
    return end + 2;
  }

  /** Whether the key key() read is `word`. */
  keyIs(word: Uint8Array): boolean {
    return this.keyEnd - this.keyStart === word.length && startsWith(this.b, this.keyStart, word);
  }

  /** A string at `at` into `str`; the cursor after it, or MISS. */
  string(at: number): number {
    if (this.b[at] !== QUOTE) return MISS;
    const end = stringEnd(this.b, at + 1);
    if (end < 0) return MISS;
    this.str = end - at - 1 < SLICE_MIN ? this.text.slice(at + 1, end) : (latin1Slice.call(this.b, at + 1, end) as string);
    return end + 1;
  }

  /** Where more() left the cursor. */
  next = 0;
  /** After a member or element: 1 past a comma, 0 past `close`, MISS otherwise; the cursor goes to `next`. */
  more(at: number, close: number): number {
    const c = this.b[at];
    this.next = at + 1;
    return c === COMMA ? 1 : c === close ? 0 : MISS;
  }

  /** A JSON number into `num` (as JSON.parse reads it); the cursor after it, or MISS. */
  number(at: number): number {
    const b = this.b;
    const start = at;
    if (b[at] === MINUS) at++;
    let c = b[at] as number;
    if (c === ZERO) c = b[++at] as number;
    else if (c > ZERO && c <= NINE) while (c >= ZERO && c <= NINE) c = b[++at] as number;
    else return MISS;
    if (c === DOT) {
      c = b[++at] as number;
      if (!(c >= ZERO && c <= NINE)) return MISS;
      while (c >= ZERO && c <= NINE) c = b[++at] as number;
    }
    if (c === UPPER_E || c === LOWER_E) {
      c = b[++at] as number;
      if (c === PLUS || c === MINUS) c = b[++at] as number;
      if (!(c >= ZERO && c <= NINE)) return MISS;
      while (c >= ZERO && c <= NINE) c = b[++at] as number;
    }
    this.num = Number(this.text.slice(start, at));
    return at;
  }

  /** `null` → [], or an array of strings, into `strs`. */
  strings(at: number): number {
    const b = this.b;
    const out: string[] = [];
    this.strs = out;
    if (startsWith(b, at, NULL)) return at + 4;
    if (b[at] !== OPEN_ARRAY) return MISS;
    this.containers++;
    if (b[at + 1] === CLOSE_ARRAY) return at + 2;
    at++;
    for (;;) {
      at = this.string(at);
      if (at < 0) return MISS;
      out.push(this.str);
      const more = this.more(at, CLOSE_ARRAY);
      at = this.next;
      if (more <= 0) return more === 0 ? at : MISS;
    }
  }

  /** `null` → {}, or an object of string values (never `__proto__`), into `map`. */
  stringMap(at: number): number {
    const b = this.b;
    const out: Record<string, string> = {};
    this.map = out;
    if (startsWith(b, at, NULL)) return at + 4;
    if (b[at] !== OPEN_OBJECT) return MISS;
    this.containers++;
    if (b[at + 1] === CLOSE_OBJECT) return at + 2;
    at++;
    for (;;) {
      at = this.key(at);
      if (at < 0) return MISS;
      // audit.custom carries the cid in nearly every reply: that key is the interned constant, not a
      // fresh slice for the property store to look up in the string table.
      const name = this.keyIs(K_CORRELATION_ID) ? 'correlation_id' : this.text.slice(this.keyStart, this.keyEnd);
      // A key twice keeps its last value, as JSON.parse does; only `__proto__` would set the prototype.
      if (name === '__proto__') return MISS;
      at = this.string(at);
      if (at < 0) return MISS;
      out[name] = this.str;
      const more = this.more(at, CLOSE_OBJECT);
      at = this.next;
      if (more <= 0) return more === 0 ? at : MISS;
    }
  }

  /** `null` → [], or `[{"set":{"name":…,"value":…}}, {"add":…}, {"remove":{"name":…}}, …]`, into `ops`. */
  headerOps(at: number): number {
    const b = this.b;
    const out: HeaderOp[] = [];
    this.ops = out;
    if (startsWith(b, at, NULL)) return at + 4;
    if (b[at] !== OPEN_ARRAY) return MISS;
    this.containers++;
    if (b[at + 1] === CLOSE_ARRAY) return at + 2;
    at++;
    for (;;) {
      at = this.headerOp(at, out);
      if (at < 0) return MISS;
      const more = this.more(at, CLOSE_ARRAY);
      at = this.next;
      if (more <= 0) return more === 0 ? at : MISS;
    }
  }

  private headerOp(at: number, out: HeaderOp[]): number {
    const b = this.b;
    if (b[at] !== OPEN_OBJECT) return MISS;
    at = this.key(at + 1);
    if (at < 0 || b[at] !== OPEN_OBJECT) return MISS;
    const tag = this.keyIs(K_SET) ? 'set' : this.keyIs(K_ADD) ? 'add' : this.keyIs(K_REMOVE) ? 'remove' : undefined;
    if (tag === undefined) return MISS;
    // Stops at the general path's cap rather than reading on: the general path refuses the reply.
    if ((this.containers += 2) > MAX_PAYLOAD_CONTAINERS) return MISS;
    at++;
    let name: string | undefined;
    let value: string | undefined;
    for (;;) {
      at = this.key(at);
      if (at < 0) return MISS;
      const isName = this.keyIs(K_NAME);
      if (isName ? name !== undefined : tag === 'remove' || value !== undefined || !this.keyIs(K_VALUE)) return MISS;
      at = this.string(at);
      if (at < 0) return MISS;
      if (isName) name = this.str;
      else value = this.str;
      const more = this.more(at, CLOSE_OBJECT);
      at = this.next;
      if (more < 0) return MISS;
      if (more === 0) break;
    }
    // The op object has exactly one key.
    if (b[at] !== CLOSE_OBJECT || name === undefined) return MISS;
    if (tag === 'remove') out.push({ op: 'remove', name });
    else if (value === undefined) return MISS;
    else out.push({ op: tag, name, value });
    return at + 1;
  }
}
