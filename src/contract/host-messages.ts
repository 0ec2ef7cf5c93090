// What the router and a connection host say to each other. The same shapes travel as direct
// calls (a host on the router's thread: workers: 0, or light-load connections) or over a
// MessagePort (a worker, host-port.ts), where the hot-path items (sends, cancels, results) go as
// one message per tick of bytes (send-batch.ts, result-batch.ts).
import type { SerializedAgentPoolError } from '../protocol/errors.js';
import type {
  AgentResponse,
  CancelReason,
  Capabilities,
  ConfigUpdateRequest,
  EncodingSetting,
  FlowControlSignal,
  HealthStatus,
  MetricsReport,
} from '../protocol/types.js';
import type { Endpoint } from '../transport/endpoint.js';
import type { EncodedEvent, EventEncoder } from '../transport/event-encoder.js';
import type { GrpcChannelSettings } from '../transport/grpc-settings.js';
import type { AgentDeclaration, ReverseListenerSettings } from '../transport/reverse-listener-settings.js';
import type { ConnectionStateName } from './connection-state.js';

export type { AgentDeclaration, ReverseListenerSettings };

export interface OpenConnectionCommand {
  type: 'open';
  connectionId: number;
  agentId: string;
  endpoint: Endpoint;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  requestTimeoutMs: number;
  channelBufferSize: number;
  encoding: EncodingSetting;
  /** The agent's configuration (null = none): handshake + initial Configure. */
  config: unknown;
  /** Push id of the first initial Configure; reconnects append `.<n>`. */
  initialPushId: string;
  redial: boolean;
  reconnectInitialBackoffMs: number;
  reconnectMaxBackoffMs: number;
  /** gRPC endpoints: keepalive, message limits, TLS (spec §11 defaults when absent). */
  grpc?: GrpcChannelSettings;
  /** Liveness ping period on idle connections; 0 or absent = no pings. */
  healthCheckIntervalMs?: number;
  pingTimeoutMs?: number;
}

export interface CloseConnectionCommand {
  type: 'close';
  connectionId: number;
}

/** Pool-side drain of one connection (no new requests; closes when idle). */
export interface DrainConnectionCommand {
  type: 'drain';
  connectionId: number;
}

/** Treat the connection as dead now (unrecoverable health report): it is closed and redialled. */
export interface RecycleConnectionCommand {
  type: 'recycle';
  connectionId: number;
  reason: string;
}

export interface ListenReverseCommand {
  type: 'listen-reverse';
  listenerId: number;
  settings: ReverseListenerSettings;
}

export interface StopReverseCommand {
  type: 'stop-reverse';
  listenerId: number;
}

/**
 * How the pool declares an agent id (null: the id is gone), mirrored on every host so that its reverse
 * listeners can refuse a registration for a forward agent, or for an undeclared id (spec §9.5, ours).
 */
export interface AgentDeclaredCommand {
  type: 'agent-declared';
  agentId: string;
  declared: AgentDeclaration | null;
}

/** The configuration a reverse-connecting agent gets in its initial Configure (null = none). */
export interface AgentConfigCommand {
  type: 'agent-config';
  agentId: string;
  config: unknown;
}

/** Ping this connection now (it is unhealthy by consecutive failures, spec §10.8); a Pong comes back as a 'pong' report. */
export interface PingConnectionCommand {
  type: 'ping';
  connectionId: number;
}

export type HostCommand =
  | OpenConnectionCommand
  | CloseConnectionCommand
  | DrainConnectionCommand
  | RecycleConnectionCommand
  | PingConnectionCommand
  | ListenReverseCommand
  | StopReverseCommand
  | AgentConfigCommand
  | AgentDeclaredCommand;

/**
 * Router → host, hot path: write this event on that connection. `frame` is the bytes to write, or
 * a JSON payload the host side frames with `frameType`: a text, or packed (transport/event-encoder.ts).
 */
export type SendItem = [requestId: number, connectionId: number, correlationId: string, frame: EncodedEvent, frameType: number];

/** Router → host: the call ended on the router side (timeout / abort); send Cancel (unless
 *  `silent`: the agent disabled cancellation) or withdraw the unsent frame. */
export type CancelItem = [requestId: number, reason: CancelReason, silent?: boolean];

/** Host → router, hot path: a reply or a typed error for a request. */
export type ResultItem =
  [requestId: number, response: AgentResponse] | [requestId: number, response: null, error: SerializedAgentPoolError];

export interface StateReport {
  type: 'state';
  connectionId: number;
  state: ConnectionStateName;
  /** Set when the state is ready: negotiated encoding ('json', 'msgpack', 'protobuf', …) and capabilities. */
  encoding?: string;
  capabilities?: Capabilities;
  lastError: string | null;
  /** Backoff / closed: the typed error that ended the last attempt or connection, when known. */
  error?: SerializedAgentPoolError;
  attempt: number;
}

/** The listener is bound (or failed to bind). */
export type ReverseListenerReport =
  | { type: 'reverse-listening'; listenerId: number; path?: string; tcpAddress?: string }
  | { type: 'reverse-listen-failed'; listenerId: number; error: SerializedAgentPoolError }
  | { type: 'reverse-stopped'; listenerId: number };

/**
 * A reverse connection was admitted (registration valid, under the per-agent limit). Sent before
 * any state report of `connectionId`; ids of reverse connections are negative and unique per pool:
 * -(listenerId × 1 000 000 + n).
 */
export interface ReverseRegisteredReport {
  type: 'reverse-registered';
  listenerId: number;
  connectionId: number;
  agentId: string;
  capabilities: Capabilities;
  metadata: unknown;
}

/** A registration was refused; `error` is the text sent to the agent (spec §9.4). */
export interface ReverseRefusedReport {
  type: 'reverse-refused';
  listenerId: number;
  agentId: string | null;
  error: string;
}

export type ControlReport =
  | { type: 'health'; connectionId: number; health: HealthStatus }
  | { type: 'metrics'; connectionId: number; metrics: MetricsReport }
  | { type: 'config-update'; connectionId: number; request: ConfigUpdateRequest }
  | { type: 'flow-control'; connectionId: number; signal: FlowControlSignal }
  | { type: 'late-reply'; connectionId: number; correlationId: string }
  /** A Ping on this connection was answered (liveness or a router-asked probe). */
  | { type: 'pong'; connectionId: number; rttMs: number };

/** Max over this host's connections of queued frames / channelBufferSize × 100, sent when it changes. */
export interface BufferReport {
  type: 'buffer';
  percent: number;
}

export type HostReport =
  BufferReport | StateReport | ControlReport | ReverseListenerReport | ReverseRegisteredReport | ReverseRefusedReport;

/** Where a host delivers what it has to say (the router itself, or a MessagePort batcher). */
export interface HostSink {
  /** `replyId`: the correlation id the call was sent under (a results batch need not carry it back). */
  result(item: ResultItem, replyId?: string): void;
  report(report: HostReport): void;
}

/** What the router can ask of a host (a ConnectionHost itself, or a worker proxy of one). */
export interface HostHandle {
  /** The host runs on another thread: JSON events reach it packed (transport/packed-json.ts), not as text. */
  readonly onOtherThread: boolean;
  /** The host's own encoder for an encoding, where it has one (a worker packs JSON straight into its send batch). */
  eventEncoder?(encoding: string): EventEncoder | undefined;
  command(command: HostCommand): void;
  send(item: SendItem): void;
  cancel(item: CancelItem): void;
  /** Ends the host and every connection it owns. */
  terminate(): Promise<void>;
}
