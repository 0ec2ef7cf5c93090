// The typed result of loading a KDL configuration (spec §13): what `loadConfig` returns.
import type { AuthToken } from '../protocol/registration.js';
import type { AgentConnectionOptions, LoadBalanceStrategy } from '../pool/pool-config.js';
import type { EventKind } from '../protocol/types.js';

export type AgentTransport =
  | { kind: 'uds'; path: string }
  | {
      kind: 'grpc';
      /** As written in the file (spec §10.13). */
      url: string;
      /** https:// or any TLS child present (the reference enables TLS on their mere presence). */
      tls: boolean;
      /** `tls-insecure`: do not verify the agent's certificate. */
      tlsInsecure: boolean;
      caCert?: string;
      clientCert?: string;
      clientKey?: string;
    }
  /** The agent dials the proxy's reverse listener (spec §9). */
  | { kind: 'reverse' };

export type FailureMode = 'open' | 'closed';
export type BodyMode = 'buffer' | 'stream' | 'hybrid';

export interface BodyModeConfig {
  mode: BodyMode;
  /** Bytes buffered before a hybrid body switches to streaming (65 536 unless `hybrid:<bytes>`). */
  hybridThreshold: number;
}

export interface CircuitBreakerConfig {
  failureThreshold: number;
  successThreshold: number;
  openDurationMs: number;
  halfOpenMaxRequests: number;
}

/** The pool options a `pool { }` block may set (spec §11); only the keys written are present. */
export type PoolOptionsConfig = Partial<Omit<AgentConnectionOptions, 'config' | 'loadBalanceStrategy' | 'tls'>> & {
  loadBalanceStrategy?: LoadBalanceStrategy;
  grpcKeepaliveTimeMs?: number;
  grpcKeepaliveTimeoutMs?: number;
  grpcMaxSendBytes?: number;
  grpcMaxReceiveBytes?: number;
};

export interface AgentConfig {
  id: string;
  /** `waf`, `auth`, `rate_limit` (also written `rate-limit`) or a custom name; absent = the id. */
  type: string;
  transport: AgentTransport;
  /** In the order written, without duplicates. */
  events: EventKind[];
  timeoutMs: number;
  failureMode: FailureMode;
  circuitBreaker: CircuitBreakerConfig;
  maxRequestBodyBytes: number;
  maxResponseBodyBytes: number;
  requestBodyMode: BodyModeConfig;
  responseBodyMode: BodyModeConfig;
  chunkTimeoutMs: number;
  maxConcurrentCalls: number;
  /** The `config { }` block as JSON (spec §13.3); absent when there is no block. */
  config?: unknown;
  pool: PoolOptionsConfig;
}

export interface ReverseListenerTlsConfig {
  cert: string;
  key: string;
  /** When set, agents must present a client certificate signed by this CA. */
  caCert?: string;
}

export interface ReverseListenerConfig {
  path?: string;
  tcpAddress?: string;
  maxConnectionsPerAgent: number;
  handshakeTimeoutMs: number;
  /** Default true; false only with `insecureAllowUnauthenticated`. */
  requireAuth: boolean;
  /** `insecure-allow-unauthenticated`: the explicit opt-out of authentication. */
  insecureAllowUnauthenticated: boolean;
  /** Plain tokens (any allowed id) and tokens bound to agent-id patterns. */
  authTokens: AuthToken[];
  /** Exact ids or `*` globs; empty = every agent. */
  allowedAgents: string[];
  maxRegistrationBytes: number;
  maxPendingHandshakes: number;
  allowUndeclaredAgents: boolean;
  maxUndeclaredAgents: number;
  tls?: ReverseListenerTlsConfig;
}

/** One `listeners { listener "<id>" { … } }` entry: where `zap gateway` accepts HTTP. */
export interface GatewayListenerConfig {
  id: string;
  /** `host:port` as written. */
  address: string;
  /** Only `http` is served; `https`, `h2` and `h3` are refused by the loader. */
  protocol: 'http';
  /** Time to receive a whole request (Node's `server.requestTimeout`). */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. */
  keepaliveTimeoutMs: number;
  /** Route used when no route matches (otherwise 404). */
  defaultRoute?: string;
}

export interface UpstreamTargetConfig {
  /** `host:port` as written. */
  address: string;
  /** Share of the requests under weighted round robin. */
  weight: number;
}

/** One `upstreams { upstream "<id>" { … } }` entry. */
export interface UpstreamConfig {
  id: string;
  targets: UpstreamTargetConfig[];
  /** Both spread requests over the targets by weight (equal weights: plain round robin). */
  loadBalancing: 'round_robin' | 'weighted';
}

/** One condition of a route's `matches { }` block; all of a route's conditions must hold. */
export type RouteMatchConfig =
  | { kind: 'path-prefix'; value: string }
  | { kind: 'path'; value: string }
  | { kind: 'path-regex'; value: string }
  | { kind: 'host'; value: string }
  | { kind: 'method'; values: string[] };

/** One `routes { route "<id>" { … } }` entry. */
export interface RouteConfig {
  id: string;
  /** Higher first; equal priorities keep the order written. */
  priority: number;
  /** Empty: the route matches every request. */
  matches: RouteMatchConfig[];
  upstream: string;
  /** Agent ids consulted for this route, in the order written (the first non-allow decision wins). */
  agents: string[];
  /** WebSocket upgrades are relayed on this route (otherwise refused, as the reference does). */
  websocket: boolean;
}

/** The proxy blocks `zap gateway` serves: `listeners`, `upstreams`, `routes`. */
export interface GatewayConfig {
  listeners: GatewayListenerConfig[];
  upstreams: UpstreamConfig[];
  /** In the order written; the route table sorts them by priority. */
  routes: RouteConfig[];
}

export interface ZapConfig {
  file: string;
  agents: AgentConfig[];
  reverseListener?: ReverseListenerConfig;
  /** Present when any of `listeners`, `upstreams`, `routes` is written; references are checked. */
  gateway?: GatewayConfig;
  /** `<file>:<line>: <text>` for accepted but deprecated keys (e.g. `protocol-version`). */
  warnings: string[];
}
