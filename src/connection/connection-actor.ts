// One pool connection inside a connection host: the xstate lifecycle machine driving a
// FramedConnection. The machine decides when to connect, handshake, back off and close; the
// FramedConnection does the per-request work. State changes are reported to the host.
import type { Actor } from 'xstate';
import { AgentPoolError, ErrorCode, type SerializedAgentPoolError } from '../protocol/errors.js';
import type { OpenConnectionCommand, StateReport } from '../contract/host-messages.js';
import { connectionMachine, type ConnectionMachine, type ConnectionStateName } from './connection-machine.js';
import { xstate } from './xstate-runtime.js';
import type { Dialer } from './dialer.js';
import { dialerFor } from './dialer-for.js';
import type { PoolConnection } from './pool-connection.js';

export interface ConnectionActorListener {
  state(report: StateReport): void;
  /** A ready connection, each time one is (re)established. */
  established(connection: PoolConnection): void;
  /** A Ping was answered. */
  alive?(rttMs: number): void;
}

export class ConnectionActor {
  readonly connectionId: number;
  private readonly actor: Actor<ConnectionMachine>;
  private current: PoolConnection | undefined;
  private readonly dialer: Dialer;
  private configures = 0;
  private lastState: ConnectionStateName | undefined;
  private liveness: NodeJS.Timeout | undefined;
  private pinging = false;
  /** The connection a drain waits on to go idle (one wait per connection). */
  private drainingOn: PoolConnection | undefined;
  /** The typed error of the last failed attempt or lost connection (the machine keeps only its text). */
  private failure: SerializedAgentPoolError | undefined;

  constructor(
    private readonly command: OpenConnectionCommand,
    private readonly listener: ConnectionActorListener,
    dialer?: Dialer,
  ) {
    this.connectionId = command.connectionId;
    this.dialer = dialer ?? dialerFor(command);
    const { createActor, fromPromise } = xstate();
    const machine = connectionMachine().provide({
      actors: {
        // xstate stops waiting for an invoked promise when CLOSE arrives, but the work goes on:
        // whatever it produces after that is disposed of here, or it would leak a socket.
        connect: fromPromise<unknown, { attempt: number }>(async ({ signal }) => {
          const transport = await this.attempt(() => this.dialer.connect());
          if (signal.aborted) {
            this.dialer.dispose(transport);
            throw new Error('closed while connecting');
          }
          return transport;
        }),
        handshake: fromPromise<unknown, { transport: unknown }>(async ({ input, signal }) => {
          const onAbort = () => this.dialer.dispose(input.transport);
          signal.addEventListener('abort', onAbort, { once: true });
          try {
            const connection = await this.attempt(() => this.handshake(input.transport));
            if (signal.aborted) {
              connection.close();
              throw new Error('closed while handshaking');
            }
            return connection;
          } finally {
            signal.removeEventListener('abort', onAbort);
          }
        }),
      },
    });
    this.actor = createActor(machine, {
      input: {
        redial: command.redial,
        initialBackoffMs: command.reconnectInitialBackoffMs,
        maxBackoffMs: command.reconnectMaxBackoffMs,
      },
    });
    this.actor.subscribe((snapshot) => this.onSnapshot(snapshot.value as ConnectionStateName, snapshot.context));
  }

  start(): void {
    this.actor.start();
  }

  /** The live connection while ready / paused / draining. */
  get connection(): PoolConnection | undefined {
    return this.current;
  }

  get state(): ConnectionStateName {
    return this.actor.getSnapshot().value as ConnectionStateName;
  }

  pause(): void {
    this.actor.send({ type: 'PAUSE' });
  }
  resume(): void {
    this.actor.send({ type: 'RESUME' });
  }
  close(): void {
    this.actor.send({ type: 'CLOSE' });
  }

