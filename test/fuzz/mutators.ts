// Input mutation for the codec fuzzer: a seeded PRNG (reproducible runs), hostile values to plant in
// a wire structure (wrong types, extreme numbers, huge strings, deep nesting, prototype keys), and
// byte-level edits of an encoded payload (bit flips, truncation, splices, hostile headers/tokens).
import { Packr } from 'msgpackr';

/** mulberry32: tiny, fast, good enough to drive mutations; the same seed gives the same run. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

// A raw writer for hostile msgpack: keeps Maps with non-string keys, bin, BigInt, NaN as they are.
const rawPackr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true });

/**
 * Stands for a value nested far deeper than any encoder can write recursively: encodeWire swaps the
 * marker's encoded bytes for `[[[…1…]]]` (JSON) or fixarray headers (MessagePack) of that depth.
 */
const DEEP_MARKER = '\u0001deep\u0001';
const DEEP = 100_000;
const DEEP_JSON = Buffer.from(`${'['.repeat(DEEP)}1${']'.repeat(DEEP)}`);
const DEEP_MSGPACK = Buffer.concat([Buffer.alloc(DEEP, 0x91), Buffer.from([0x01])]);
const MARKER_JSON = Buffer.from(JSON.stringify(DEEP_MARKER));
const MARKER_MSGPACK = rawPackr.pack(DEEP_MARKER);

function swapDeep(bytes: Buffer, marker: Buffer, deep: Buffer): Buffer {
  const at = bytes.indexOf(marker);
  return at < 0 ? bytes : Buffer.concat([bytes.subarray(0, at), deep, bytes.subarray(at + marker.length)]);
}

export function encodeWire(value: unknown, msgpack: boolean): Buffer {
  if (msgpack) return swapDeep(rawPackr.pack(value), MARKER_MSGPACK, DEEP_MSGPACK);
  // hostileValue() makes BigInt, NaN, bin and Map values for MessagePack only: plain JSON.stringify will do.
  return swapDeep(Buffer.from((JSON.stringify(value) as string | undefined) ?? 'null', 'utf8'), MARKER_JSON, DEEP_JSON);
}

function nest(depth: number, leaf: unknown, asMap: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asMap ? { k: v } : [v];
  return v;
}

const NUMBERS = [
  0,
  -1,
  1,
  255,
  256,
  65_536,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53 + 2,
  -(2 ** 63),
  2 ** 64,
  1.5,
  -0,
  1e308,
  0.1,
];
const MSGPACK_ONLY = [NaN, Infinity, -Infinity, 2n ** 64n - 1n, -(2n ** 63n), 2n ** 53n + 1n];
const STRINGS = [
  '',
  'allow',
  'block',
  'json',
  'msgpack',
  '__proto__',
  'constructor',
  'toString',
  '\u0000\u001b[31m\n',
  '\ud800',
  'é€😀',
  '=',
  'AAAA====',
  '-',
  'c-1',
];
const KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'correlation_id', 'type', 'status', 'decision', 'data', ''];

