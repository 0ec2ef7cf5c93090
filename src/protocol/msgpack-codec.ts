// MessagePack payload codec (spec §4.2): maps with the JSON key names, bin for event body bytes, nil for
// null, integers in integer form. Reader: maps decode to plain objects (a duplicate key — the Rust proxy
// repeats `correlation_id` — simply overwrites), 64-bit integers to numbers (beyond 2^53 they lose
// precision exactly as JSON.parse does, and the integer readers then reject them).
import { createRequire } from 'node:module';
import type { Options, Packr, Unpackr } from 'msgpackr';
import type { AgentResponse, EventKind, EventMap } from './types.js';
import type { ParsedResponse, PayloadCodec, ReadReply } from './payload-codec-types.js';
import { protocolError } from './errors.js';
import { decodedEvent, eventToWire } from './events.js';
import { agentResponseToWire, extractCorrelationId } from './agent-response.js';
import { setOwn } from './events-common.js';
import { checkMsgpackBounds, MAX_PAYLOAD_DEPTH } from './msgpack-bounds.js';
import { peerText } from './peer-text.js';

// msgpackr (about 25 ms to load) is required with the first MessagePack payload, not when the package
// is imported: most pools never negotiate MessagePack. require() returns the module an import would.
const require = createRequire(import.meta.url);
let coders: { packr: Packr; unpackr: Unpackr } | undefined;

function msgpackr(): { packr: Packr; unpackr: Unpackr } {
  if (coders === undefined) {
    const m = require('msgpackr') as typeof import('msgpackr');
    // useRecords false: plain msgpack maps (no msgpackr record extension) and fixint up to 127.
    // variableMapSize: the smallest map header (fixmap) instead of an always-map16 header.
    // encodeUndefinedAsNil: undefined must not become msgpackr's private fixext.
    coders = {
      packr: new m.Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true }),
      unpackr: new m.Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' } satisfies Options),
    };
  }
  return coders;
}

/**
 * Free-form values (configure `config`, `audit.custom`, control messages): integers outside the 32-bit
 * range become BigInt so msgpackr writes a 64-bit integer rather than a float64. Copy on write: the
 * caller's objects are never mutated and are returned as is when nothing needs widening. A value nested
 * deeper than MAX_PAYLOAD_DEPTH throws ZAP_PROTOCOL_ERROR (the far side's reader would refuse it anyway),
 * never a RangeError from the recursion.
 */
export function widenIntegers(v: unknown, depth = 0): unknown {
  if (typeof v === 'number') {
    return (v > 0xffffffff || v < -0x80000000) && Number.isSafeInteger(v) ? BigInt(v) : v;
  }
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v;
  if (depth >= MAX_PAYLOAD_DEPTH) {
    throw protocolError(`value cannot be written as MessagePack: nested deeper than ${MAX_PAYLOAD_DEPTH}`);
  }
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const w = widenIntegers(v[i], depth + 1);
      if (w !== v[i]) (out ??= v.slice())[i] = w;
    }
    return out ?? v;
  }
  if (v instanceof Map) {
    let out: Map<unknown, unknown> | undefined;
    for (const [k, val] of v) {
      const w = widenIntegers(val, depth + 1);
      if (w !== val) (out ??= new Map(v)).set(k, w);
    }
    return out ?? v;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v; // Date, class instances: msgpackr's own rules
  const o = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const w = widenIntegers(o[key], depth + 1);
    if (w !== o[key]) {
      setOwn((out ??= { ...o }), key, w);
    }
  }
  return out ?? v;
}

function pack(wire: unknown): Buffer {
  try {
    return msgpackr().packr.pack(wire);
  } catch (err) {
    throw protocolError(`value cannot be written as MessagePack: ${(err as Error).message}`, { cause: err });
  }
}

function encodeValue(wire: unknown): Buffer {
  return pack(widenIntegers(wire));
}

function decodeValue(payload: Uint8Array): unknown {
  // Before msgpackr: it would allocate whatever a header claims (issue 11, the msgpack memory bomb).
  checkMsgpackBounds(payload);
  try {
    return msgpackr().unpackr.unpack(payload);
  } catch (err) {
    throw protocolError(`invalid MessagePack payload: ${peerText((err as Error).message)}`, { cause: err });
  }
}

export const msgpackCodec: PayloadCodec = {
  encoding: 'msgpack',
  encodeEvent<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): Buffer {
    const wire = eventToWire(kind, event, correlationId, true);
    // The mappers widen the known u64 fields; only the free-form config needs the walk.
    if (kind === 'configure') wire.config = widenIntegers(wire.config);
    return pack(wire);
  },
  decodeEvent<K extends EventKind>(kind: K, payload: Uint8Array): { event: EventMap[K]; correlationId: string } {
    return decodedEvent(kind, decodeValue(payload));
  },
  encodeResponse(response: AgentResponse, correlationId: string): Buffer {
    const wire = agentResponseToWire(response, correlationId);
    const audit = wire.audit as Record<string, unknown>;
    audit.custom = widenIntegers(audit.custom);
    return pack(wire);
  },
  parseResponse(payload: Uint8Array): ParsedResponse {
    const body = decodeValue(payload);
    return { correlationId: extractCorrelationId(body), body };
  },
  readReply(payload: Uint8Array): ReadReply {
    const body = decodeValue(payload);
    return { correlationId: extractCorrelationId(body), response: undefined, body };
  },
  encodeValue,
  decodeValue,
};
