// AgentServer: what an agent author runs. Listens on a Unix socket, serves the handshake on every
// accepted connection and feeds events to one handler — in-thread, or on a piscina thread pool.
// One connection's failure (protocol error, handler crash) never affects the others or the process.
// Limits against hostile peers (connection cap, handshake and frame timeouts, socket mode) are on by
// default (server-limits.ts); their refusals are counted in `stats` and logged rate-limited.
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { ServerOptions as GrpcServerOptions } from '@grpc/grpc-js';
import type {
  AgentFeatures,
  AgentLimits,
  Capabilities,
  EncodingSetting,
  EventKind,
  ConfigUpdateRequest,
  FlowControlSignal,
  HealthStatus,
  MetricsReport,
} from '../protocol/types.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { quotedPeerText } from '../protocol/peer-text.js';
import { defaultCapabilities } from '../protocol/capabilities.js';
import { AgentConnection } from './agent-connection.js';
import type { EventDispatcher } from './event-runner.js';
import { listenOnSocketFile, type BoundSocketFile } from '../transport/socket-file.js';
import { serverLimitsOf, type ServerLimits } from './server-limits.js';
import { ConnectionGuard, type AgentServerStats } from './connection-guard.js';
import type { AgentHandler } from './handler.js';
import type { HandlerPool, ThreadsOptions } from './handler-pool.js';
import { buildDispatcher } from './handler-dispatcher.js';
import { HandlerErrorLog } from './handler-error-log.js';
import type { GrpcAgentListener, AgentTlsOptions } from './grpc-agent-listener.js';
import { grpcListenTarget } from './grpc-listen-target.js';
import type { GrpcAgentStream } from './grpc-agent-stream.js';

export interface AgentServerOptions {
  agentId: string;
  /** Capabilities `name` (default: the agent id). */
  name?: string;
  /** Capabilities `version` (default ""). */
  version?: string;
  /** In-thread handler. Give this or `threads`; with neither, every event is allowed. */
  handler?: AgentHandler;
  /**
   * A handler module run on a piscina pool of `count` threads (count 0: imported and run in-thread).
   * Cancellation then only drops the reply: ctx.signal does not cross threads.
   */
  threads?: ThreadsOptions;
  /** Encoding negotiation setting (§4.3), default 'json'. */
  encoding?: EncodingSetting;
  /** Overrides of the capabilities we announce (§5.4). */
  capabilities?: {
    supportedEvents?: EventKind[];
    features?: Partial<AgentFeatures>;
    limits?: Partial<AgentLimits>;
  };
  /**
   * Time a proxy has to send its HandshakeRequest after connecting (default 10 000 ms); a connection
   * that is silent, slow or stuck before its handshake is closed when it runs out.
   */
  handshakeTimeoutMs?: number;
  /**
   * Most connections open at once: UDS connections plus gRPC ProcessStreams, handshaking or
   * established (default 1024). Over it a new UDS connection is closed at once and a new
   * ProcessStream ends with RESOURCE_EXHAUSTED; counted in `stats.connectionsRefused`.
   */
  maxConnections?: number;
  /**
   * UDS: once the first byte of a frame arrives, the whole frame must arrive within this many ms
   * (default 30 000), else the connection is closed with ZAP_PROTOCOL_ERROR (slowloris, a length
   * announced and never sent). Counted in `stats.frameTimeouts`.
   */
  frameTimeoutMs?: number;
  /**
   * Permission bits of the Unix socket files this server creates (default 0o600: the owner's user
   * only; connecting needs write permission). E.g. 0o660 to let the proxy's group in. Set before
   * the socket becomes reachable, never after (see transport/socket-file.ts).
   */
  socketMode?: number;
  /**
   * grpc-js server options merged over our defaults for every gRPC listen (server-limits.ts
   * GRPC_DEFAULTS): 'grpc.max_concurrent_streams' 100, 'grpc.max_receive_message_length' and
   * 'grpc.max_send_message_length' 16 MiB, 'grpc.keepalive_time_ms' 60 000,
   * 'grpc.keepalive_timeout_ms' 20 000, 'grpc.max_connection_idle_ms' 60 000.
   */
  grpcServerOptions?: GrpcServerOptions;
  /** TLS for gRPC listeners (PEM text or file paths; `ca` = require client certificates). Given = TLS on every gRPC listen. */
  tls?: AgentTlsOptions;
}

const ALL_EVENTS: EventKind[] = [
  'request_headers',
  'request_body_chunk',
  'response_headers',
  'response_body_chunk',
  'request_complete',
  'websocket_frame',
  'guardrail_inspect',
];