  /** Drops the live connection as dead (unrecoverable health report, failed ping): it is replaced. */
  recycle(why: string): void {
    const c = this.current;
    if (c === undefined) return;
    this.current = undefined;
    c.close();
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'LOST', error: why });
  }

  /** Pool-side drain: no new requests; closes once nothing is outstanding. */
  drain(): void {
    this.actor.send({ type: 'DRAIN' });
    const c = this.current;
    if (this.state !== 'draining' || (c !== undefined && this.drainingOn === c)) return;
    if (c === undefined) return void this.actor.send({ type: 'DRAINED' });
    // The connection's call table resolves this when its last call settles (no polling).
    this.drainingOn = c;
    void c.whenIdle().then(() => {
      if (this.drainingOn !== c) return;
      this.drainingOn = undefined;
      if (this.current === c && this.state === 'draining') this.actor.send({ type: 'DRAINED' });
    });
  }

  /**
   * Liveness (spec §10.8): every health-check interval, ping a ready connection that heard nothing
   * during the interval and has nothing outstanding; no Pong within pingTimeoutMs = dead.
   */
  private startLiveness(): void {
    const { healthCheckIntervalMs: every } = this.command;
    if (every === undefined || every <= 0 || this.liveness !== undefined) return;
    this.liveness = setInterval(() => {
      const c = this.current;
      if (c === undefined || this.pinging || c.inFlight > 0) return;
      if (c.lastInboundAt !== undefined && Date.now() - c.lastInboundAt < every) return;
      this.probe();
    }, every);
    this.liveness.unref();
  }

  /** Pings the live connection now (one ping at a time); no Pong within pingTimeoutMs = dead. */
  probe(): void {
    const c = this.current;
    if (c === undefined || this.pinging) return;
    this.pinging = true;
    c.ping(this.command.pingTimeoutMs ?? 5_000).then(
      (rttMs) => {
        this.pinging = false;
        if (this.current === c) this.listener.alive?.(rttMs);
      },
      (err: unknown) => {
        this.pinging = false;
        if (this.current === c) this.recycle(`ping failed: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  private stopLiveness(): void {
    if (this.liveness !== undefined) clearInterval(this.liveness);
    this.liveness = undefined;
  }

  private async handshake(transport: unknown): Promise<PoolConnection> {
    const n = this.configures++;
    const pushId = n === 0 ? this.command.initialPushId : `${this.command.initialPushId}.${n}`;
    const connection = await this.dialer.handshake(transport, pushId);
    // The machine only learns about a loss through LOST; the first close wins.
    connection.once('close', (err) => {
      if (err !== null) this.failure = err.toSerialized();
      if (this.current === connection) this.current = undefined;
      if (this.actor.getSnapshot().status === 'active') {
        this.actor.send({ type: 'LOST', error: err?.message ?? 'connection closed by peer' });
      }
    });
    this.current = connection;
    return connection;
  }

  /** Runs one step of an attempt; a failure's typed error is kept for the next state report. */
  private async attempt<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      const typed =
        err instanceof AgentPoolError ? err : new AgentPoolError(ErrorCode.Error, err instanceof Error ? err.message : String(err));
      this.failure = typed.toSerialized();
      throw err;
    }
  }

  private onSnapshot(state: ConnectionStateName, context: { attempt: number; lastError: string | null }): void {
    if (state === this.lastState) return;
    const previous = this.lastState;
    this.lastState = state;
    if (state === 'closed' || state === 'backoff') {
      this.stopLiveness();
      this.drainingOn = undefined;
      const c = this.current;
      this.current = undefined;
      c?.close();
    }
    if (state === 'ready' && previous === 'handshaking') this.startLiveness();
    const report: StateReport = {
      type: 'state',
      connectionId: this.connectionId,
      state,
      lastError: context.lastError,
      attempt: context.attempt,
    };
    if (state === 'ready') this.failure = undefined;
    else if ((state === 'backoff' || state === 'closed') && this.failure !== undefined) report.error = this.failure;
    if (state === 'ready' && this.current !== undefined) {
      const hs = this.current.handshake;
      report.encoding = this.current.encoding;
      if (hs !== undefined) report.capabilities = hs.capabilities;
      if (previous === 'handshaking') this.listener.established(this.current);
    }
    this.listener.state(report);
  }
}
