// The resource limits of an AgentServer against a hostile or broken peer, with their defaults and
// validation. Every limit is on by default; each is documented on AgentServerOptions.
import { ErrorCode, zapError } from '../protocol/errors.js';
import { DEFAULT_SOCKET_MODE, socketModeOf } from '../transport/socket-file.js';

const DEFAULT_MAX_CONNECTIONS = 1024;
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Once a frame's first byte is in, the rest must follow within this (UDS and reverse connections). */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;

/** gRPC listener defaults (grpc-js leaves all of these unlimited). */
export const GRPC_DEFAULTS = {
  /** Concurrent HTTP/2 streams per connection (a proxy uses one ProcessStream plus a probe). */
  maxConcurrentStreams: 100,
  /** Largest gRPC message received or sent (the frame limit of the UDS transport). */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Ping an otherwise silent client this often; close the connection when the ack is late. */
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  /** A connection with no open stream for this long is sent GOAWAY. */
  maxConnectionIdleMs: 60_000,
} as const;

export interface ServerLimits {
  maxConnections: number;
  handshakeTimeoutMs: number;
  frameTimeoutMs: number;
  socketMode: number;
}

export interface ServerLimitOptions {
  maxConnections?: number | undefined;
  handshakeTimeoutMs?: number | undefined;
  frameTimeoutMs?: number | undefined;
  socketMode?: number | undefined;
}

// setTimeout's ceiling: a larger delay fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1;

function positiveInteger(value: number | undefined, fallback: number, option: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw zapError(ErrorCode.InvalidConfig, `${option} must be an integer between 1 and ${max}, got ${String(value)}`);
  }
  return value;
}

/** The limits with defaults filled in; ZAP_INVALID_CONFIG for a value out of range. */
export function serverLimitsOf(o: ServerLimitOptions): ServerLimits {
  return {
    maxConnections: positiveInteger(o.maxConnections, DEFAULT_MAX_CONNECTIONS, 'maxConnections'),
    handshakeTimeoutMs: positiveInteger(o.handshakeTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS, 'handshakeTimeoutMs', MAX_TIMER_MS),
    frameTimeoutMs: positiveInteger(o.frameTimeoutMs, DEFAULT_FRAME_TIMEOUT_MS, 'frameTimeoutMs', MAX_TIMER_MS),
    socketMode: socketModeOf(o.socketMode ?? DEFAULT_SOCKET_MODE),
  };
}
