// prom-client's default process and Node.js metrics (`process_*`, `nodejs_*`), collected once per
// process in a registry of their own. collectDefaultMetrics installs observers (GC, event-loop
// delay) that are never removed, so running it per pool would leak one set per pool, and `zap serve`
// makes a new pool on every reload.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';

// Required on first use, like pool-metrics.ts, so that importing the package does not load prom-client.
const require = createRequire(import.meta.url);

/**
 * Gauges named `…_total`, which `promtool check metrics` refuses for anything but a counter. Their
 * unsuffixed twins (`nodejs_active_handles` …) carry the same counts, split by type.
 */
const REFUSED_BY_PROMTOOL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

let shared: Registry | undefined;

function processRegistry(): Registry {
  if (shared === undefined) {
    const { Registry, collectDefaultMetrics } = require('prom-client') as typeof PromClient;
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
    for (const name of REFUSED_BY_PROMTOOL) shared.removeSingleMetric(name);
  }
  return shared;
}

/** Starts the process-wide collection now (idempotent), so the first scrape has event-loop and GC data. */
export function startProcessMetrics(): void {
  processRegistry();
}

/**
 * Prometheus text of the process metrics, leaving out every family `beside` already has (a user who
 * registered the defaults there too must not get each family twice). Ends with a newline; the
 * registry's default labels do not apply here.
 */
export async function processMetricsText(beside: Registry): Promise<string> {
  const registry = processRegistry();
  const names = registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .filter((name) => beside.getSingleMetric(name) === undefined);
  const families = await Promise.all(names.map((name) => registry.getSingleMetricAsString(name)));
  return families.length === 0 ? '' : `${families.join('\n\n')}\n`;
}
