// ReverseConnector: an agent that dials the proxy instead of listening (spec §9). It keeps a target
// number of registered connections, each one an AgentConnection started established in JSON (no
// 0x01/0x02 handshake follows a registration), serving events with the same handler interface as
// AgentServer and answering pings. A lost or failed connection is redialled after an exponential
// back-off with jitter; a permanent refusal (bad version, id, allow-list, token) stops all retries
// and is reported as 'failed' with a typed error.
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import type {
  AgentFeatures,
  AgentLimits,
  Capabilities,
  EventKind,
  HealthStatus,
  MetricsReport,
  RegistrationRequest,
} from '../protocol/types.js';
import { PROTOCOL_VERSION } from '../protocol/types.js';
import { parseReverseEndpoint, type ReverseAddress } from '../transport/reverse-endpoint.js';
import { VERSION } from '../version.js';
import { AgentConnection } from './agent-connection.js';
import type { EventDispatcher } from './event-runner.js';
import { buildCapabilities } from './agent-server.js';
import type { AgentHandler } from './handler.js';
import type { HandlerPool, ThreadsOptions } from './handler-pool.js';
import { buildDispatcher } from './handler-dispatcher.js';
import { HandlerErrorLog } from './handler-error-log.js';
import { dialProxy, register, type ReverseTlsOptions } from './reverse-dial.js';
import { isPermanentRefusal } from './reverse-refusal.js';

export interface ReverseBackoffOptions {
  /** First retry delay (default 1 000 ms). */
  initialMs?: number;
  /** Growth per consecutive failure (default 2). */
  multiplier?: number;
  /** Cap (default 60 000 ms). */
  maxMs?: number;
  /** Random fraction taken off each delay: uniform in [d × (1 − jitter), d] (default 0.5). */
  jitter?: number;
  /** A registered connection that lived this long resets the back-off (default 10 000 ms). */
  healthyAfterMs?: number;
}

export interface ReverseConnectorOptions {
  /** The proxy's reverse listener: `unix:/path`, `/path`, `*.sock`, `tcp://host:port`, `tls://host:port`. */
  endpoint: string;
  agentId: string;
  /** Sent as `auth_token` (null when absent). */
  authToken?: string;
  /** Registered connections to keep (default 1). */
  connections?: number;
  /** TLS client options (also switches a `tcp://` endpoint to TLS). */
  tls?: ReverseTlsOptions;
  /** Capabilities `name` (default: the agent id) and `version` (default ""). */
  name?: string;
  version?: string;
  /** In-thread handler; or `threads` (see AgentServerOptions). With neither, every event is allowed. */
  handler?: AgentHandler;
  threads?: ThreadsOptions;
  capabilities?: { supportedEvents?: EventKind[]; features?: Partial<AgentFeatures>; limits?: Partial<AgentLimits> };
  /** Merged over the default registration metadata {version, hostname, pid, started_at}. */
  metadata?: Record<string, unknown>;
  connectTimeoutMs?: number;
  /** Time the proxy has to answer the registration (default 10 000 ms). */
  registrationTimeoutMs?: number;
  backoff?: ReverseBackoffOptions;
}

export interface ReverseRegisteredInfo {
  slot: number;
  connectionId: string;
  proxyId: string;
  proxyVersion: string;
}

export interface ReverseConnectorEvents {
  registered: [ReverseRegisteredInfo];
  connection: [AgentConnection];
  /** A registered connection ended. */
  disconnected: [{ slot: number }];
  /** The proxy refused a registration; `permanent` refusals end all retrying (then 'failed'). */
  refused: [{ slot: number; error: string; permanent: boolean }];
  /** A slot waits `delayMs` before its next attempt. */
  retry: [{ slot: number; attempt: number; delayMs: number; error: AgentPoolError }];
  /** Retrying stopped for good (a permanent refusal); connections already registered stay up. */
  failed: [AgentPoolError];
  error: [Error];
  handlerError: [unknown, string];
  close: [];
}

