// Options of AgentPool.listenReverse (spec §9, §13.2) and their validation into the settings a
// connection host runs its listener with. Secure by default: registrations must carry a token unless
// the caller opts out by name (`insecureAllowUnauthenticated`), the registration frame is small, the
// sockets waiting to register are few, and registrations join only agents declared `reverse://`.
import { ErrorCode, zapError } from '../protocol/errors.js';
import { MAX_FRAME_LENGTH } from '../protocol/frame-encoder.js';
import type { AuthToken } from '../protocol/registration.js';
import { DEFAULT_MAX_REGISTRATION_BYTES } from '../transport/reverse-first-frame.js';
import { DEFAULT_SOCKET_MODE, socketModeOf } from '../transport/socket-file.js';
import type { ReverseListenerSettings } from '../contract/host-messages.js';
import type { AgentConnectionOptions } from './pool-config.js';

export type { AuthToken } from '../protocol/registration.js';

export const REVERSE_DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  maxConnectionsPerAgent: 4,
  maxRegistrationBytes: DEFAULT_MAX_REGISTRATION_BYTES,
  maxPendingHandshakes: 64,
  maxUndeclaredAgents: 16,
} as const;

/** Options of `listenReverse` (spec §9, §13.2); TLS material as PEM text. */
export interface ReverseListenOptions {
  /**
   * Unix socket to listen on. A dead socket file there is replaced; a live one (another process serves
   * it) makes listening fail. On close only the socket this listener bound is removed.
   */
  path?: string;
  /** Permission bits of the Unix socket file, set before it is reachable. Default 0o600 (owner only). */
  socketMode?: number;
  /** `host:port` to listen on (port 0: any free port; the handle says which). */
  tcpAddress?: string;
  /** TLS for `tcpAddress`; with `ca`, agents must present a client certificate signed by it. */
  tls?: { cert: string; key: string; ca?: string };
  /** Time allowed for the registration frame, from accept (TLS handshake included). Default 10 000. */
  handshakeTimeoutMs?: number;
  /** Live reverse connections one agent id may hold. Default 4. */
  maxConnectionsPerAgent?: number;
  /**
   * Registrations must carry one of `authTokens` (spec §9.4 steps 7–8). Default true; false only
   * together with `insecureAllowUnauthenticated: true`.
   */
  requireAuth?: boolean;
  /**
   * Accepted registration tokens. A string is valid for every id the allow-list admits;
   * `{ token, agents: ['edge-*'] }` only for ids matching one of `agents` (exact or `*` glob), so a
   * token for `edge-*` cannot register as `waf`. Compared in constant time (fixed-length digests,
   * every token checked).
   */
  authTokens?: AuthToken | AuthToken[];
  /** Agent ids allowed to register: exact or `*` glob, case-sensitive; empty = every valid id. */
  allowedAgents?: string[];
  /**
   * The loud opt-out: admit registrations without any token. Anyone who can reach the listener can
   * then register as any allowed reverse agent and answer its requests. For trusted test setups only;
   * without it, a listener with no token refuses to start (ZAP_INVALID_CONFIG).
   */
  insecureAllowUnauthenticated?: boolean;
  /** Largest registration frame (its announced length N) accepted; larger ones are refused at once. Default 65 536. */
  maxRegistrationBytes?: number;
  /** Sockets waiting to register (or being refused) at most; further ones are closed at once. Default 64. */
  maxPendingHandshakes?: number;
  /**
   * Admit registrations of ids not declared with `addAgent(id, 'reverse://id')`: their pool entry is
   * created on registration (pool defaults) and removed when its last connection closes. Default false.
   * Ids declared with a forward endpoint (UDS, gRPC) are never joined by a registration.
   */
  allowUndeclaredAgents?: boolean;
  /** Undeclared ids holding connections on this listener, at most (with `allowUndeclaredAgents`). Default 16. */
  maxUndeclaredAgents?: number;
}

const WHERE = 'listenReverse';

function invalid(text: string): Error {
  return zapError(ErrorCode.InvalidConfig, `${WHERE}: ${text}`);
}

