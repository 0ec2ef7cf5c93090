// Cancel (spec §7.1): proxy → agent, no reply, always JSON on UDS/reverse. The reason numbering
// differs by transport — UDS 0–5, gRPC 1–6 with 0 = unspecified — so the same number means
// different things; convert only through these functions.
import type { CancelMessage, CancelReason } from './types.js';
import { CANCEL_REASONS } from './types.js';
import { protocolError } from './errors.js';
import { asStruct, intOr, parseJsonPayload, reqString } from './wire-reader.js';

const CANCEL_KEYS = ['correlation_id', 'reason', 'timestamp_ms'] as const;
const WHAT = 'Cancel';

export function cancelReasonToUds(r: CancelReason): number {
  return CANCEL_REASONS.indexOf(r);
}

/** 0–5 → reason; anything else (an object, out of range, missing) → null = unspecified. */
export function cancelReasonFromUds(n: unknown): CancelReason | null {
  return typeof n === 'number' && Number.isInteger(n) ? (CANCEL_REASONS[n] ?? null) : null;
}

export function cancelReasonToGrpc(r: CancelReason): number {
  return CANCEL_REASONS.indexOf(r) + 1;
}

/** 1–6 → reason; 0 (unspecified) or unknown → null. */
export function cancelReasonFromGrpc(n: number): CancelReason | null {
  return Number.isInteger(n) && n >= 1 ? (CANCEL_REASONS[n - 1] ?? null) : null;
}

/** Exactly three keys: {"correlation_id":…,"reason":0-5,"timestamp_ms":…}. The gRPC-only fields never travel here. */
export function encodeCancel(c: CancelMessage): Buffer {
  // UDS has no "unspecified" number; a reason is mandatory when we write.
  if (c.reason === null) throw protocolError('Cancel: a reason is required on UDS');
  return Buffer.from(
    JSON.stringify({
      correlation_id: c.correlationId,
      reason: cancelReasonToUds(c.reason),
      timestamp_ms: c.timestampMs,
    }),
    'utf8',
  );
}

/** UDS/reverse numbering; a missing timestamp reads as 0. */
export function decodeCancel(payload: Uint8Array): CancelMessage {
  const s = asStruct(parseJsonPayload(payload, WHAT), CANCEL_KEYS, WHAT);
  return {
    correlationId: reqString(s, 'correlation_id', WHAT),
    reason: cancelReasonFromUds(s['reason']),
    timestampMs: intOr(s, 'timestamp_ms', WHAT, 0),
  };
}
