// Decision (§6.9.2) and WebSocketDecision (§6.9.8): externally tagged enums. A data-less variant is a bare
// string; a variant with data is a one-key object whose payload is a map or (msgpack) a positional array.
import type { Decision, WebSocketDecision } from './types.js';
import { protocolError } from './errors.js';
import { quotedPeerText } from './peer-text.js';
import { asStruct, describe, intOr, isAbsent, optString, reqInt, reqString, stringMapOr, type WireStruct } from './wire-reader.js';
import { checkRange, U16_MAX } from './events-common.js';

export function decisionToWire(d: Decision): unknown {
  switch (d.type) {
    case 'allow':
      return 'allow';
    case 'block':
      return { block: { status: d.status, body: d.body, headers: d.headers } };
    case 'redirect':
      return { redirect: { url: d.url, status: d.status } };
    case 'challenge':
      return { challenge: { challenge_type: d.challengeType, params: d.params } };
  }
}

export function webSocketDecisionToWire(d: WebSocketDecision | null): unknown {
  if (d === null) return null;
  switch (d.type) {
    case 'allow':
      return 'allow';
    case 'drop':
      return 'drop';
    case 'close':
      return { close: { code: d.code, reason: d.reason } };
  }
}

interface Tagged {
  tag: string;
  body: unknown;
}

/** Splits an externally tagged enum value into its variant name and payload (undefined for a bare string). */
function splitTagged(v: unknown, what: string): Tagged {
  if (typeof v === 'string') return { tag: v, body: undefined };
  if (v instanceof Map) {
    if (v.size !== 1) throw protocolError(`${what}: expected exactly one variant key, got ${v.size}`);
    const [k, body] = v.entries().next().value as [unknown, unknown];
    return { tag: String(k), body };
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const keys = Object.keys(v);
    if (keys.length !== 1) throw protocolError(`${what}: expected exactly one variant key, got ${keys.length}`);
    const tag = keys[0] as string;
    return { tag, body: (v as WireStruct)[tag] };
  }
  throw protocolError(`${what}: expected a string or a one-key object, got ${describe(v)}`);
}

/** Payload of a data-less variant: nothing, null, `{}` (§6.9.2) or an empty positional array / Map. */
function checkUnitPayload(body: unknown, what: string): void {
  if (isAbsent(body)) return;
  if (Array.isArray(body) ? body.length === 0 : body instanceof Map ? body.size === 0 : isEmptyObject(body)) return;
  throw protocolError(`${what}: unexpected payload ${describe(body)}`);
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && Object.keys(v).length === 0;
}

/** A block's keys; also the element order of a positional-array block (msgpack, §4.2). */
export const BLOCK_KEYS = ['status', 'body', 'headers'] as const;
const REDIRECT_KEYS = ['url', 'status'] as const;
const CHALLENGE_KEYS = ['challenge_type', 'params'] as const;
const CLOSE_KEYS = ['code', 'reason'] as const;

/** Every accepted form of §6.9.2; missing → ZAP_PROTOCOL_ERROR (the key is required). */
export function decisionFromWire(v: unknown, what: string): Decision {
  if (isAbsent(v)) throw protocolError(`${what}: key 'decision' is required`);
  const { tag, body } = splitTagged(v, `${what}.decision`);
  const w = `${what}.decision.${tag}`;
  switch (tag) {
    case 'allow':
      checkUnitPayload(body, w);
      return { type: 'allow' };
    case 'block': {
      const s = asStruct(body, BLOCK_KEYS, w);
      return {
        type: 'block',
        status: checkRange(reqInt(s, 'status', w), U16_MAX, w, 'status'),
        body: optString(s, 'body', w),
        headers: isAbsent(s.headers) ? null : stringMapOr(s, 'headers', w),
      };
    }
    case 'redirect': {
      const s = asStruct(body, REDIRECT_KEYS, w);
      // We always send `status`; a missing one reads as 302, the redirect default of our SDK.
      return {
        type: 'redirect',
        url: reqString(s, 'url', w),
        status: checkRange(intOr(s, 'status', w, 302), U16_MAX, w, 'status'),
      };
    }
    case 'challenge': {
      const s = asStruct(body, CHALLENGE_KEYS, w);
      if (isAbsent(s.params)) throw protocolError(`${w}: key 'params' is required (may be {})`);
      return { type: 'challenge', challengeType: reqString(s, 'challenge_type', w), params: stringMapOr(s, 'params', w) };
    }
    default:
      throw protocolError(`${what}: unknown decision ${quotedPeerText(tag)}`);
  }
}

/** §6.9.8: null / absent → null (the proxy reads that as allow). */
export function webSocketDecisionFromWire(v: unknown, what: string): WebSocketDecision | null {
  if (isAbsent(v)) return null;
  const { tag, body } = splitTagged(v, `${what}.websocket_decision`);
  const w = `${what}.websocket_decision.${tag}`;
  switch (tag) {
    case 'allow':
      checkUnitPayload(body, w);
      return { type: 'allow' };
    case 'drop':
      checkUnitPayload(body, w);
      return { type: 'drop' };
    case 'close': {
      const s = asStruct(body, CLOSE_KEYS, w);
      return { type: 'close', code: checkRange(reqInt(s, 'code', w), U16_MAX, w, 'code'), reason: reqString(s, 'reason', w) };
    }
    default:
      throw protocolError(`${what}: unknown websocket_decision ${quotedPeerText(tag)}`);
  }
}
