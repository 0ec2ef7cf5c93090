// AgentServer: what an agent author runs. Listens on a Unix socket, serves the handshake on every
// accepted connection and feeds events to one handler — in-thread, or on a piscina thread pool.
// One connection's failure (protocol error, handler crash) never affects the others or the process.
import { EventEmitter } from 'node:events';
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
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
import { defaultCapabilities } from '../protocol/capabilities.js';
import { AgentConnection, type EventDispatcher } from './agent-connection.js';
import { removeStaleSocketFile } from '../transport/socket-file.js';
import { dispatchEvent, handlerFactoryOf, type AgentHandler } from './handler.js';
import { HandlerPool, moduleHref, type ThreadsOptions } from './handler-pool.js';
import { GrpcAgentListener, grpcListenTarget, type AgentTlsOptions } from './grpc-agent-listener.js';
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
  /** Time a proxy has to send its HandshakeRequest after connecting (default 10 000 ms). */
  handshakeTimeoutMs?: number;
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
export function udsPathOf(endpoint: string): string {
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

function inThreadDispatcher(handler: AgentHandler): EventDispatcher {
  return {
    dispatch: (kind, event, ctx) => dispatchEvent(handler, kind, event, ctx),
    cancel: (c) => handler.onCancel?.(c),
  };
}

interface Listener {
  server: Server;
  path: string;
}

/**
 * Events: 'connection' (AgentConnection, or GrpcAgentStream for gRPC), 'warning' (text: a reply lost fields gRPC cannot carry), 'error' (Error; per connection or listener — emitted only
 * when someone listens, so it never crashes the process), 'handlerError' (err, correlationId; without
 * a listener the first one is logged), 'close'.
 */
export class AgentServer extends EventEmitter {
  readonly #o: AgentServerOptions;
  readonly #capabilities: Capabilities;
  readonly #listeners: Listener[] = [];
  readonly #connections = new Set<AgentConnection | GrpcAgentStream>();
  readonly #grpcListeners: GrpcAgentListener[] = [];
  readonly #warnedFields = new Set<string>();
  #dispatcher: Promise<EventDispatcher> | undefined;
  #pool: HandlerPool | undefined;
  #loggedHandlerError = false;
  #closed = false;

  constructor(o: AgentServerOptions) {
    super();
    if (typeof o.agentId !== 'string' || o.agentId === '') throw zapError(ErrorCode.InvalidConfig, 'agentId is required');
    if (o.handler !== undefined && o.threads !== undefined) {
      throw zapError(ErrorCode.InvalidConfig, 'give either handler or threads, not both');
    }
    this.#o = o;
    this.#capabilities = buildCapabilities(o);
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
    await removeStaleSocketFile(path);
    const server = createServer((socket) => this.#accept(socket, dispatcher));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#report(err));
    this.#listeners.push({ server, path });
    return `unix:${path}`;
  }

  async #listenGrpc(address: string, tls: boolean, dispatcher: EventDispatcher): Promise<string> {
    const listener = await GrpcAgentListener.start(address, tls, {
      agentId: this.#o.agentId,
      dispatcher,
      capabilities: this.#capabilities,
      handshakeTimeoutMs: this.#o.handshakeTimeoutMs ?? 10_000,
      tls: this.#o.tls ?? null,
      onStream: (stream) => {
        this.#connections.add(stream);
        stream.once('close', () => this.#connections.delete(stream));
        this.emit('connection', stream);
      },
      onHandlerError: (err, cid) => this.#handlerError(err, cid),
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

  /** Stops accepting, closes every connection, removes the socket files, destroys the thread pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = this.#listeners.map(
      ({ server }) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    for (const conn of this.#connections) conn.close();
    closing.push(...this.#grpcListeners.map((l) => l.close()));
    this.#grpcListeners.length = 0;
    await Promise.all(closing);
    await Promise.all(this.#listeners.map(({ path }) => rm(path, { force: true })));
    this.#listeners.length = 0;
    await this.#pool?.destroy();
    this.emit('close');
  }

  /** §7.4: sends a HealthStatus on every established connection. */
  reportHealth(h: HealthStatus): void {
    for (const conn of this.#connections) {
      try {
        conn.sendHealth(h);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  /** §7.7: sends a FlowControl signal on every established connection (a cid scopes it to one request). */
  sendFlowControl(f: FlowControlSignal): void {
    for (const conn of this.#connections) {
      try {
        conn.sendFlowControl(f);
      } catch (err) {
        this.#report(err);
      }
    }
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
    for (const conn of this.#connections) {
      try {
        conn.sendMetrics(m);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  async #makeDispatcher(): Promise<EventDispatcher> {
    const threads = this.#o.threads;
    if (threads === undefined) return inThreadDispatcher(this.#o.handler ?? {});
    if (threads.count === 0) {
      const href = moduleHref(threads.module);
      const mod = (await import(href)) as Record<string, unknown>;
      return inThreadDispatcher(await handlerFactoryOf(mod, href)(threads.options ?? null));
    }
    const pool = new HandlerPool(threads);
    try {
      await pool.load();
    } catch (err) {
      await pool.destroy();
      this.#dispatcher = undefined;
      throw err;
    }
    this.#pool = pool;
    return { dispatch: (kind, event, ctx) => pool.run(kind, event, ctx) };
  }

  #accept(socket: Socket, dispatcher: EventDispatcher): void {
    if (this.#closed) {
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
        timeoutMs: this.#o.handshakeTimeoutMs ?? 10_000,
      },
      onHandlerError: (err, cid) => this.#handlerError(err, cid),
    });
    this.#connections.add(conn);
    conn.on('error', (err: Error) => this.#report(err));
    conn.once('close', () => this.#connections.delete(conn));
    this.emit('connection', conn);
  }

  #report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  #handlerError(err: unknown, correlationId: string): void {
    if (this.listenerCount('handlerError') > 0) {
      this.emit('handlerError', err, correlationId);
    } else if (!this.#loggedHandlerError) {
      this.#loggedHandlerError = true;
      console.error(
        `[zap agent ${this.#o.agentId}] handler failed for ${JSON.stringify(correlationId)}; answered Block 500 "Agent error" (later failures are not logged):`,
        err,
      );
    }
  }
}
