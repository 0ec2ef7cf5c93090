// HeaderOp (spec §6.9.3): wire mapping and application to a header map.
import type { HeaderMap, HeaderOp } from './types.js';
import { protocolError } from './errors.js';
import { quotedPeerText } from './peer-text.js';
import { asStruct, describe, isAbsent, reqString } from './wire-reader.js';
import { setOwn } from './events-common.js';

const NAME_VALUE_KEYS = ['name', 'value'] as const;
const NAME_KEYS = ['name'] as const;

/** Externally tagged: `{"set":{"name":…,"value":…}}`, `{"add":…}`, `{"remove":{"name":…}}`. */
function headerOpToWire(op: HeaderOp): Record<string, unknown> {
  switch (op.op) {
    case 'set':
      return { set: { name: op.name, value: op.value } };
    case 'add':
      return { add: { name: op.name, value: op.value } };
    case 'remove':
      return { remove: { name: op.name } };
  }
}

export function headerOpsToWire(ops: readonly HeaderOp[]): Record<string, unknown>[] {
  const out = new Array<Record<string, unknown>>(ops.length);
  for (let i = 0; i < ops.length; i++) out[i] = headerOpToWire(ops[i] as HeaderOp);
  return out;
}

/**
 * One op. Accepted forms: the externally tagged one-key object of §6.9.3 (a Map too) whose payload is a
 * map or a positional array `[name, value]` (msgpack, §4.2), `{"remove":"name"}` (the bare name, as gRPC
 * carries it), and the internally tagged form of our domain type `{"op":"set","name":…,"value":…}`.
 */
function headerOpFromWire(v: unknown, what: string): HeaderOp {
  let tag: string;
  let body: unknown;
  if (v instanceof Map) {
    if (v.size !== 1) throw protocolError(`${what}: a header op must have exactly one key, got ${v.size}`);
    const [k, val] = v.entries().next().value as [unknown, unknown];
    tag = String(k);
    body = val;
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    if (typeof o.op === 'string') {
      tag = o.op;
      body = o;
    } else {
      const keys = Object.keys(o);
      if (keys.length !== 1) throw protocolError(`${what}: a header op must have exactly one key, got ${keys.length}`);
      tag = keys[0] as string;
      body = o[tag];
    }
  } else {
    throw protocolError(`${what}: a header op must be an object, got ${describe(v)}`);
  }
  const w = `${what}.${tag}`;
  switch (tag) {
    case 'set':
    case 'add': {
      const s = asStruct(body, NAME_VALUE_KEYS, w);
      return { op: tag, name: reqString(s, 'name', w), value: reqString(s, 'value', w) };
    }
    case 'remove': {
      if (typeof body === 'string') return { op: 'remove', name: body };
      const s = asStruct(body, NAME_KEYS, w);
      return { op: 'remove', name: reqString(s, 'name', w) };
    }
    default:
      throw protocolError(`${what}: unknown header op ${quotedPeerText(tag)}`);
  }
}

/** A list of ops; null / absent reads as `[]` (§6.9.1). */
export function headerOpsFromWire(v: unknown, what: string): HeaderOp[] {
  if (isAbsent(v)) return [];
  if (!Array.isArray(v)) throw protocolError(`${what}: must be an array of header ops, got ${describe(v)}`);
  const out = new Array<HeaderOp>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = headerOpFromWire(v[i], `${what}[${i}]`);
  return out;
}

/**
 * Applies ops in list order (a later op sees the earlier ones) to a copy of `headers`; names match
 * case-insensitively. `set` replaces every value (under the first existing spelling, or appended under the
 * op's name), `add` appends one value, `remove` deletes every spelling. The input is never mutated.
 */
export function applyHeaderOps(headers: HeaderMap, ops: readonly HeaderOp[]): HeaderMap {
  const out: HeaderMap = { ...headers };
  for (const op of ops) {
    const lower = op.name.toLowerCase();
    let first: string | undefined;
    for (const name of Object.keys(out)) {
      if (name.toLowerCase() !== lower) continue;
      if (first === undefined && op.op !== 'remove') first = name;
      else if (op.op !== 'add') delete out[name];
      else break; // add: other spellings keep their values
    }
    if (op.op === 'remove') continue;
    const key = first ?? op.name;
    // Copy on write: the caller's arrays stay untouched.
    setOwn(out, key, op.op === 'set' || first === undefined ? [op.value] : [...(out[key] as string[]), op.value]);
  }
  return out;
}
