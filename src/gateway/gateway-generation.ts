// One generation of `zap gateway`: everything built from one configuration (the AgentPool, the
// upstream connection pools, the route table, the engine). A reload builds a new generation for new
// requests; the old one finishes its requests in flight, then closes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GatewayConfig, RouteConfig, ZapConfig } from '../config/config-types.js';
import { createHttpEngine } from '../http/engine.js';
import type { EngineLog, HttpEngine } from '../http/engine-types.js';
import type { HttpRoute, RouteAgent } from '../http/route.js';
import { createUpstream, type HttpUpstream } from '../http/upstream.js';
import type { AgentPool } from '../pool/agent-pool.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { NO_ROUTE, type GatewayMetrics } from './gateway-metrics.js';
import { RouteTable } from './route-table.js';
import { UpstreamPicker } from './upstream-picker.js';
import { performance } from 'node:perf_hooks';

/** What a route table entry carries: one ready HttpRoute per target of the route's upstream. */
interface RouteTarget {
  picker: UpstreamPicker;
  byOrigin: ReadonlyMap<string, HttpRoute>;
}

export interface GenerationOptions {
  config: ZapConfig;
  pool: AgentPool;
  metrics: GatewayMetrics;
  log: EngineLog;
}

const NOT_FOUND = 'No route\n';

export class GatewayGeneration {
  readonly config: ZapConfig;
  readonly pool: AgentPool;
  readonly #metrics: GatewayMetrics;
  readonly #engine: HttpEngine;
  readonly #table: RouteTable<RouteTarget>;
  readonly #upstreams: HttpUpstream[] = [];
  #inFlight = 0;
  #retiredAt: number | undefined;
  #drained: (() => void) | undefined;
  readonly #whenDrained: Promise<void>;

  constructor(options: GenerationOptions) {
    const gateway = options.config.gateway;
    if (gateway === undefined) throw zapError(ErrorCode.InvalidArgument, 'the configuration has no listeners, upstreams or routes');
    this.config = options.config;
    this.pool = options.pool;
    this.#metrics = options.metrics;
    this.#whenDrained = new Promise((resolve) => (this.#drained = resolve));
    const agents = new Map(options.config.agents.map((a): [string, RouteAgent] => [a.id, a]));
    const byUpstream = new Map(gateway.upstreams.map((u) => [u.id, this.#openUpstream(u)]));
    this.#table = new RouteTable(gateway.routes, (route) => routeTarget(route, agents, byUpstream));
    this.#engine = createHttpEngine({
      pool: options.pool,
      // Used by WebSocket upgrades: the first matching route (no listener default), only if it
      // relays WebSockets (`websocket #true`); otherwise the engine answers 404.
      route: (req) => this.#pick(req, undefined, true)?.route,
      log: options.log,
    });
  }

  get gateway(): GatewayConfig {
    return this.config.gateway as GatewayConfig;
  }

  /** Requests this generation is still serving. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #openUpstream(u: GatewayConfig['upstreams'][number]): { picker: UpstreamPicker; targets: Map<string, HttpUpstream> } {
    const picker = new UpstreamPicker(u);
    const targets = new Map<string, HttpUpstream>();
    for (const origin of picker.origins) {
      if (targets.has(origin)) continue;
      const upstream = createUpstream({ id: u.id, target: origin });
      this.#upstreams.push(upstream);
      targets.set(origin, upstream);
    }
    return { picker, targets };
  }

  #pick(req: IncomingMessage, defaultRoute?: string, upgrade = false): { route: HttpRoute; routeId: string } | undefined {
    const found = this.#table.pick({ method: req.method ?? 'GET', url: req.url ?? '/', host: req.headers.host }, { defaultRoute });
    if (found === undefined || (upgrade && !found.route.websocket)) return undefined;
    const origin = found.target.picker.next();
    return { route: found.target.byOrigin.get(origin) as HttpRoute, routeId: found.route.id };
  }

  /** Serves one request of `listener` (its default route applies); counts it in the metrics. */
  handle(req: IncomingMessage, res: ServerResponse, defaultRoute: string | undefined): void {
    const started = performance.now();
    const picked = this.#pick(req, defaultRoute);
    if (picked === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(NOT_FOUND.length) }).end(NOT_FOUND);
      this.#metrics.observe(NO_ROUTE, 404, performance.now() - started);
      return;
    }
    this.#inFlight++;
    void this.#engine.handle(req, res, picked.route).then(
      (outcome) => {
        this.#metrics.observe(picked.routeId, outcome.status, outcome.durationMs);
        this.#settle();
      },
      // handle() never rejects by contract; a bug there must still not leak an in-flight count.
      () => {
        this.#metrics.observe(picked.routeId, 500, performance.now() - started);
        this.#settle();
      },
    );
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#engine.upgrade(req, socket, head);
  }

  #settle(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#retiredAt !== undefined) this.#drained?.();
  }

  /**
   * Takes no more requests: resolves once those in flight are done (or after `timeoutMs`), then
   * closes the upstream connections and the pool. Resolves with the requests still open at the
   * timeout (0 when all finished).
   */
  async retire(timeoutMs: number): Promise<number> {
    this.#retiredAt ??= performance.now();
    if (this.#inFlight === 0) this.#drained?.();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.#whenDrained, timedOut]);
    clearTimeout(timer);
    const left = this.#inFlight;
    this.#metrics.observeDrain(performance.now() - this.#retiredAt);
    await Promise.allSettled([...this.#upstreams.map((u) => (left === 0 ? u.close() : u.dispatcher.destroy())), this.pool.close()]);
    return left;
  }
}

function routeTarget(
  route: RouteConfig,
  agents: ReadonlyMap<string, RouteAgent>,
  upstreams: ReadonlyMap<string, { picker: UpstreamPicker; targets: Map<string, HttpUpstream> }>,
): RouteTarget {
  // The loader checks every reference; a config built by hand may still miss one.
  const upstream = upstreams.get(route.upstream);
  if (upstream === undefined) throw zapError(ErrorCode.InvalidConfig, `route "${route.id}": upstream "${route.upstream}" was not opened`);
  const routeAgents = route.agents.map((id) => {
    const agent = agents.get(id);
    if (agent === undefined) throw zapError(ErrorCode.InvalidConfig, `route "${route.id}": agent "${id}" is not declared`);
    return agent;
  });
  const byOrigin = new Map<string, HttpRoute>();
  for (const [origin, target] of upstream.targets) byOrigin.set(origin, { id: route.id, agents: routeAgents, upstream: target });
  return { picker: upstream.picker, byOrigin };
}
