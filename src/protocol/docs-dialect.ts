// Peers that speak the dialect of the published v2 documentation (the official Go SDK) or frame
// JSON without a type byte (the TypeScript SDK's UDS framing) fail our handshake or registration
// in ways that read like a version or framing bug. These recognise those exact shapes, on the
// failure path only, and say what they are (spec §3, §14.1). The error codes stay the caller's.
import { peerText } from './peer-text.js';

const NOT_ACCEPTED = 'which Zentinel v2 proxies do not accept';

/** First byte of a JSON object: what our decoder takes for the type byte of an un-typed frame. */
const OPEN_BRACE = 0x7b;
/** The docs' RegistrationRequest type; ours is 0x01 (spec §3, §9.2). */
const DOCS_REGISTRATION = 0x03;

/**
 * A HandshakeResponse payload in the docs dialect: a JSON object with a boolean `accepted` and
 * no `success` (ours, §5.3); the Go SDK also sends `agent_name`. Returns the explanation, or
 * undefined for any other payload.
 */
export function docsDialectHandshake(payload: Uint8Array): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o['accepted'] !== 'boolean' || 'success' in o) return undefined;
  const said = typeof o['error'] === 'string' && o['error'] !== '' ? ` (it said: ${peerText(o['error'], 200)})` : '';
  return `the agent speaks the docs-dialect handshake (e.g. the Go SDK), ${NOT_ACCEPTED}${said}`;
}

/**
 * An unknown type byte that is a known foreign shape: '{' (a length, then JSON with no type byte,
 * as the TypeScript SDK frames UDS messages; `next`, the byte after it when known, must continue
 * a JSON object) or, as the first frame of a reverse connection, 0x03 (the docs' registration).
 */
export function foreignFrameText(type: number, next: number | undefined, firstReverseFrame: boolean): string | undefined {
  if (type === OPEN_BRACE && (next === undefined || isObjectContinuation(next))) {
    return `the peer frames JSON without a type byte (e.g. the TypeScript SDK's UDS framing), ${NOT_ACCEPTED}`;
  }
  if (type === DOCS_REGISTRATION && firstReverseFrame) {
    return `the agent registers with the docs-dialect frame type 0x03 (e.g. the Go SDK), ${NOT_ACCEPTED}; the v2 registration is type 0x01`;
  }
  return undefined;
}

/** After '{': a key's quote, the closing brace, or whitespace. */
function isObjectContinuation(byte: number): boolean {
  return byte === 0x22 || byte === 0x7d || byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}
