// Reverse-connection registration (spec §9.2–§9.4, D6): the agent's RegistrationRequest (frame 0x01)
// and our RegistrationResponse (0x02), both always JSON, and the proxy's validation of the first frame.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RegistrationRequest, RegistrationResponse } from './types.js';
import { PROTOCOL_VERSION, PROXY_ID } from './types.js';
import { isAgentPoolError, protocolError } from './errors.js';
import { asStruct, boolOr, isAbsent, optString, parseJsonPayload, reqInt, reqString, stringOr } from './wire-reader.js';
import { capabilitiesFromWire, capabilitiesToWire } from './capabilities.js';
import { messageTypeName } from './message-type.js';
import { peerText, quotedPeerText } from './peer-text.js';

const REQ = 'RegistrationRequest';
const RES = 'RegistrationResponse';
const REQUEST_KEYS = ['protocol_version', 'agent_id', 'capabilities', 'auth_token', 'metadata'] as const;
const RESPONSE_KEYS = ['success', 'error', 'proxy_id', 'proxy_version', 'connection_id'] as const;
const REGISTRATION_TYPE = 0x01;

/** Agent ids we admit (ours, §13.2): at most 128 bytes of `[A-Za-z0-9._:-]`. */
const AGENT_ID_MAX_BYTES = 128;
const AGENT_ID = /^[A-Za-z0-9._:-]+$/;

/**
 * One accepted registration token: a plain string is valid for every agent id the allow-list lets
 * in; `{ token, agents }` only for ids matching one of `agents` (exact or `*` glob, as the allow-list).
 */
export type AuthToken = string | { readonly token: string; readonly agents: readonly string[] };

export interface RegistrationPolicy {
  requireAuth: boolean;
  authTokens: readonly AuthToken[];
  allowedAgents: readonly string[];
}

export type RegistrationVerdict = { ok: true; request: RegistrationRequest } | { ok: false; error: string; permanent: boolean };

export function encodeRegistrationRequest(r: RegistrationRequest): Buffer {
  return Buffer.from(
    JSON.stringify({
      protocol_version: r.protocolVersion,
      agent_id: r.agentId,
      capabilities: capabilitiesToWire(r.capabilities),
      auth_token: r.authToken,
      metadata: r.metadata ?? null,
    }),
    'utf8',
  );
}

/**
 * The §9.2 shape: `protocol_version`, `agent_id` and `capabilities` are required (a Rust proxy
 * requires them too); capability sub-keys default per §5.4; `auth_token` and `metadata` may be absent.
 */
export function decodeRegistrationRequest(payload: Uint8Array): RegistrationRequest {
  const s = asStruct(parseJsonPayload(payload, REQ), REQUEST_KEYS, REQ);
  const protocolVersion = reqInt(s, 'protocol_version', REQ);
  const agentId = reqString(s, 'agent_id', REQ);
  if (isAbsent(s['capabilities'])) throw protocolError(`${REQ}: missing key 'capabilities'`);
  return {
    protocolVersion,
    agentId,
    capabilities: capabilitiesFromWire(s['capabilities']),
    authToken: optString(s, 'auth_token', REQ),
    metadata: s['metadata'] ?? null,
  };
}

export function encodeRegistrationResponse(r: RegistrationResponse): Buffer {
  return Buffer.from(
    JSON.stringify({
      success: r.success,
      error: r.error,
      proxy_id: r.proxyId,
      proxy_version: r.proxyVersion,
      connection_id: r.connectionId,
    }),
    'utf8',
  );
}

export function decodeRegistrationResponse(payload: Uint8Array): RegistrationResponse {
  const s = asStruct(parseJsonPayload(payload, RES), RESPONSE_KEYS, RES);
  return {
    success: boolOr(s, 'success', RES, false),
    error: optString(s, 'error', RES),
    proxyId: stringOr(s, 'proxy_id', RES, ''),
    proxyVersion: stringOr(s, 'proxy_version', RES, ''),
    connectionId: stringOr(s, 'connection_id', RES, ''),
  };
}

function refuse(error: string, permanent: boolean): RegistrationVerdict {
  return { ok: false, error, permanent };
}

/**
 * §9.4 steps 2–8 on the first frame of a reverse connection. Step 1 (timeout) and step 9 (connection
 * limit) belong to the listener. `permanent`: retrying the same registration can never succeed
 * (steps 4–8); a wrong frame type or an unparsable payload (steps 2–3) may be a transient fault.
 */
