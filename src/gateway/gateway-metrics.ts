// The gateway's own HTTP metrics (requests by route and status, latency by route), in a registry
// that outlives reloads, served on /metrics after the pool's families and the process metrics.
import { Counter, Histogram, Registry } from 'prom-client';

/** Route label of requests no route matched. */
export const NO_ROUTE = '(none)';

/** Seconds; from a cache hit to a slow upstream. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: 'zap_gateway_requests_total',
    help: 'HTTP requests the gateway answered, by route and status (0: the client left first)',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'zap_gateway_request_duration_seconds',
    help: 'Time from the request to the end of its response, by route',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #drain = new Histogram({
    name: 'zap_gateway_reload_drain_seconds',
    help: 'Time a replaced configuration took to finish its requests in flight after a reload',
    buckets: [0.01, 0.1, 1, 5, 30],
    registers: [this.registry],
  });

  readonly #refused = new Counter({
    name: 'zap_gateway_connections_refused_total',
    help: 'Client connections closed at accept because the listener had max-connections open, by listener',
    labelNames: ['listener'] as const,
    registers: [this.registry],
  });

  /** Listener ids are operator-written config names: a bounded label set. */
  connectionRefused(listener: string): void {
    this.#refused.inc({ listener });
  }

  /** Route ids are operator-written config names: a bounded label set. */
  observe(route: string, status: number, durationMs: number): void {
    this.#requests.inc({ route, status: String(status) });
    this.#duration.observe({ route }, durationMs / 1000);
  }

  observeDrain(ms: number): void {
    this.#drain.observe(ms / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
