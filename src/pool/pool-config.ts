// AgentPool configuration (spec §11): the typed options, their defaults, and up-front validation
// with clear errors (ZAP_INVALID_CONFIG naming the option).
import { availableParallelism } from 'node:os';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { ConfigUpdateRequest, EncodingSetting } from '../protocol/types.js';
import type { PushTimings } from './config-push.js';
import type { CircuitBreakerConfig } from './circuit-state.js';
import { resolveCircuitBreakerConfig } from './circuit-breaker.js';
import type { FailureMode } from './failure-mode.js';
import type { CustomPicker } from './picker.js';
import { validateGrpcTls, type GrpcChannelSettings, type GrpcTlsOptions } from '../transport/grpc-settings.js';

export type LoadBalanceStrategy = 'round-robin' | 'least-connections' | 'health-based' | 'random';
export type FlowControlMode = 'fail-closed' | 'fail-open' | 'wait-and-retry';

/** Per-agent connection settings (spec §11); every field may be set pool-wide or per agent. */
export interface AgentConnectionOptions {
  connectionsPerAgent: number;
  loadBalanceStrategy: LoadBalanceStrategy | CustomPicker;
  encoding: EncodingSetting;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  requestTimeoutMs: number;
  drainTimeoutMs: number;
  maxConcurrentPerConnection: number;
  /**
   * With worker threads, the agent's first connection lives on the calling thread instead, and a new
   * request goes there while fewer than this many other calls of the agent are live (or when every
   * worker connection is full). At light load a thread hop costs more latency than the work it
   * moves; under load the calls go to the workers, and so do calls that open a sticky session.
   * 0 = every connection on a worker. Applies to dialed agents with `connectionsPerAgent` ≥ 2 in a
   * pool with `workers` ≥ 1.
   */
  inlineBelowInFlight: number;
  /** Calls waiting for a connection slot beyond this are rejected with ZAP_QUEUE_FULL. */
  maxQueuedPerAgent: number;
  healthCheckIntervalMs: number;
  pingTimeoutMs: number;
  channelBufferSize: number;
  flowControlMode: FlowControlMode;
  flowControlWaitTimeoutMs: number;
  /** 0 = never expire. */
  stickySessionTimeoutMs: number;
  correlationAffinityTtlMs: number;
  maxCorrelationAffinities: number;
  reconnectInitialBackoffMs: number;
  reconnectMaxBackoffMs: number;
  /** gRPC: HTTP/2 keepalive ping period and ack timeout (spec §8.4 step 2). */
  grpcKeepaliveTimeMs: number;
  grpcKeepaliveTimeoutMs: number;
  /** gRPC: largest message sent (bigger events fail with ZAP_FRAME_TOO_LARGE) and accepted. */
  grpcMaxSendBytes: number;
  grpcMaxReceiveBytes: number;
  /**
   * gRPC TLS: `ca`, `cert`, `key` as PEM text or PEM file paths (read at each connect);
   * `insecure` skips verifying the agent; `serverName` overrides the name checked. Given = TLS,
   * also for http:// and host:port endpoints (spec §10.13).
   */
  tls?: GrpcTlsOptions;
  /**
   * What an unavailable agent yields: 'closed' (default here) rejects with the typed error;
   * 'open' resolves with a synthetic Allow (`synthetic: true`), counted in agentStats.
   * (The proxy-level KDL default is 'open', spec §13.1; the loader passes it explicitly.)
   */
  failureMode: FailureMode;
  circuitBreaker: CircuitBreakerConfig;
  /** The agent's configuration, delivered in the handshake and as the initial Configure (spec §10.7). */
  config?: unknown;
}

/** Answers an agent's ConfigUpdateRequest (spec §7.6); without one, the §7.6 defaults apply. */
export type ConfigUpdateCallback = (
  agentId: string,
  request: ConfigUpdateRequest,
) => { accepted: boolean; error?: string | null } | Promise<{ accepted: boolean; error?: string | null }>;

