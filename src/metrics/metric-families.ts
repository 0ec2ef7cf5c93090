// The pool's own metric families (spec §12.1, §12.2): names, HELP texts and buckets in one place, so
// the exporter, the `reported_` renaming of agent series (§12.3) and the tests agree on them.

export const DEFAULT_METRICS_PREFIX = 'agent_protocol';

/** §12.1 histogram buckets (seconds); prom-client adds +Inf. */
export const PROTOCOL_BUCKETS: readonly number[] = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];

/** §12.2 `agent_request_duration_seconds` buckets (seconds); prom-client adds +Inf. */
export const AGENT_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface FamilyDefinition {
  /** Name without the `{p}_` prefix for §12.1, full name for §12.2. */
  readonly suffix: string;
  readonly help: string;
}

/** §12.1 counters, in exposition order. */
export const PROTOCOL_COUNTERS = {
  requests: { suffix: 'requests_total', help: 'Total requests sent to agents' },
  responses: { suffix: 'responses_total', help: 'Total responses received from agents' },
  timeouts: { suffix: 'timeouts_total', help: 'Total request timeouts' },
  connectionErrors: { suffix: 'connection_errors_total', help: 'Total connection errors' },
  flowPauses: { suffix: 'flow_control_pauses_total', help: 'Flow control pause events' },
  flowRejections: { suffix: 'flow_control_rejections_total', help: 'Requests rejected due to flow control' },
  affinityEvictions: { suffix: 'affinity_evictions_total', help: 'Correlation affinities reclaimed by TTL sweep' },
  affinityRejections: {
    suffix: 'affinity_rejections_total',
    help: 'Affinities dropped because the map was at capacity',
  },
} as const satisfies Record<string, FamilyDefinition>;

/** §12.1 gauges, in exposition order. */
export const PROTOCOL_GAUGES = {
  inFlight: { suffix: 'in_flight_requests', help: 'Current in-flight requests' },
  correlationAffinities: { suffix: 'correlation_affinities', help: 'Current correlation affinity entries' },
  bufferUtilization: { suffix: 'buffer_utilization_percent', help: 'Buffer utilization percentage' },
  healthyConnections: { suffix: 'healthy_connections', help: 'Number of healthy agent connections' },
  pausedConnections: { suffix: 'paused_connections', help: 'Number of flow-control paused connections' },
} as const satisfies Record<string, FamilyDefinition>;

/** §12.1 histograms, in exposition order. */
export const PROTOCOL_HISTOGRAMS = {
  serialization: { suffix: 'serialization_seconds', help: 'Serialization time in seconds' },
  requestDuration: { suffix: 'request_duration_seconds', help: 'Request duration in seconds' },
} as const satisfies Record<string, FamilyDefinition>;

/** §12.2 per-agent families, in exposition order. The spec gives their meaning; HELP says the same. */
export const AGENT_FAMILIES = {
  requests: { suffix: 'agent_requests_total', help: 'Replies received from agents, by decision' },
  duration: { suffix: 'agent_request_duration_seconds', help: 'Agent call duration from call start to reply in seconds' },
  connectionsActive: { suffix: 'agent_connections_active', help: 'Ready agent connections' },
  circuitState: {
    suffix: 'agent_circuit_breaker_state',
    help: 'Circuit breaker state (0 closed, 1 open, 2 half-open)',
  },
  errors: { suffix: 'agent_errors_total', help: 'Failed agent calls and connection failures, by kind' },
} as const satisfies Record<string, FamilyDefinition>;

/**
 * Every sample name our own families print (histograms print `_bucket`, `_sum`, `_count`), so an
 * agent-reported series cannot shadow one of them (§12.3 `reported_` renaming).
 */
export function ownSampleNames(prefix: string): Set<string> {
  const names = new Set<string>();
  for (const f of [...Object.values(PROTOCOL_COUNTERS), ...Object.values(PROTOCOL_GAUGES)]) {
    names.add(`${prefix}_${f.suffix}`);
  }
  const histograms = [...Object.values(PROTOCOL_HISTOGRAMS).map((f) => `${prefix}_${f.suffix}`), AGENT_FAMILIES.duration.suffix];
  for (const name of histograms) {
    for (const s of ['', '_bucket', '_sum', '_count']) names.add(name + s);
  }
  for (const f of Object.values(AGENT_FAMILIES)) names.add(f.suffix);
  return names;
}
