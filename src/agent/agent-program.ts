// Serves an agent from parsed flags (agent-flags.ts) until SIGTERM/SIGINT: `--listen` runs an
// AgentServer, `--reverse` a ReverseConnector. Stopping drains: the agent reports `draining` health so
// the proxy sends nothing new, in-flight events get up to `--drain-timeout-ms` to be answered, then
// every connection closes (and the socket file goes). A second signal skips the wait. Shared by
// `zap agent` and runAgent().
import type { EventEmitter } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { peerText } from '../protocol/peer-text.js';
import { HealthState, type HealthStatus } from '../protocol/types.js';
import { AgentServer, type AgentServerOptions } from './agent-server.js';
import { serverTlsOf, type AgentFlags, type LogLevel } from './agent-flags.js';
import type { AgentHandler } from './handler.js';
import type { ThreadsOptions } from './handler-pool.js';
import { ReverseConnector } from './reverse-connector.js';

const RANK: { readonly [L in LogLevel]: number } = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };
/** How often the drain looks at the in-flight count (bounded by the drain timeout). */
const DRAIN_POLL_MS = 10;

/** What serves the events: an in-thread handler, or a handler module (needed for --threads). */
export interface AgentProgramHandler {
  handler?: AgentHandler;
  /** A module whose default export is `createHandler(options)`; runs on `--threads N` threads. */
  module?: string | URL;
  moduleOptions?: unknown;
}

interface AgentProgramOptions extends AgentProgramHandler {
  /** The id when `--id` is not given. */
  agentId: string;
  /** Starts every log line, e.g. `zap agent 'waf' (waf)`. */
  label: string;
  name?: string;
  version?: string;
  capabilities?: AgentServerOptions['capabilities'];
  /** Stops the agent like SIGTERM. */
  signal?: AbortSignal;
}

/** Leveled lines: info and debug on stdout (the ready line is what supervisors wait for), the rest on stderr. */
class AgentLog {
  readonly #rank: number;
  constructor(
    readonly level: LogLevel,
    readonly label: string,
  ) {
    this.#rank = RANK[level];
  }

  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return RANK[level] <= this.#rank;
  }

  write(level: Exclude<LogLevel, 'silent'>, text: string): void {
    if (!this.enabled(level)) return;
    // Ready lines read "<label> listening on …"; problems "<label>: …", as zap agent always wrote them.
    if (level === 'info' || level === 'debug') process.stdout.write(`${this.label} ${text}\n`);
    else process.stderr.write(`${this.label}: ${text}\n`);
  }
}

interface Tracked extends EventEmitter {
  readonly inFlight: number;
}

/** Connections of one agent, for the in-flight count the drain waits on. */
class ConnectionSet {
  readonly #all = new Set<Tracked>();