export interface AgentPoolConfig extends AgentOptions {
  onConfigUpdate?: ConfigUpdateCallback;
  /**
   * Metrics (spec §12): `prefix` of the protocol families (default `agent_protocol`), a prom-client
   * `registry` to fill (default a new one, `pool.registry`), the agent-reported series cap
   * (`reportedSeriesLimit`, 10 000) and expiry (`reportedTtlMs`, 300 000), and `defaultMetrics`
   * (default false): also expose prom-client's `process_*` and `nodejs_*` metrics in `metrics()`.
   */
  metrics?: Pick<
    import('../metrics/pool-metrics.js').PoolMetricsOptions,
    'prefix' | 'registry' | 'reportedSeriesLimit' | 'reportedTtlMs' | 'defaultMetrics'
  >;
  /** Config push timers (spec §10.7 defaults: ack 10 s, retry delay 2 s, 3 resends, purge 60 s). */
  pushTimings?: Partial<PushTimings>;
  /**
   * Connection-host worker threads. 0 = everything on the calling thread. Default: 0 on machines
   * with 2 or fewer cores (a worker only competes with the agents for the same cores there), else
   * min(availableParallelism() − 1, 8).
   */
  workers?: number;
}

export type AgentOptions = Partial<Omit<AgentConnectionOptions, 'circuitBreaker'>> & {
  circuitBreaker?: Partial<CircuitBreakerConfig>;
};

/** Freezes `value` and every object inside it: shared defaults must not be changed by anyone. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const inner of Object.values(value)) deepFreeze(inner);
  return Object.freeze(value);
}

/**
 * The built-in defaults of every agent option. Deeply frozen: a caller that writes to it (or to
 * its `circuitBreaker`) gets a TypeError in strict mode instead of changing every later pool.
 */
export const DEFAULT_AGENT_OPTIONS: Readonly<AgentConnectionOptions> = deepFreeze({
  connectionsPerAgent: 4,
  loadBalanceStrategy: 'round-robin',
  encoding: 'json',
  connectTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  drainTimeoutMs: 30_000,
  maxConcurrentPerConnection: 100,
  inlineBelowInFlight: 1,
  maxQueuedPerAgent: 10_000,
  healthCheckIntervalMs: 10_000,
  pingTimeoutMs: 5_000,
  channelBufferSize: 64,
  flowControlMode: 'fail-closed',
  flowControlWaitTimeoutMs: 100,
  stickySessionTimeoutMs: 300_000,
  correlationAffinityTtlMs: 300_000,
  maxCorrelationAffinities: 100_000,
  reconnectInitialBackoffMs: 100,
  reconnectMaxBackoffMs: 30_000,
  grpcKeepaliveTimeMs: 60_000,
  grpcKeepaliveTimeoutMs: 20_000,
  grpcMaxSendBytes: 4_194_304,
  grpcMaxReceiveBytes: 16_777_216,
  failureMode: 'closed',
  circuitBreaker: resolveCircuitBreakerConfig(),
} satisfies AgentConnectionOptions);

export function defaultWorkerCount(cores = availableParallelism()): number {
  return cores <= 2 ? 0 : Math.min(cores - 1, 8);
}

const POSITIVE_INTEGERS = [
  'connectionsPerAgent',
  'connectTimeoutMs',
  'handshakeTimeoutMs',
  'requestTimeoutMs',
  'maxConcurrentPerConnection',
  'maxQueuedPerAgent',
  'healthCheckIntervalMs',
  'pingTimeoutMs',
  'channelBufferSize',
  'maxCorrelationAffinities',
  'reconnectInitialBackoffMs',
  'reconnectMaxBackoffMs',
  'grpcKeepaliveTimeMs',
  'grpcKeepaliveTimeoutMs',
  'grpcMaxSendBytes',
  'grpcMaxReceiveBytes',
] as const;
const NON_NEGATIVE_INTEGERS = [
  'drainTimeoutMs',
  'flowControlWaitTimeoutMs',
  'stickySessionTimeoutMs',
  'correlationAffinityTtlMs',
  'inlineBelowInFlight',
] as const;
const STRATEGIES: readonly string[] = ['round-robin', 'least-connections', 'health-based', 'random'];
const ENCODINGS: readonly string[] = ['json', 'msgpack', 'prefer-msgpack'];
const FLOW_MODES: readonly string[] = ['fail-closed', 'fail-open', 'wait-and-retry'];
const KNOWN_KEYS = new Set<string>([...Object.keys(DEFAULT_AGENT_OPTIONS), 'config', 'tls']);