export function resolveReverseSettings(o: ReverseListenOptions, base: AgentConnectionOptions): ReverseListenerSettings {
  if (o.path === undefined && o.tcpAddress === undefined) throw invalid(`give 'path' and/or 'tcpAddress'`);
  if (o.tls !== undefined && o.tcpAddress === undefined) throw invalid(`'tls' applies to 'tcpAddress' only`);
  const tokens = authTokensOf(o.authTokens);
  const insecure = o.insecureAllowUnauthenticated ?? false;
  if (typeof insecure !== 'boolean') throw invalid(`'insecureAllowUnauthenticated' must be a boolean`);
  const requireAuth = o.requireAuth ?? !(insecure && tokens.length === 0);
  if (requireAuth && tokens.length === 0) {
    throw invalid(
      'registrations must be authenticated: give authTokens (optionally bound to agent ids), ' +
        'or set insecureAllowUnauthenticated: true to accept any agent without a token',
    );
  }
  if (!requireAuth && !insecure) throw invalid('requireAuth: false needs the explicit opt-out insecureAllowUnauthenticated: true');
  if (!requireAuth && tokens.length > 0) throw invalid('auth tokens given with requireAuth: false');
  const allowedAgents = o.allowedAgents ?? [];
  if (!Array.isArray(allowedAgents) || !allowedAgents.every((p) => typeof p === 'string' && p !== '')) {
    throw invalid(`'allowedAgents' must be an array of non-empty strings`);
  }
  const allowUndeclaredAgents = o.allowUndeclaredAgents ?? false;
  if (typeof allowUndeclaredAgents !== 'boolean') throw invalid(`'allowUndeclaredAgents' must be a boolean`);
  return {
    ...(o.path === undefined ? {} : { path: o.path }),
    ...(o.tcpAddress === undefined ? {} : { tcpAddress: o.tcpAddress }),
    ...(o.tls === undefined ? {} : { tls: o.tls }),
    socketMode: socketModeOf(o.socketMode ?? DEFAULT_SOCKET_MODE, `${WHERE}: socketMode`),
    handshakeTimeoutMs: positive('handshakeTimeoutMs', o.handshakeTimeoutMs, REVERSE_DEFAULTS.handshakeTimeoutMs),
    maxConnectionsPerAgent: positive('maxConnectionsPerAgent', o.maxConnectionsPerAgent, REVERSE_DEFAULTS.maxConnectionsPerAgent),
    requireAuth,
    authTokens: tokens,
    allowedAgents,
    maxRegistrationBytes: positive('maxRegistrationBytes', o.maxRegistrationBytes, REVERSE_DEFAULTS.maxRegistrationBytes, MAX_FRAME_LENGTH),
    maxPendingHandshakes: positive('maxPendingHandshakes', o.maxPendingHandshakes, REVERSE_DEFAULTS.maxPendingHandshakes),
    allowUndeclaredAgents,
    maxUndeclaredAgents: positive('maxUndeclaredAgents', o.maxUndeclaredAgents, REVERSE_DEFAULTS.maxUndeclaredAgents),
    requestTimeoutMs: base.requestTimeoutMs,
    channelBufferSize: base.channelBufferSize,
  };
}

function positive(name: string, v: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = v ?? fallback;
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw invalid(`'${name}' must be an integer from 1 to ${max}`);
  }
  return value;
}

/** Plain tokens and bound ones, each checked: a token is a non-empty string, a binding a non-empty list of patterns. */
function authTokensOf(given: AuthToken | AuthToken[] | undefined): AuthToken[] {
  const list = given === undefined ? [] : Array.isArray(given) ? given : [given];
  return list.map((t, i) => {
    if (typeof t === 'string') {
      if (t === '') throw invalid(`authTokens[${i}] is empty`);
      return t;
    }
    const bound = t as { token?: unknown; agents?: unknown } | null;
    if (typeof bound !== 'object' || bound === null || typeof bound.token !== 'string' || bound.token === '') {
      throw invalid(`authTokens[${i}] must be a non-empty string or { token, agents }`);
    }
    const agents = bound.agents;
    if (!Array.isArray(agents) || agents.length === 0 || !agents.every((p) => typeof p === 'string' && p !== '')) {
      throw invalid(`authTokens[${i}].agents must be a non-empty array of agent-id patterns`);
    }
    return { token: bound.token, agents: [...(agents as string[])] };
  });
}