  add(conn: Tracked): void {
    this.#all.add(conn);
    conn.once('close', () => this.#all.delete(conn));
  }

  get inFlight(): number {
    let n = 0;
    for (const c of this.#all) n += c.inFlight;
    return n;
  }
}

/** Resolves on the first of SIGTERM, SIGINT or `signal`; `next` on a later one. Listeners go with dispose(). */
class StopSignals {
  #count = 0;
  readonly #waiters: Array<{ after: number; resolve: () => void }> = [];
  readonly #onSignal = (): void => this.#fire();

  constructor(readonly signal: AbortSignal | undefined) {
    process.on('SIGTERM', this.#onSignal);
    process.on('SIGINT', this.#onSignal);
    signal?.addEventListener('abort', this.#onSignal, { once: true });
    if (signal?.aborted === true) this.#count = 1;
  }

  /** Resolves once more than `after` stop requests arrived. */
  wait(after: number): Promise<void> {
    if (this.#count > after) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ after, resolve }));
  }

  #fire(): void {
    this.#count++;
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (this.#count > w.after) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  dispose(): void {
    process.off('SIGTERM', this.#onSignal);
    process.off('SIGINT', this.#onSignal);
    this.signal?.removeEventListener('abort', this.#onSignal);
  }
}

function handlerOptions(p: AgentProgramHandler, threads: number): Pick<AgentServerOptions, 'handler' | 'threads'> {
  if (p.module !== undefined) {
    const t: ThreadsOptions = { module: p.module, count: threads, ...(p.moduleOptions === undefined ? {} : { options: p.moduleOptions }) };
    return { threads: t };
  }
  if (threads > 0) throw zapError(ErrorCode.InvalidArgument, '--threads needs a handler module (runAgent({ module }))');
  return p.handler === undefined ? {} : { handler: p.handler };
}

function drainingHealth(agentId: string, drainTimeoutMs: number): HealthStatus {
  return {
    agentId,
    state: HealthState.Draining,
    message: 'shutting down',
    load: null,
    resources: null,
    validUntilMs: null,
    timestampMs: Date.now(),
    disabledFeatures: [],
    timeoutMultiplier: 1,
    drainEtaMs: drainTimeoutMs,
    unhealthyReason: null,
    recoverable: true,
  };
}

/** Waits until nothing is in flight, the drain timeout passes, or a second stop request arrives. */
async function drain(connections: ConnectionSet, flags: AgentFlags, stops: StopSignals, log: AgentLog): Promise<void> {
  const inFlight = connections.inFlight;
  if (inFlight === 0 || flags.drainTimeoutMs === 0) return;
  log.write('info', `draining: ${inFlight} event(s) in flight, up to ${flags.drainTimeoutMs} ms`);
  const deadline = Date.now() + flags.drainTimeoutMs;
  let skipped = false;
  void stops.wait(1).then(() => (skipped = true));
  while (connections.inFlight > 0 && Date.now() < deadline && !skipped) {
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
  const left = connections.inFlight;
  if (left > 0) log.write('warn', `${skipped ? 'second stop signal' : 'drain timeout'}: closing with ${left} event(s) unanswered`);
}

/**
 * A TLS file that cannot be read is the flag's problem, `cannot read --tls-cert file /x.pem (ENOENT)`,
 * not a library error from deep inside the listen. PEM text given inline passes.
 */
function checkTlsFiles(flags: AgentFlags): void {
  for (const [flag, path] of [
    ['--tls-cert', flags.tls?.cert],
    ['--tls-key', flags.tls?.key],
    ['--tls-ca', flags.tls?.ca],
  ] as const) {
    if (path === undefined || path.includes('-----BEGIN')) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw zapError(ErrorCode.InvalidArgument, `cannot read ${flag} file ${path} (${code})`, { cause: err });
    }
  }
}

/** Serves until stopped; resolves with the exit code (0), throws a typed error on failure. */
export async function serveAgentProgram(flags: AgentFlags, o: AgentProgramOptions): Promise<number> {
  checkTlsFiles(flags);
  const log = new AgentLog(flags.logLevel, o.label);
  const agentId = flags.id ?? o.agentId;
  const base = {
    agentId,
    encoding: flags.encoding,
    ...(o.name === undefined ? {} : { name: o.name }),
    ...(o.version === undefined ? {} : { version: o.version }),
    ...(o.capabilities === undefined ? {} : { capabilities: o.capabilities }),
    ...handlerOptions(o, flags.threads),
  };
  // Signal handlers go in before the ready line: a supervisor may signal as soon as it reads it.
  const stops = new StopSignals(o.signal);
  try {
    if (flags.reverse !== undefined) return await serveReverse(flags.reverse, flags, base, stops, log);
    const tls = serverTlsOf(flags);
    const server = new AgentServer({ ...base, ...flags.limits, ...(tls === undefined ? {} : { tls }) });
    const connections = new ConnectionSet();
    server.on('connection', (conn: Tracked) => connections.add(conn));
    quietBelow(server, log);
    // A failed listen may have started the handler thread pool already: close the server to stop it.
    const bound = await server.listen(flags.listen as string).catch(async (err: unknown) => {
      await server.close();
      throw err;
    });
    log.write('info', `listening on ${bound}`);
    await stops.wait(0);
    server.reportHealth(drainingHealth(agentId, flags.drainTimeoutMs));
    await drain(connections, flags, stops, log);
    await server.close();
    log.write('debug', 'stopped');
    return 0;
  } finally {
    stops.dispose();
  }
}

/** Below a level, the server's own fallback logging of warnings and handler errors is silenced; at debug, every one is logged. */
function quietBelow(emitter: EventEmitter, log: AgentLog): void {
  if (log.enabled('debug')) {
    emitter.on('handlerError', (err: unknown, cid: string) => log.write('debug', `handler failed for '${peerText(cid)}': ${String(err)}`));
    emitter.on('error', (err: unknown) => log.write('debug', `connection error: ${peerText(String(err), 512)}`));
  } else if (!log.enabled('error')) {
    emitter.on('handlerError', () => {});
  }
  if (!log.enabled('warn')) emitter.on('warning', () => {});
}

/** `--reverse`: dial, register, serve until stopped or a permanent refusal (then its typed error is thrown). */
async function serveReverse(
  endpoint: string,
  flags: AgentFlags,
  base: Omit<AgentServerOptions, 'tls'>,
  stops: StopSignals,
  log: AgentLog,
): Promise<number> {
  const id = base.agentId;
  const connector = new ReverseConnector({
    endpoint,
    agentId: id,
    connections: flags.connections,
    ...(flags.token === undefined ? {} : { authToken: flags.token }),
    ...(flags.tls === undefined ? {} : { tls: flags.tls }),
    ...(base.name === undefined ? {} : { name: base.name }),
    ...(base.version === undefined ? {} : { version: base.version }),
    ...(base.capabilities === undefined ? {} : { capabilities: base.capabilities }),
    ...(base.handler === undefined ? {} : { handler: base.handler }),
    ...(base.threads === undefined ? {} : { threads: base.threads }),
  });
  const connections = new ConnectionSet();
  connector.on('connection', (conn) => connections.add(conn));
  quietBelow(connector, log);
  connector.on('registered', (r) => log.write('info', `registered with ${endpoint} as ${peerText(r.connectionId)}`));
  // The refusal text is the proxy's: escaped and cut, one line per refusal.
  connector.on('refused', (r) => log.write('warn', `registration refused: ${peerText(r.error, 512)}`));
  connector.on('retry', (r) =>
    log.write('warn', `connection ${r.slot + 1}: ${peerText(r.error.message, 512)}; retrying in ${r.delayMs} ms`),
  );
  const failed = new Promise<boolean>((resolve) => connector.once('failed', () => resolve(true)));
  await connector.start().catch(async (err: unknown) => {
    await connector.close();
    throw err;
  });
  log.write('info', `dialling ${endpoint}`);
  const isFailure = await Promise.race([failed, stops.wait(0).then(() => false)]);
  if (!isFailure) {
    connector.reportHealth(drainingHealth(id, flags.drainTimeoutMs));
    await drain(connections, flags, stops, log);
  }
  const failure = connector.failure;
  await connector.close();
  if (isFailure && failure !== null) throw failure;
  return 0;
}
