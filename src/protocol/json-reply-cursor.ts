// A cursor over the bytes of a compact ASCII JSON text, for json-reply-scanner.ts: keys, strings
// without escapes, numbers as JSON.parse reads them, arrays and maps of strings, header ops (§6.9.3).
// A reader takes the position and returns what it read, or undefined when the text is not that;
// the position after it goes to `next`. Only small integers are kept in fields: storing a fresh
// string or array into this long-lived object would run V8's write barrier each time, and a
// position kept outside a local would cost a memory round trip per byte. Reads at the end of the
// bytes give undefined, which no comparison below takes.
//
// Known keys are matched with their quotes and colon in one comparison, never read first.
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
/** What open() answers for `null` or an empty container. */
export const EMPTY = -2;
/** From this length V8 slices a string instead of copying it (SlicedString::kMinLength). */
const SLICE_MIN = 13;
const latin1Slice = Buffer.prototype.latin1Slice;

export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** A key as it stands before its value: `"name":`. */
export const quotedKey = (name: string): Uint8Array => ascii(`"${name}":`);
export const NULL = ascii('null');
export const TRUE = ascii('true');
export const FALSE = ascii('false');

const SET = ascii('{"set":{');
const ADD = ascii('{"add":{');
const REMOVE = ascii('{"remove":{');
const NAME = quotedKey('name');
const VALUE = quotedKey('value');
const CORRELATION_ID = quotedKey('correlation_id');

/** True when b[at, at + word.length) is `word`. */
export function startsWith(b: Uint8Array, at: number, word: Uint8Array): boolean {
  const n = word.length;
  if (at + n > b.length) return false;
  for (let i = 0; i < n; i++) if (b[at + i] !== word[i]) return false;
  return true;
}

/**
 * End (exclusive) of the string whose body starts at `at`; -1 at an escape, a control character,
 * a byte outside ASCII (the general path checks the UTF-8) or the end.
 */
function stringEnd(b: Uint8Array, at: number): number {
  const n = b.length;
  for (; at < n; at++) {
    const c = b[at] as number;
    if (c === QUOTE) return at;
    if (c < SPACE || c === BACKSLASH || c > ASCII_MAX) return -1;
  }
  return -1;
}

/** One scan at a time per thread. */
export class ReplyCursor {
  b: Uint8Array = new Uint8Array(0);
  text = '';
  containers = 0;
  /** The position after what a reader read. */
  next = 0;