interface Slot {
  readonly index: number;
  /** Consecutive failed attempts (k of the back-off). */
  failures: number;
  connection: AgentConnection | undefined;
  socket: Socket | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class ReverseConnector extends EventEmitter<ReverseConnectorEvents> {
  readonly #o: ReverseConnectorOptions;
  readonly #address: ReverseAddress;
  readonly #capabilities: Capabilities;
  readonly #backoff: Required<ReverseBackoffOptions>;
  readonly #slots: Slot[] = [];
  readonly #startedAt = new Date().toISOString();
  #dispatcher: EventDispatcher | undefined;
  #pool: HandlerPool | undefined;
  #failure: AgentPoolError | null = null;
  #closed = false;
  #started = false;
  readonly #handlerErrors: HandlerErrorLog;

  constructor(o: ReverseConnectorOptions) {
    super();
    if (typeof o.agentId !== 'string' || o.agentId === '') throw zapError(ErrorCode.InvalidConfig, 'agentId is required');
    if (o.handler !== undefined && o.threads !== undefined)
      throw zapError(ErrorCode.InvalidConfig, 'give either handler or threads, not both');
    const connections = o.connections ?? 1;
    if (!Number.isInteger(connections) || connections < 1)
      throw zapError(ErrorCode.InvalidConfig, 'connections must be a positive integer');
    this.#o = o;
    this.#handlerErrors = new HandlerErrorLog(this, `[zap reverse agent ${o.agentId}]`);
    this.#address = parseReverseEndpoint(o.endpoint);
    if (this.#address.kind === 'unix' && o.tls !== undefined) throw zapError(ErrorCode.InvalidConfig, 'tls applies to TCP endpoints only');
    this.#capabilities = buildCapabilities({ agentId: o.agentId, ...pick(o, 'name', 'version', 'capabilities') });
    const b = o.backoff ?? {};
    this.#backoff = {
      initialMs: b.initialMs ?? 1_000,
      multiplier: b.multiplier ?? 2,
      maxMs: b.maxMs ?? 60_000,
      jitter: Math.min(1, Math.max(0, b.jitter ?? 0.5)),
      healthyAfterMs: b.healthyAfterMs ?? 10_000,
    };
    for (let i = 0; i < connections; i++)
      this.#slots.push({ index: i, failures: 0, connection: undefined, socket: undefined, timer: undefined });
  }

  get capabilities(): Capabilities {
    return this.#capabilities;
  }

  /** Connections registered and open right now. */
  get registeredConnections(): number {
    return this.#slots.filter((s) => s.connection !== undefined).length;
  }

  /** The permanent refusal that stopped retrying, if any. */
  get failure(): AgentPoolError | null {
    return this.#failure;
  }

  /** Loads the handler (threads mode: the pool) and starts dialling every slot; does not wait for registrations. */
  async start(): Promise<void> {
    if (this.#closed) throw zapError(ErrorCode.InvalidConfig, 'ReverseConnector is closed');
    if (this.#started) return;
    this.#started = true;
    const built = await buildDispatcher(this.#o.handler, this.#o.threads);
    this.#dispatcher = built.dispatcher;
    this.#pool = built.pool;
    if (this.#closed) {
      await this.#pool?.destroy();
      return;
    }
    for (const slot of this.#slots) void this.#attempt(slot);
  }

  /** Resolves once at least one connection is registered; rejects on a permanent failure or close. */
  whenRegistered(): Promise<void> {
    if (this.registeredConnections > 0) return Promise.resolve();
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(closedError(this.#o.agentId));
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        this.off('registered', onRegistered);
        this.off('failed', onFailed);
        this.off('close', onClose);
      };
      const onRegistered = (): void => {
        cleanup();
        resolve();
      };
      const onFailed = (err: AgentPoolError): void => {
        cleanup();
        reject(err);
      };
      const onClose = (): void => {
        cleanup();
        reject(closedError(this.#o.agentId));
      };
      this.on('registered', onRegistered);
      this.on('failed', onFailed);
      this.on('close', onClose);
    });
  }

  /** §7.4 on every registered connection. */
  reportHealth(h: HealthStatus): void {
    for (const s of this.#slots) s.connection?.sendHealth(h);
  }

  /** §7.5 on every registered connection. */
  reportMetrics(m: MetricsReport): void {
    for (const s of this.#slots) s.connection?.sendMetrics(m);
  }

  /** Stops retrying, closes every connection, destroys the handler thread pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#slots) {
      clearTimeout(s.timer);
      s.socket?.destroy();
      s.connection?.close();
    }
    await this.#pool?.destroy();
    this.emit('close');
  }

  // ---------------------------------------------------------------------------------------------

  async #attempt(slot: Slot): Promise<void> {
    slot.timer = undefined;
    if (this.#stopped) return;
    const o = this.#o;
    let socket: Socket;
    try {
      socket = await dialProxy(this.#address, o.tls, o.connectTimeoutMs ?? 5_000, o.agentId);
    } catch (err) {
      this.#retry(slot, asPoolError(err, o.agentId));
      return;
    }
    if (this.#stopped) {
      socket.destroy();
      return;
    }
    slot.socket = socket;
    let outcome;
    try {
      outcome = await register(socket, this.#registration(), o.registrationTimeoutMs ?? 10_000);
    } catch (err) {
      slot.socket = undefined;
      this.#retry(slot, asPoolError(err, o.agentId));
      return;
    }
    slot.socket = undefined;
    const { response, leftover } = outcome;
    if (this.#stopped) {
      socket.destroy();
      return;
    }
    if (!response.success) {
      socket.destroy();
      const text = response.error ?? 'Unknown registration error';
      const permanent = isPermanentRefusal(response.error);
      this.emit('refused', { slot: slot.index, error: text, permanent });
      const err = zapError(ErrorCode.HandshakeFailed, `Registration of '${o.agentId}' refused by the proxy: ${text}`, {
        agentId: o.agentId,
      });
      if (permanent) this.#fail(err);
      else this.#retry(slot, err);
      return;
    }
    this.#serve(slot, socket, leftover, response.connectionId, response.proxyId, response.proxyVersion);
  }

  #serve(slot: Slot, socket: Socket, leftover: Buffer, connectionId: string, proxyId: string, proxyVersion: string): void {
    const connection = new AgentConnection(socket, {
      agentId: this.#o.agentId,
      transport: 'reverse',
      dispatcher: this.#dispatcher as EventDispatcher,
      onHandlerError: (err, cid) => this.#handlerErrors.report(err, cid),
    });
    // Frames the proxy sent right behind the reply go back in front of the stream for the connection.
    if (leftover.length > 0) socket.unshift(leftover);
    socket.resume();
    const registeredAt = Date.now();
    slot.connection = connection;
    connection.on('error', (err: Error) => this.#report(err));
    connection.once('close', () => {
      slot.connection = undefined;
      this.emit('disconnected', { slot: slot.index });
      if (Date.now() - registeredAt >= this.#backoff.healthyAfterMs) slot.failures = 0;
      this.#retry(
        slot,
        zapError(ErrorCode.ConnectionLost, `Reverse connection of '${this.#o.agentId}' closed`, { agentId: this.#o.agentId }),
      );
    });
    this.emit('connection', connection);
    this.emit('registered', { slot: slot.index, connectionId, proxyId, proxyVersion });
  }

  get #stopped(): boolean {
    return this.#closed || this.#failure !== null;
  }

  #retry(slot: Slot, error: AgentPoolError): void {
    if (this.#stopped) return;
    const b = this.#backoff;
    const d = Math.min(b.maxMs, b.initialMs * b.multiplier ** Math.min(slot.failures, 64));
    const delayMs = Math.round(d * (1 - b.jitter * Math.random()));
    slot.failures++;
    this.emit('retry', { slot: slot.index, attempt: slot.failures, delayMs, error });
    slot.timer = setTimeout(() => void this.#attempt(slot), delayMs);
  }

  #fail(err: AgentPoolError): void {
    if (this.#stopped) return;
    this.#failure = err;
    for (const s of this.#slots) {
      clearTimeout(s.timer);
      s.timer = undefined;
      s.socket?.destroy();
    }
    this.emit('failed', err);
  }

  #registration(): RegistrationRequest {
    return {
      protocolVersion: PROTOCOL_VERSION,
      agentId: this.#o.agentId,
      capabilities: this.#capabilities,
      authToken: this.#o.authToken ?? null,
      metadata: {
        version: this.#o.version ?? VERSION,
        hostname: hostname(),
        pid: process.pid,
        started_at: this.#startedAt,
        ...this.#o.metadata,
      },
    };
  }

  #report(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }
}

function asPoolError(err: unknown, agentId: string): AgentPoolError {
  return err instanceof AgentPoolError
    ? err
    : zapError(ErrorCode.ConnectFailed, err instanceof Error ? err.message : String(err), { agentId });
}

function closedError(agentId: string): AgentPoolError {
  return zapError(ErrorCode.Abort, `ReverseConnector '${agentId}' is closed`, { agentId });
}

function pick<T extends object, K extends keyof T>(o: T, ...keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
