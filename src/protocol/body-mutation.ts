// BodyMutation (spec §6.9.7): builders for agents, the wire mapping, and how the proxy applies one.
// The two directions encode a replacement differently and this MUST stay exact: response = base64 of the
// bytes, request = the replacement as UTF-8 text (no decoding; binary request bodies cannot be replaced).
import type { BodyMutation } from './types.js';
import { asStruct, decodeBase64, encodeBase64, intOr, isAbsent, optString } from './wire-reader.js';
import { checkRange, U32_MAX } from './events-common.js';

/** Request side: `replacement` text; `''` drops the chunk; null passes it through. */
export function requestBodyMutation(replacement: string | null, chunkIndex = 0): BodyMutation {
  return { data: replacement, chunkIndex };
}

/**
 * Response side: replacement bytes (written as base64), `'drop'`, or null to pass through.
 * Zero replacement bytes encode as `""`, i.e. a drop (the same effect on our proxy).
 */
export function responseBodyMutation(replacement: Uint8Array | null | 'drop', chunkIndex = 0): BodyMutation {
  if (replacement === null) return { data: null, chunkIndex };
  if (replacement === 'drop') return { data: '', chunkIndex };
  return { data: encodeBase64(replacement), chunkIndex };
}

export interface AppliedBodyMutation {
  /** Bytes to forward for this chunk. */
  data: Uint8Array;
  /** True when the agent asked to drop the chunk (`data` is then empty). */
  dropped: boolean;
  /** Why the mutation was ignored (the original passed); the caller warns and counts. */
  ignored?: string;
}

const EMPTY = new Uint8Array(0);

/**
 * Proxy side. `""` drops on both sides (the Rust proxy's response-side quirk of ignoring it is not
 * reproduced: the spec's meaning table says drop). Invalid base64 on the response side → ignored.
 */
export function applyBodyMutation(
  direction: 'request' | 'response',
  mutation: BodyMutation | null,
  original: Uint8Array,
): AppliedBodyMutation {
  if (mutation === null || mutation.data === null) return { data: original, dropped: false };
  if (mutation.data === '') return { data: EMPTY, dropped: true };
  if (direction === 'request') return { data: Buffer.from(mutation.data, 'utf8'), dropped: false };
  const bytes = decodeBase64(mutation.data);
  if (bytes === null) {
    return { data: original, dropped: false, ignored: 'response_body_mutation.data is not valid base64' };
  }
  return { data: bytes, dropped: false };
}

const KEYS = ['data', 'chunk_index'] as const;

export function bodyMutationToWire(m: BodyMutation | null): Record<string, unknown> | null {
  return m === null ? null : { data: m.data, chunk_index: m.chunkIndex };
}

/** null / absent → null; `data` must be text (a str in MessagePack too) or null. */
export function bodyMutationFromWire(v: unknown, what: string): BodyMutation | null {
  if (isAbsent(v)) return null;
  const s = asStruct(v, KEYS, what);
  return {
    data: optString(s, 'data', what),
    chunkIndex: checkRange(intOr(s, 'chunk_index', what, 0), U32_MAX, what, 'chunk_index'),
  };
}