/** §10.13 endpoint rules, UDS only for now: `unix:<path>`, an absolute path, or `*.sock`. */
function udsPathOf(endpoint: string): string {
  if (endpoint.startsWith('unix:')) {
    const path = endpoint.slice('unix:'.length);
    if (path !== '') return path;
  } else if (/^(?:https?|grpc):\/\//.test(endpoint)) {
    throw zapError(ErrorCode.InvalidConfig, `AgentServer cannot listen on '${endpoint}': gRPC is not supported yet`);
  } else if (endpoint.startsWith('/') || endpoint.endsWith('.sock')) {
    return endpoint;
  }
  throw zapError(ErrorCode.InvalidConfig, `AgentServer cannot listen on '${endpoint}': expected unix:<path>, /<path> or <name>.sock`);
}

export function buildCapabilities(o: AgentServerOptions): Capabilities {
  const limits: Partial<AgentLimits> = { ...o.capabilities?.limits };
  const features: Partial<AgentFeatures> = {
    streamingBody: true,
    websocket: true,
    guardrails: true,
    configPush: true,
    metricsExport: true,
    concurrentRequests: limits.maxConcurrency ?? 100,
    cancellation: true,
    flowControl: false,
    healthReporting: true,
    ...o.capabilities?.features,
  };
  return defaultCapabilities({
    agentId: o.agentId,
    name: o.name ?? o.agentId,
    version: o.version ?? '',
    supportedEvents: o.capabilities?.supportedEvents ?? ALL_EVENTS,
    features,
    limits,
  });
}

interface Listener {
  server: Server;
  file: BoundSocketFile;
}

export type { AgentServerStats } from './connection-guard.js';

/**
 * Events: 'connection' (AgentConnection, or GrpcAgentStream for gRPC), 'warning' (text: a reply
 * lost fields gRPC cannot carry, or a peer was refused — the latter rate-limited; without a listener
 * they are logged), 'error' (Error; per connection or listener — emitted only when someone listens,
 * so it never crashes the process), 'handlerError' (err, correlationId; without a listener the first
 * one is logged), 'close'.
 */
export class AgentServer extends EventEmitter {
  readonly #o: AgentServerOptions;
  readonly #capabilities: Capabilities;
  readonly #listeners: Listener[] = [];
  readonly #connections = new Set<AgentConnection | GrpcAgentStream>();
  readonly #grpcListeners: GrpcAgentListener[] = [];
  readonly #warnedFields = new Set<string>();
  readonly #limits: ServerLimits;
  readonly #guard: ConnectionGuard;
  #dispatcher: Promise<EventDispatcher> | undefined;
  #pool: HandlerPool | undefined;
  readonly #handlerErrors: HandlerErrorLog;
  #closed = false;

  constructor(o: AgentServerOptions) {
    super();
    if (typeof o.agentId !== 'string' || o.agentId === '') throw zapError(ErrorCode.InvalidConfig, 'agentId is required');
    if (o.handler !== undefined && o.threads !== undefined) {
      throw zapError(ErrorCode.InvalidConfig, 'give either handler or threads, not both');
    }
    this.#o = o;
    this.#limits = serverLimitsOf(o);
    this.#guard = new ConnectionGuard(this.#limits, (line) => this.#warn(line));
    this.#capabilities = buildCapabilities(o);
    this.#handlerErrors = new HandlerErrorLog(this, `[zap agent ${o.agentId}]`);
  }