export function validateRegistration(type: number, payload: Uint8Array, policy: RegistrationPolicy): RegistrationVerdict {
  if (type !== REGISTRATION_TYPE) {
    return refuse(`Invalid message format: Expected registration request (HandshakeRequest), got ${messageTypeName(type)}`, false);
  }
  let request: RegistrationRequest;
  try {
    request = decodeRegistrationRequest(payload);
  } catch (err) {
    if (!isAgentPoolError(err)) throw err;
    // A JSON parse error quotes the peer's bytes: bounded and escaped like every peer text.
    return refuse(`Invalid message format: ${peerText(err.message, 256)}`, false);
  }
  if (request.protocolVersion !== PROTOCOL_VERSION) {
    return refuse(`Protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${request.protocolVersion}`, true);
  }
  if (request.agentId === '') return refuse('Invalid message format: Agent ID cannot be empty', true);
  if (!isValidAgentId(request.agentId)) {
    return refuse(
      `Invalid message format: Agent ID ${quotedPeerText(request.agentId, 64)} must be at most ` +
        `${AGENT_ID_MAX_BYTES} characters of [A-Za-z0-9._:-]`,
      true,
    );
  }
  if (policy.allowedAgents.length > 0 && !isAllowed(request.agentId, policy.allowedAgents)) {
    return refuse(`Invalid message format: Agent ${quotedPeerText(request.agentId)} is not in the allowed list`, true);
  }
  if (policy.requireAuth) {
    // An empty token counts as no token: it can never be a meaningful secret.
    if (request.authToken === null || request.authToken === '') {
      return refuse('Invalid message format: Authentication required but no token provided', true);
    }
    if (!tokenMatches(request.authToken, policy.authTokens, request.agentId)) {
      return refuse('Invalid message format: Authentication failed', true);
    }
  }
  return { ok: true, request };
}

/** §13.2 (ours): non-empty, at most 128 bytes, only `[A-Za-z0-9._:-]` (so ids are safe in paths, logs and labels). */
function isValidAgentId(id: string): boolean {
  return id.length <= AGENT_ID_MAX_BYTES && AGENT_ID.test(id);
}

function isAllowed(id: string, allowed: readonly string[]): boolean {
  for (const pattern of allowed) if (pattern === id || globMatch(pattern, id)) return true;
  return false;
}

export function registrationSuccess(agentId: string, nowMs: number, proxyVersion: string): RegistrationResponse {
  return {
    success: true,
    error: null,
    proxyId: PROXY_ID,
    proxyVersion,
    connectionId: connectionIdFor(agentId, nowMs),
  };
}

export function registrationRefusal(error: string, proxyVersion: string): RegistrationResponse {
  return { success: false, error, proxyId: PROXY_ID, proxyVersion, connectionId: '' };
}

/** `<agent_id>-<Unix ms in lower-case hex>`; informational, need not be unique. */
export function connectionIdFor(agentId: string, nowMs: number): string {
  return `${agentId}-${nowMs.toString(16)}`;
}

/** Duration as the step-1 timeout text renders it: `500ms`, `10s`, `1.5s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${ms / 1000}s`;
}

/**
 * `*` matches any run of characters (also empty); every other character matches itself,
 * case-sensitively. Greedy with one back-track point, so linear-ish and never exponential.
 */
export function globMatch(pattern: string, id: string): boolean {
  let p = 0;
  let i = 0;
  let starP = -1; // position in pattern just after the last '*'
  let starI = 0; // position in id that the last '*' currently extends to
  while (i < id.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = ++p;
      starI = i;
    } else if (p < pattern.length && pattern[p] === id[i]) {
      p++;
      i++;
    } else if (starP >= 0) {
      p = starP;
      i = ++starI;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Constant time with respect to the token's content: both sides are hashed to fixed-length digests,
 * every configured token is compared, and the result is accumulated without an early exit. A token
 * bound to agent-id patterns counts only for a matching `agentId` (the id is public: matching it
 * may take id-dependent time, the digest comparison still runs for every token). Without an
 * `agentId`, bound tokens never match.
 */
export function tokenMatches(token: string, tokens: readonly AuthToken[], agentId?: string): boolean {
  const given = digest(token);
  let matched = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as AuthToken;
    const equal = timingSafeEqual(given, digest(typeof t === 'string' ? t : t.token)) ? 1 : 0;
    const bound = typeof t === 'string' || (agentId !== undefined && isAllowed(agentId, t.agents)) ? 1 : 0;
    matched |= equal & bound;
  }
  return matched === 1;
}
