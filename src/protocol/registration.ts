// Reverse-connection registration (spec §9.2–§9.4, D6): the agent's RegistrationRequest (frame 0x01)
// and our RegistrationResponse (0x02), both always JSON, and the proxy's validation of the first frame.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RegistrationRequest, RegistrationResponse } from './types.js';
import { PROTOCOL_VERSION, PROXY_ID } from './types.js';
import { isAgentPoolError, protocolError } from './errors.js';
import { asStruct, boolOr, isAbsent, optString, parseJsonPayload, reqInt, reqString, stringOr } from './wire-reader.js';
import { capabilitiesFromWire, capabilitiesToWire } from './capabilities.js';
import { messageTypeName } from './message-type.js';
import { quotedPeerText } from './peer-text.js';

const REQ = 'RegistrationRequest';
const RES = 'RegistrationResponse';
const REQUEST_KEYS = ['protocol_version', 'agent_id', 'capabilities', 'auth_token', 'metadata'] as const;
const RESPONSE_KEYS = ['success', 'error', 'proxy_id', 'proxy_version', 'connection_id'] as const;
const REGISTRATION_TYPE = 0x01;

export interface RegistrationPolicy {
  requireAuth: boolean;
  authTokens: readonly string[];
  allowedAgents: readonly string[];
}

export type RegistrationVerdict =
  | { ok: true; request: RegistrationRequest }
  | { ok: false; error: string; permanent: boolean };

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
export function validateRegistration(
  type: number,
  payload: Uint8Array,
  policy: RegistrationPolicy,
): RegistrationVerdict {
  if (type !== REGISTRATION_TYPE) {
    return refuse(
      `Invalid message format: Expected registration request (HandshakeRequest), got ${messageTypeName(type)}`,
      false,
    );
  }
  let request: RegistrationRequest;
  try {
    request = decodeRegistrationRequest(payload);
  } catch (err) {
    if (!isAgentPoolError(err)) throw err;
    return refuse(`Invalid message format: ${err.message}`, false);
  }
  if (request.protocolVersion !== PROTOCOL_VERSION) {
    return refuse(`Protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${request.protocolVersion}`, true);
  }
  if (request.agentId === '') return refuse('Invalid message format: Agent ID cannot be empty', true);
  if (policy.allowedAgents.length > 0 && !isAllowed(request.agentId, policy.allowedAgents)) {
    return refuse(`Invalid message format: Agent ${quotedPeerText(request.agentId)} is not in the allowed list`, true);
  }
  if (policy.requireAuth) {
    // An empty token counts as no token: it can never be a meaningful secret.
    if (request.authToken === null || request.authToken === '') {
      return refuse('Invalid message format: Authentication required but no token provided', true);
    }
    if (!tokenMatches(request.authToken, policy.authTokens)) {
      return refuse('Invalid message format: Authentication failed', true);
    }
  }
  return { ok: true, request };
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
 * every configured token is compared, and the result is accumulated without an early exit.
 */
export function tokenMatches(token: string, tokens: readonly string[]): boolean {
  const given = digest(token);
  let matched = 0;
  for (let i = 0; i < tokens.length; i++) {
    matched |= timingSafeEqual(given, digest(tokens[i] as string)) ? 1 : 0;
  }
  return matched === 1;
}
