// Keys of an agent's `pool { }` block (spec §11). Only keys written are set; the pool fills the rest
// from DEFAULT_AGENT_OPTIONS, which is also what the reference shows as the default.
import { DEFAULT_AGENT_OPTIONS, type FlowControlMode, type LoadBalanceStrategy } from '../pool/pool-config.js';
import type { EncodingSetting } from '../protocol/types.js';
import type { PoolOptionsConfig } from './config-types.js';
import { scalarsOf, type BlockSpec } from './schema-kit.js';
import { choice, nonNegativeInteger, positiveInteger } from './value-kinds.js';

const DEFAULTS: Required<PoolOptionsConfig> = {
  ...DEFAULT_AGENT_OPTIONS,
  loadBalanceStrategy: DEFAULT_AGENT_OPTIONS.loadBalanceStrategy as LoadBalanceStrategy,
};

const strategy = choice<LoadBalanceStrategy>({
  'round-robin': 'round-robin',
  'least-connections': 'least-connections',
  'health-based': 'health-based',
  random: 'random',
});
const encoding = choice<EncodingSetting>({ json: 'json', msgpack: 'msgpack', 'prefer-msgpack': 'prefer-msgpack' });
const flowMode = choice<FlowControlMode>({ 'fail-closed': 'fail-closed', 'fail-open': 'fail-open', 'wait-and-retry': 'wait-and-retry' });

type P = PoolOptionsConfig;
const key = scalarsOf<P>();

export const POOL_BLOCK: BlockSpec<P> = {
  title: '`pool { }` (inside `agent`)',
  intro:
    'Connection pool settings of one agent (spec §11). A key left out takes the pool default shown here. ' +
    'The circuit breaker is configured with the agent-level `circuit-breaker { }` block.',
  typeName: 'AgentConnectionOptions',
  keys: [
    key(
      'connections-per-agent',
      'connectionsPerAgent',
      positiveInteger,
      DEFAULTS,
      'Connections kept open to the agent (UDS and gRPC; reverse agents choose their own).',
    ),
    key('load-balance-strategy', 'loadBalanceStrategy', strategy, DEFAULTS, "How a call picks one of the agent's connections."),
    key('encoding', 'encoding', encoding, DEFAULTS, 'Payload encoding offered in the UDS handshake.'),
    key('connect-timeout-ms', 'connectTimeoutMs', positiveInteger, DEFAULTS, 'Time allowed to open a connection.'),
    key('handshake-timeout-ms', 'handshakeTimeoutMs', positiveInteger, DEFAULTS, 'Time allowed for the handshake reply.'),
    key('request-timeout-ms', 'requestTimeoutMs', positiveInteger, DEFAULTS, 'Pool-level upper bound for one call.'),
    key('drain-timeout-ms', 'drainTimeoutMs', nonNegativeInteger, DEFAULTS, 'Time a closing connection waits for its calls in flight.'),
    key('max-concurrent-per-connection', 'maxConcurrentPerConnection', positiveInteger, DEFAULTS, 'Calls in flight on one connection.'),
    key(
      'inline-below-in-flight',
      'inlineBelowInFlight',
      nonNegativeInteger,
      DEFAULTS,
      "With worker threads and 2 or more connections: the first one stays on the proxy's thread and takes a " +
        'new request while fewer than this many other calls of the agent are live; 0 = all on workers (ours).',
    ),
    key(
      'max-queued-per-agent',
      'maxQueuedPerAgent',
      positiveInteger,
      DEFAULTS,
      'Calls waiting for a connection slot; more are rejected with `ZAP_QUEUE_FULL` (ours).',
    ),
    key('health-check-interval-ms', 'healthCheckIntervalMs', positiveInteger, DEFAULTS, 'Health check period; also the ping period.'),
    key('ping-timeout-ms', 'pingTimeoutMs', positiveInteger, DEFAULTS, 'A ping unanswered this long marks the connection dead.'),
    key('channel-buffer-size', 'channelBufferSize', positiveInteger, DEFAULTS, 'Frames buffered per connection before the writer waits.'),
    key('flow-control-mode', 'flowControlMode', flowMode, DEFAULTS, 'What a call does while the agent has paused the flow.'),
    key(
      'flow-control-wait-timeout-ms',
      'flowControlWaitTimeoutMs',
      nonNegativeInteger,
      DEFAULTS,
      'How long `wait-and-retry` waits for a resume.',
    ),
    key(
      'sticky-session-timeout-ms',
      'stickySessionTimeoutMs',
      nonNegativeInteger,
      DEFAULTS,
      'Idle time after which a sticky session is forgotten; 0 = never.',
    ),
    key(
      'correlation-affinity-ttl-ms',
      'correlationAffinityTtlMs',
      nonNegativeInteger,
      DEFAULTS,
      'How long a correlation id stays on its connection.',
    ),
    key('max-correlation-affinities', 'maxCorrelationAffinities', positiveInteger, DEFAULTS, 'Correlation ids remembered at most.'),
    key(
      'reconnect-initial-backoff-ms',
      'reconnectInitialBackoffMs',
      positiveInteger,
      DEFAULTS,
      'First reconnect delay (doubles, jitter [d/2, d]).',
    ),
    key(
      'reconnect-max-backoff-ms',
      'reconnectMaxBackoffMs',
      positiveInteger,
      DEFAULTS,
      'Largest reconnect delay; not below the initial one.',
    ),
    key('grpc-keepalive-time-ms', 'grpcKeepaliveTimeMs', positiveInteger, DEFAULTS, 'HTTP/2 keepalive ping period (gRPC).'),
    key('grpc-keepalive-timeout-ms', 'grpcKeepaliveTimeoutMs', positiveInteger, DEFAULTS, 'HTTP/2 keepalive ping timeout (gRPC).'),
    key('grpc-max-send-bytes', 'grpcMaxSendBytes', positiveInteger, DEFAULTS, 'Largest gRPC message sent.'),
    key('grpc-max-receive-bytes', 'grpcMaxReceiveBytes', positiveInteger, DEFAULTS, 'Largest gRPC message accepted.'),
  ],
};