  /** Refusal counts (a copy). */
  get stats(): AgentServerStats {
    return { ...this.#guard.stats };
  }

  /** Open connections (handshaking or established). */
  get connections(): number {
    return this.#connections.size;
  }

  /** The capabilities sent in every HandshakeResponse. */
  get capabilities(): Capabilities {
    return this.#capabilities;
  }

  /**
   * Starts listening on a UDS endpoint or a gRPC one (`grpc://`, `http://`, `https://`, bare
   * `host:port`; port 0 = any free port). Resolves once bound (and, in threads mode, once the
   * handler loaded) with the endpoint proxies should use (`unix:<path>`, or the gRPC URL with the
   * real port).
   */
  async listen(endpoint: string): Promise<string> {
    if (this.#closed) throw zapError(ErrorCode.InvalidConfig, 'AgentServer is closed');
    const grpcTarget = grpcListenTarget(endpoint, this.#o.tls !== undefined);
    const path = grpcTarget === undefined ? udsPathOf(endpoint) : '';
    const dispatcher = await (this.#dispatcher ??= this.#makeDispatcher());
    if (grpcTarget !== undefined) return this.#listenGrpc(grpcTarget.address, grpcTarget.tls, dispatcher);
    const server = createServer((socket) => this.#accept(socket, dispatcher));
    const file = await listenOnSocketFile(server, path, { mode: this.#limits.socketMode });
    server.on('error', (err) => this.#report(err));
    this.#listeners.push({ server, file });
    if (this.#closed) {
      await this.#closeListeners();
      throw zapError(ErrorCode.InvalidConfig, 'AgentServer is closed');
    }
    return `unix:${path}`;
  }

  async #listenGrpc(address: string, tls: boolean, dispatcher: EventDispatcher): Promise<string> {
    // grpc-js and the proto schema load on the first gRPC listen, not when the package is imported.
    const { GrpcAgentListener } = await import('./grpc-agent-listener.js');
    const listener = await GrpcAgentListener.start(address, tls, {
      agentId: this.#o.agentId,
      dispatcher,
      capabilities: this.#capabilities,
      handshakeTimeoutMs: this.#limits.handshakeTimeoutMs,
      tls: this.#o.tls ?? null,
      serverOptions: this.#o.grpcServerOptions ?? {},
      admitStream: (peer) => this.#guard.admit(this.#connections.size, `gRPC peer ${quotedPeerText(peer)}`),
      onStream: (stream) => {
        this.#connections.add(stream);
        stream.once('close', () => this.#connections.delete(stream));
        this.emit('connection', stream);
      },
      onHandlerError: (err, cid) => this.#handlerErrors.report(err, cid),
      onDroppedFields: (fields) => this.#droppedFields(fields),
    });
    if (this.#closed) {
      await listener.close();
      throw zapError(ErrorCode.InvalidConfig, 'AgentServer is closed');
    }
    this.#grpcListeners.push(listener);
    return listener.endpoint;
  }

  /** §8.5: fields gRPC cannot carry are dropped with a warning ('warning' event, else logged once per field). */
  #droppedFields(fields: string[]): void {
    for (const field of fields) {
      const text = `reply field '${field}' cannot travel over gRPC and was dropped`;
      if (this.listenerCount('warning') > 0) this.emit('warning', text);
      else if (!this.#warnedFields.has(field)) {
        this.#warnedFields.add(field);
        console.warn(`[zap agent ${this.#o.agentId}] ${text} (logged once)`);
      }
    }
  }

  /** A 'warning' event, or a log line without a listener (refusal lines come rate-limited). */
  #warn(text: string): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', text);
    else console.warn(`[zap agent ${this.#o.agentId}] ${text}`);
  }

  /** Removes our socket files (only while they are still ours), then stops the servers. */
  async #closeListeners(): Promise<void> {
    const listeners = this.#listeners.splice(0);
    await Promise.all(listeners.map(({ file }) => file.remove()));
    await Promise.all(listeners.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  /** Stops accepting, closes every connection, removes the socket files, destroys the thread pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = [this.#closeListeners()];
    for (const conn of this.#connections) conn.close();
    closing.push(...this.#grpcListeners.map((l) => l.close()));
    this.#grpcListeners.length = 0;
    await Promise.all(closing);
    await this.#pool?.destroy();
    this.emit('close');
  }

  /** §7.4: sends a HealthStatus on every established connection. */
  reportHealth(h: HealthStatus): void {
    this.#toEach((conn) => conn.sendHealth(h));
  }

  /** §7.7: sends a FlowControl signal on every established connection (a cid scopes it to one request). */
  sendFlowControl(f: FlowControlSignal): void {
    this.#toEach((conn) => conn.sendFlowControl(f));
  }

  /** §7.6: asks the proxy for a configuration change, on one established connection. */
  requestConfigUpdate(r: ConfigUpdateRequest): boolean {
    for (const conn of this.#connections) {
      if (conn.established) {
        conn.sendConfigUpdate(r);
        return true;
      }
    }
    return false;
  }

  /** §7.5: sends a MetricsReport on every established connection. */
  reportMetrics(m: MetricsReport): void {
    this.#toEach((conn) => conn.sendMetrics(m));
  }

  /** One control message to every connection (those not established skip it); a failure is reported, the rest still get it. */
  #toEach(send: (conn: AgentConnection | GrpcAgentStream) => void): void {
    for (const conn of this.#connections) {
      try {
        send(conn);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  async #makeDispatcher(): Promise<EventDispatcher> {
    try {
      const built = await buildDispatcher(this.#o.handler, this.#o.threads);
      this.#pool = built.pool;
      return built.dispatcher;
    } catch (err) {
      this.#dispatcher = undefined; // a later listen() tries again
      throw err;
    }
  }

  #accept(socket: Socket, dispatcher: EventDispatcher): void {
    if (this.#closed || !this.#guard.admit(this.#connections.size, 'a UDS connection')) {
      socket.destroy();
      return;
    }
    const conn = new AgentConnection(socket, {
      agentId: this.#o.agentId,
      transport: 'uds',
      dispatcher,
      handshake: {
        capabilities: this.#capabilities,
        encoding: this.#o.encoding ?? 'json',
        timeoutMs: this.#limits.handshakeTimeoutMs,
      },
      frameTimeoutMs: this.#limits.frameTimeoutMs,
      onHandlerError: (err, cid) => this.#handlerErrors.report(err, cid),
    });
    this.#connections.add(conn);
    conn.on('timeout', (kind: 'handshake' | 'frame') => this.#guard.timedOut(kind));
    conn.on('error', (err: Error) => this.#report(err));
    conn.once('close', () => this.#connections.delete(conn));
    this.emit('connection', conn);
  }

  #report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