function invalid(where: string, key: string, why: string): never {
  throw zapError(ErrorCode.InvalidConfig, `${where}: option '${key}' ${why}`);
}

/** Validates `options` (pool-wide or per agent) and merges it over `base`. */
export function resolveAgentOptions(base: Readonly<AgentConnectionOptions>, options: AgentOptions, where: string): AgentConnectionOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key) && key !== 'workers' && key !== 'circuitBreaker') invalid(where, key, 'is not a known option');
  }
  const merged: AgentConnectionOptions = { ...base };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && key !== 'workers' && key !== 'circuitBreaker') (merged as unknown as Record<string, unknown>)[key] = value;
  }
  for (const key of POSITIVE_INTEGERS) {
    const v = merged[key];
    if (!Number.isSafeInteger(v) || v <= 0) invalid(where, key, `must be a positive integer, got ${String(v)}`);
  }
  for (const key of NON_NEGATIVE_INTEGERS) {
    const v = merged[key];
    if (!Number.isSafeInteger(v) || v < 0) invalid(where, key, `must be a non-negative integer, got ${String(v)}`);
  }
  const lb = merged.loadBalanceStrategy;
  if (typeof lb !== 'function' && !STRATEGIES.includes(lb)) {
    invalid(where, 'loadBalanceStrategy', `must be one of ${STRATEGIES.join(', ')} or a function, got '${String(lb)}'`);
  }
  if (!ENCODINGS.includes(merged.encoding)) invalid(where, 'encoding', `must be one of ${ENCODINGS.join(', ')}`);
  if (!FLOW_MODES.includes(merged.flowControlMode)) invalid(where, 'flowControlMode', `must be one of ${FLOW_MODES.join(', ')}`);
  if (merged.failureMode !== 'open' && merged.failureMode !== 'closed') invalid(where, 'failureMode', "must be 'open' or 'closed'");
  merged.circuitBreaker = resolveCircuitBreakerConfig(
    { ...base.circuitBreaker, ...(options.circuitBreaker ?? {}) },
    `${where}: circuitBreaker`,
  );
  if (merged.tls !== undefined) validateGrpcTls(merged.tls, `${where}: option 'tls'`);
  if (merged.reconnectMaxBackoffMs < merged.reconnectInitialBackoffMs) {
    invalid(where, 'reconnectMaxBackoffMs', 'must not be below reconnectInitialBackoffMs');
  }
  return merged;
}

/** What a gRPC connection's channel needs of the agent's options (OpenConnectionCommand.grpc). */
export function grpcChannelSettings(o: AgentConnectionOptions): GrpcChannelSettings {
  return {
    keepaliveTimeMs: o.grpcKeepaliveTimeMs,
    keepaliveTimeoutMs: o.grpcKeepaliveTimeoutMs,
    maxSendBytes: o.grpcMaxSendBytes,
    maxReceiveBytes: o.grpcMaxReceiveBytes,
    tls: o.tls ?? null,
  };
}

export function resolveWorkers(config: AgentPoolConfig): number {
  const workers = config.workers ?? defaultWorkerCount();
  if (!Number.isSafeInteger(workers) || workers < 0 || workers > 64) {
    invalid('AgentPool', 'workers', `must be an integer from 0 to 64, got ${String(workers)}`);
  }
  return workers;
}
