// UDS handshake payloads (spec §5): HandshakeRequest 0x01 (proxy → agent) and HandshakeResponse 0x02
// (agent → proxy), both always JSON. Proxy-side validation (§5.1 step 4) and the agent's answer (§4.3).
import type { Capabilities, Encoding, EncodingSetting, HandshakeRequest, HandshakeResponse } from './types.js';
import { PROTOCOL_VERSION, PROXY_ID } from './types.js';
import { ErrorCode, protocolError, zapError } from './errors.js';
import { peerText, quotedPeerText } from './peer-text.js';
import { asStruct, boolOr, describe, isAbsent, optString, parseJsonPayload, reqInt, stringOr } from './wire-reader.js';
import { capabilitiesFromWire, capabilitiesToWire, defaultCapabilities } from './capabilities.js';
import { acceptAgentEncoding, chooseAgentEncoding, offeredEncodings } from './encoding-negotiation.js';

const REQUEST_KEYS = ['supported_versions', 'proxy_id', 'proxy_version', 'config', 'supported_encodings'] as const;
const RESPONSE_KEYS = ['protocol_version', 'capabilities', 'success', 'error', 'encoding'] as const;
const REQ = 'HandshakeRequest';
const RES = 'HandshakeResponse';

export function buildHandshakeRequest(o: { proxyVersion: string; config: unknown; encoding: EncodingSetting }): HandshakeRequest {
  return {
    supportedVersions: [PROTOCOL_VERSION],
    proxyId: PROXY_ID,
    proxyVersion: o.proxyVersion,
    config: o.config ?? null,
    supportedEncodings: offeredEncodings(o.encoding),
  };
}

/** Exact JSON of §5.2: all five keys, `config` null when there is none. */
export function encodeHandshakeRequest(r: HandshakeRequest): Buffer {
  return Buffer.from(
    JSON.stringify({
      supported_versions: r.supportedVersions,
      proxy_id: r.proxyId,
      proxy_version: r.proxyVersion,
      config: r.config ?? null,
      supported_encodings: r.supportedEncodings,
    }),
    'utf8',
  );
}

/** Encoding names other than the two known ones are dropped (an empty list then means JSON). */
function encodingListFromWire(v: unknown): Encoding[] {
  if (isAbsent(v)) return [];
  if (!Array.isArray(v)) throw protocolError(`${REQ}: key 'supported_encodings' must be an array`);
  const out: Encoding[] = [];
  for (const e of v) if (e === 'json' || e === 'msgpack') out.push(e);
  return out;
}

function versionListFromWire(v: unknown): number[] {
  // Absent reads as [] so that the agent answers with a refusal instead of dropping the socket.
  if (isAbsent(v)) return [];
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x))) {
    throw protocolError(`${REQ}: key 'supported_versions' must be an array of integers`);
  }
  return v as number[];
}

/** Agent side. Throws ZAP_PROTOCOL_ERROR when the payload is not a JSON object of the §5.2 shape. */
export function decodeHandshakeRequest(payload: Uint8Array): HandshakeRequest {
  const s = asStruct(parseJsonPayload(payload, REQ), REQUEST_KEYS, REQ);
  return {
    supportedVersions: versionListFromWire(s['supported_versions']),
    proxyId: stringOr(s, 'proxy_id', REQ, ''),
    proxyVersion: stringOr(s, 'proxy_version', REQ, ''),
    config: s['config'] ?? null,
    supportedEncodings: encodingListFromWire(s['supported_encodings']),
  };
}

/** Exact JSON of §5.3, every key (our agent always writes `encoding`). */
export function encodeHandshakeResponse(r: HandshakeResponse): Buffer {
  return Buffer.from(
    JSON.stringify({
      protocol_version: r.protocolVersion,
      capabilities: capabilitiesToWire(r.capabilities),
      success: r.success,
      error: r.error,
      encoding: r.encoding,
    }),
    'utf8',
  );
}

function encodingFromWire(v: unknown): Encoding {
  if (isAbsent(v)) return 'json';
  if (v === 'json' || v === 'msgpack') return v;
  throw protocolError(`${RES}: unknown encoding ${typeof v === 'string' ? quotedPeerText(v) : describe(v)}`);
}

/**
 * Proxy side, lenient: missing keys take defaults (capabilities per §5.4, success false, error null,
 * encoding json). The §5.1 checks are validateHandshakeResponse's job.
 */
export function decodeHandshakeResponse(payload: Uint8Array): HandshakeResponse {
  const s = asStruct(parseJsonPayload(payload, RES), RESPONSE_KEYS, RES);
  const caps = s['capabilities'];
  return {
    protocolVersion: isAbsent(s['protocol_version']) ? 0 : reqInt(s, 'protocol_version', RES),
    capabilities: capabilitiesFromWire(isAbsent(caps) ? {} : caps),
    success: boolOr(s, 'success', RES, false),
    error: optString(s, 'error', RES),
    encoding: encodingFromWire(s['encoding']),
  };
}

/**
 * Proxy side, §5.1 step 4 after the payload parsed: success, protocol version, encoding — in that
 * order. Returns the encoding to switch to; throws ZAP_HANDSHAKE_FAILED with the §5.1 texts. The
 * agent's refusal reason is its own text: escaped and cut before it becomes our error message.
 */
export function validateHandshakeResponse(r: HandshakeResponse, setting: EncodingSetting): Encoding {
  if (!r.success) throw zapError(ErrorCode.HandshakeFailed, r.error === null ? 'Unknown handshake error' : peerText(r.error));
  if (r.protocolVersion !== PROTOCOL_VERSION) {
    throw zapError(ErrorCode.HandshakeFailed, `Protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${r.protocolVersion}`);
  }
  return acceptAgentEncoding(setting, r.encoding);
}

/** Agent side: the §5.3 refusal shape (protocol version 0, empty capabilities, success false). */
export function handshakeRefusal(error: string): HandshakeResponse {
  return {
    protocolVersion: 0,
    capabilities: defaultCapabilities(),
    success: false,
    error,
    encoding: 'json',
  };
}

/** Agent side: answer a HandshakeRequest (version first, then encoding, §5.2 / §4.3). */
export function answerHandshake(req: HandshakeRequest, o: { capabilities: Capabilities; encoding: EncodingSetting }): HandshakeResponse {
  if (!req.supportedVersions.includes(PROTOCOL_VERSION)) return handshakeRefusal('unsupported protocol version');
  const chosen = chooseAgentEncoding(o.encoding, req.supportedEncodings);
  if (typeof chosen !== 'string') return handshakeRefusal(chosen.refuse);
  return {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: o.capabilities,
    success: true,
    error: null,
    encoding: chosen,
  };
}