/** A value of a random kind, sometimes extreme. `depth` bounds the recursion of the generator itself. */
function hostileValue(rng: Rng, msgpack: boolean, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 6 : 11)) {
    case 0:
      return rng.pick(NUMBERS);
    case 1:
      return msgpack && rng.chance(0.5) ? rng.pick(MSGPACK_ONLY) : rng.int(2 ** 31) * (rng.chance(0.5) ? 1 : -1);
    case 2:
      return rng.pick(STRINGS);
    case 3:
      return rng.chance(0.1)
        ? 'x'.repeat(rng.pick([70_000, 300_000]))
        : String.fromCharCode(...Array.from({ length: rng.int(12) }, () => rng.int(0x10000)));
    case 4:
      return rng.pick([null, undefined, true, false]);
    case 5:
      return msgpack ? Buffer.from(Array.from({ length: rng.int(16) }, () => rng.int(256))) : rng.pick(['AAE=', 'AA', '!!']);
    case 6:
      return Array.from({ length: rng.int(4) }, () => hostileValue(rng, msgpack, depth + 1));
    case 7: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--) {
        Object.defineProperty(o, rng.pick(KEYS), {
          value: hostileValue(rng, msgpack, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return o;
    }
    case 8:
      // Nesting around the cap (64), past it, and far past any recursion limit.
      return rng.chance(0.2) ? DEEP_MARKER : nest(rng.pick([30, 63, 64, 65, 200]), rng.pick([1, 'x', null]), rng.chance(0.5));
    case 9:
      return msgpack ? new Map<unknown, unknown>([[rng.pick([1, true, null, 'k']), hostileValue(rng, msgpack, depth + 1)]]) : {};
    default:
      return Array.from({ length: rng.pick([100, 5_000]) }, () => rng.int(10));
  }
}

/** A deep copy of `value` with one node replaced, removed, wrapped or re-shaped (structure-aware mutation). */
export function mutateStructure(value: unknown, rng: Rng, msgpack: boolean): unknown {
  const root = { v: structuredClone(value) as unknown };
  // Walk down a random path, remembering the parent of the chosen node.
  let parent: Record<string, unknown> | unknown[] = root as Record<string, unknown>;
  let key: string | number = 'v';
  for (let step = 0; step < 6; step++) {
    const node: unknown = (parent as Record<string | number, unknown>)[key];
    if (typeof node !== 'object' || node === null || Buffer.isBuffer(node) || rng.chance(0.3)) break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_x: unknown, i: number) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node as Record<string, unknown>;
    key = rng.pick(keys);
  }
  const p = parent as Record<string | number, unknown>;
  switch (rng.int(6)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete p[key];
      break;
    case 1:
      p[key] = [p[key]];
      break;
    case 2:
      // Positional struct (reader leniency, §4.2).
      if (typeof p[key] === 'object' && p[key] !== null && !Array.isArray(p[key])) p[key] = Object.values(p[key] as object);
      else p[key] = hostileValue(rng, msgpack);
      break;
    case 3:
      if (!Array.isArray(parent)) {
        Object.defineProperty(parent, rng.pick(KEYS), {
          value: hostileValue(rng, msgpack),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        break;
      }
      p[key] = hostileValue(rng, msgpack);
      break;
    default:
      p[key] = hostileValue(rng, msgpack);
  }
  return root.v;
}

const MSGPACK_TOKENS = [
  [0xdd, 0xff, 0xff, 0xff, 0xff],
  [0xdd, 0x01, 0x00, 0x00, 0x00],
  [0xdf, 0x7f, 0xff, 0xff, 0xff],
  [0xdb, 0x7f, 0xff, 0xff, 0xff],
  [0xc6, 0xff, 0xff, 0xff, 0xff],
  [0xc9, 0x00, 0x01, 0x00, 0x00, 0x73],
  [0xd4, 0x72, 0x40],
  [0xd5, 0x69, 0x00, 0x00],
  [0xc7, 0x01, 0x65, 0x00],
  [0xc1],
  [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
  Array<number>(100).fill(0x91),
];
const JSON_TOKENS = [
  '['.repeat(100),
  '['.repeat(100_000),
  '{"a":'.repeat(70),
  '1e999',
  '-0',
  '"\\ud800"',
  '"\\u0000"',
  '9'.repeat(400),
  'null',
  '{"__proto__":{"x":1}}',
  ',',
  '"',
  '\\',
  '\ufeff',
  '[]',
  '{}',
  'true',
].map((s) => Buffer.from(s, 'utf8'));
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xc0, 0xc1, 0xdd, 0xdf, 0x22, 0x5b, 0x7b, 0x5c];

/** One byte-level edit of `input`; `other` is a second corpus payload for splices. */
export function mutateBytes(input: Buffer, other: Buffer, rng: Rng, msgpack: boolean): Buffer {
  const b = Buffer.from(input);
  const at = b.length === 0 ? 0 : rng.int(b.length);
  switch (rng.int(8)) {
    case 0:
      if (b.length > 0) b[at] = (b[at] as number) ^ (1 << rng.int(8));
      return b;
    case 1:
      if (b.length > 0) b[at] = rng.pick(INTERESTING);
      return b;
    case 2:
      return b.subarray(0, at);
    case 3: {
      const token = msgpack ? Buffer.from(rng.pick(MSGPACK_TOKENS)) : rng.pick(JSON_TOKENS);
      return rng.chance(0.5)
        ? Buffer.concat([b.subarray(0, at), token, b.subarray(at)])
        : Buffer.concat([b.subarray(0, at), token, b.subarray(at + token.length)]);
    }
    case 4: {
      const from = rng.int(other.length + 1);
      return Buffer.concat([b.subarray(0, at), other.subarray(from)]);
    }
    case 5: {
      const len = rng.int(Math.min(64, b.length - at) + 1);
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
    case 6:
      return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + rng.int(8) }, () => rng.int(256)))]);
    default:
      // A run of bytes overwritten with random values.
      for (let i = at, end = Math.min(b.length, at + 1 + rng.int(8)); i < end; i++) b[i] = rng.int(256);
      return b;
  }
}
