// AgentPool configuration (spec §11): the typed options, their defaults, and up-front validation
// with clear errors (ZAP_INVALID_CONFIG naming the option).
import { availableParallelism } from 'node:os';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { EncodingSetting } from '../protocol/types.js';
import type { CustomPicker } from './picker.js';

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
  /** The agent's configuration, delivered in the handshake and as the initial Configure (spec §10.7). */
  config?: unknown;
}

export interface AgentPoolConfig extends Partial<AgentConnectionOptions> {
  /**
   * Connection-host worker threads. 0 = everything on the calling thread. Default: 0 on machines
   * with 2 or fewer cores (a worker only competes with the agents for the same cores there), else
   * min(availableParallelism() − 1, 8).
   */
  workers?: number;
}

export type AgentOptions = Partial<AgentConnectionOptions>;

export const DEFAULT_AGENT_OPTIONS: Readonly<AgentConnectionOptions> = {
  connectionsPerAgent: 4,
  loadBalanceStrategy: 'round-robin',
  encoding: 'json',
  connectTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  drainTimeoutMs: 30_000,
  maxConcurrentPerConnection: 100,
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
};

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
] as const;
const NON_NEGATIVE_INTEGERS = ['drainTimeoutMs', 'flowControlWaitTimeoutMs', 'stickySessionTimeoutMs', 'correlationAffinityTtlMs'] as const;
const STRATEGIES: readonly string[] = ['round-robin', 'least-connections', 'health-based', 'random'];
const ENCODINGS: readonly string[] = ['json', 'msgpack', 'prefer-msgpack'];
const FLOW_MODES: readonly string[] = ['fail-closed', 'fail-open', 'wait-and-retry'];
const KNOWN_KEYS = new Set<string>([...Object.keys(DEFAULT_AGENT_OPTIONS), 'config']);

function invalid(where: string, key: string, why: string): never {
  throw zapError(ErrorCode.InvalidConfig, `${where}: option '${key}' ${why}`);
}

/** Validates `options` (pool-wide or per agent) and merges it over `base`. */
export function resolveAgentOptions(base: Readonly<AgentConnectionOptions>, options: AgentOptions, where: string): AgentConnectionOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key) && key !== 'workers') invalid(where, key, 'is not a known option');
  }
  const merged: AgentConnectionOptions = { ...base };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && key !== 'workers') (merged as unknown as Record<string, unknown>)[key] = value;
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
  if (merged.reconnectMaxBackoffMs < merged.reconnectInitialBackoffMs) {
    invalid(where, 'reconnectMaxBackoffMs', 'must not be below reconnectInitialBackoffMs');
  }
  return merged;
}

export function resolveWorkers(config: AgentPoolConfig): number {
  const workers = config.workers ?? defaultWorkerCount();
  if (!Number.isSafeInteger(workers) || workers < 0 || workers > 64) {
    invalid('AgentPool', 'workers', `must be an integer from 0 to 64, got ${String(workers)}`);
  }
  return workers;
}