  /**
   * Which of `keys` (each a quotedKey) stands at `at`, trying `keys[expect]` first: the keys'
   * order as our SDK and the reference write them. -1 for any other key; the position goes to `next`.
   */
  keyOf(at: number, keys: readonly Uint8Array[], expect: number): number {
    const b = this.b;
    const guess = keys[expect];
    if (guess !== undefined && startsWith(b, at, guess)) {
      this.next = at + guess.length;
      return expect;
    }
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as Uint8Array;
      if (startsWith(b, at, key)) {
        this.next = at + key.length;
        return i;
      }
    }
    return -1;
  }

  /** A string at `at`. */
  string(at: number): string | undefined {
    const b = this.b;
    if (b[at] !== QUOTE) return undefined;
    const end = stringEnd(b, at + 1);
    if (end < 0) return undefined;
    this.next = end + 1;
    return end - at - 1 < SLICE_MIN ? this.text.slice(at + 1, end) : (latin1Slice.call(b, at + 1, end) as string);
  }

  /** After a member or element: 1 past a comma, 0 past `close`, -1 otherwise. */
  more(at: number, close: number): number {
    const c = this.b[at];
    this.next = at + 1;
    return c === COMMA ? 1 : c === close ? 0 : -1;
  }

  /** A JSON number, as JSON.parse reads it. */
  number(at: number): number | undefined {
    const b = this.b;
    const start = at;
    if (b[at] === MINUS) at++;
    let c = b[at] as number;
    if (c === ZERO) c = b[++at] as number;
    else if (c > ZERO && c <= NINE) while (c >= ZERO && c <= NINE) c = b[++at] as number;
    else return undefined;
    if (c === DOT) {
      c = b[++at] as number;
      if (!(c >= ZERO && c <= NINE)) return undefined;
      while (c >= ZERO && c <= NINE) c = b[++at] as number;
    }
    if (c === UPPER_E || c === LOWER_E) {
      c = b[++at] as number;
      if (c === PLUS || c === MINUS) c = b[++at] as number;
      if (!(c >= ZERO && c <= NINE)) return undefined;
      while (c >= ZERO && c <= NINE) c = b[++at] as number;
    }
    this.next = at;
    return Number(this.text.slice(start, at));
  }

  /**
   * A container that opens at `at` with the byte `open`: the position of its first member; EMPTY
   * for `null` or an empty one (`next` is after it); -1 for anything else.
   */
  open(at: number, open: number, close: number): number {
    const b = this.b;
    if (startsWith(b, at, NULL)) {
      this.next = at + 4;
      return EMPTY;
    }
    if (b[at] !== open) return -1;
    this.containers++;
    if (b[at + 1] === close) {
      this.next = at + 2;
      return EMPTY;
    }
    return at + 1;
  }

  /** `null` → [], or an array of strings. */
  strings(at: number): string[] | undefined {
    const out: string[] = [];
    at = this.open(at, OPEN_ARRAY, CLOSE_ARRAY);
    if (at < 0) return at === EMPTY ? out : undefined;
    for (;;) {
      const s = this.string(at);
      if (s === undefined) return undefined;
      out.push(s);
      const more = this.more(this.next, CLOSE_ARRAY);
      at = this.next;
      if (more <= 0) return more === 0 ? out : undefined;
    }
  }

  /** `null` → {}, or an object of string values (never `__proto__`). */
  stringMap(at: number): Record<string, string> | undefined {
    const b = this.b;
    const out: Record<string, string> = {};
    at = this.open(at, OPEN_OBJECT, CLOSE_OBJECT);
    if (at < 0) return at === EMPTY ? out : undefined;
    for (;;) {
      let name: string;
      // audit.custom carries the cid in nearly every reply: that key is the interned constant, not a
      // fresh slice for the property store to look up in the string table.
      if (startsWith(b, at, CORRELATION_ID)) {
        name = 'correlation_id';
        at += CORRELATION_ID.length;
      } else {
        if (b[at] !== QUOTE) return undefined;
        const end = stringEnd(b, at + 1);
        if (end < 0 || b[end + 1] !== COLON) return undefined;
        name = this.text.slice(at + 1, end);
        // A key twice keeps its last value, as JSON.parse does; only `__proto__` would set the prototype.
        if (name === '__proto__') return undefined;
        at = end + 2;
      }
      const value = this.string(at);
      if (value === undefined) return undefined;
      out[name] = value;
      const more = this.more(this.next, CLOSE_OBJECT);
      at = this.next;
      if (more <= 0) return more === 0 ? out : undefined;
    }
  }

  /** `null` → [], or `[{"set":{"name":…,"value":…}}, {"add":…}, {"remove":{"name":…}}, …]`. */
  headerOps(at: number): HeaderOp[] | undefined {
    const out: HeaderOp[] = [];
    at = this.open(at, OPEN_ARRAY, CLOSE_ARRAY);
    if (at < 0) return at === EMPTY ? out : undefined;
    for (;;) {
      const op = this.headerOp(at);
      if (op === undefined) return undefined;
      out.push(op);
      const more = this.more(this.next, CLOSE_ARRAY);
      at = this.next;
      if (more <= 0) return more === 0 ? out : undefined;
    }
  }

  private headerOp(at: number): HeaderOp | undefined {
    const b = this.b;
    const tag = startsWith(b, at, SET) ? 'set' : startsWith(b, at, ADD) ? 'add' : startsWith(b, at, REMOVE) ? 'remove' : undefined;
    if (tag === undefined) return undefined;
    // Stops at the general path's cap rather than reading on: the general path refuses the reply.
    if ((this.containers += 2) > MAX_PAYLOAD_CONTAINERS) return undefined;
    at += tag === 'remove' ? REMOVE.length : SET.length;
    let name: string | undefined;
    let value: string | undefined;
    for (;;) {
      const isName = startsWith(b, at, NAME);
      // Only name, and value for set and add, each once.
      if (isName ? name !== undefined : tag === 'remove' || value !== undefined || !startsWith(b, at, VALUE)) return undefined;
      const s = this.string(at + (isName ? NAME.length : VALUE.length));
      if (s === undefined) return undefined;
      if (isName) name = s;
      else value = s;
      const more = this.more(this.next, CLOSE_OBJECT);
      at = this.next;
      if (more < 0) return undefined;
      if (more === 0) break;
    }
    // The op object has exactly one key.
    if (b[at] !== CLOSE_OBJECT || name === undefined) return undefined;
    this.next = at + 1;
    if (tag === 'remove') return { op: 'remove', name };
    return value === undefined ? undefined : { op: tag, name, value };
  }
}
