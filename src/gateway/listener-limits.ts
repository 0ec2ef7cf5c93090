// The limits every `zap gateway` listener applies to its clients, on top of the two timeouts its
// KDL block sets. The reference puts header size and connection caps in a `limits` block that zap
// refuses, so they are fixed here at the reference's defaults; docs/gateway.md lists them.
import type { Server, ServerResponse } from 'node:http';
import type { GatewayListenerConfig } from '../config/config-types.js';

/** What a listener holds its clients to (see `applyListenerLimits`). */
export interface ListenerLimits {
  /** Time to receive the request head; capped at the request timeout (Node's `headersTimeout`). */
  headersTimeoutMs: number;
  /** Largest request head in bytes; larger is answered 431 (Node's `maxHeaderSize`). */
  maxHeaderBytes: number;
  /** Open client connections per listener; more are closed at accept (`server.maxConnections`). */
  maxConnections: number;
  /** Requests one kept-alive connection may carry before it is closed (`maxRequestsPerSocket`). */
  maxRequestsPerSocket: number;
  /** How often Node checks the two request timeouts (its own default, 30 s, makes them late). */
  timeoutCheckMs: number;
}

/** The reference's `limits` defaults (max-header-size-bytes, max-total-connections), and a 20 s head. */
export const LISTENER_LIMITS: Readonly<ListenerLimits> = Object.freeze({
  headersTimeoutMs: 20_000,
  maxHeaderBytes: 8_192,
  maxConnections: 10_000,
  maxRequestsPerSocket: 1_000,
  timeoutCheckMs: 1_000,
});

/** The node:http server options a listener is created with (fixed at creation). */
export function listenerServerOptions(limits: ListenerLimits = LISTENER_LIMITS): {
  maxHeaderSize: number;
  connectionsCheckingInterval: number;
} {
  return { maxHeaderSize: limits.maxHeaderBytes, connectionsCheckingInterval: limits.timeoutCheckMs };
}

/**
 * Applies `config`'s timeouts and `limits` to `server`; called again when a reload changes the
 * listener's settings in place. The keep-alive timeout bounds idle connections, the request timeout
 * the whole request (a slow body drip included), the headers timeout its head (slowloris).
 */
export function applyListenerLimits(server: Server, config: GatewayListenerConfig, limits: ListenerLimits = LISTENER_LIMITS): void {
  server.requestTimeout = config.requestTimeoutMs;
  server.headersTimeout = Math.min(limits.headersTimeoutMs, config.requestTimeoutMs);
  server.keepAliveTimeout = config.keepaliveTimeoutMs;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.maxConnections = limits.maxConnections;
}

/**
 * Node answers the last request a kept-alive connection may carry (`maxRequestsPerSocket`) with
 * `Connection: close` but keeps the connection open, and answers 503 to whatever the client sends on
 * it after that. RFC 9112, section 9.6: a server that sends close must close. An explicit `connection: close`
 * header makes Node end the connection once that response is written.
 */
export function closeAtRequestLimit(res: ServerResponse): void {
  if ((res as { maxRequestsOnConnectionReached?: boolean }).maxRequestsOnConnectionReached === true) res.setHeader('connection', 'close');
}
