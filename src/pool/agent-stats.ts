// Introspection of the pool's router-side state: AgentPool.agentStats() and the metrics gauges'
// snapshot (spec §12.1), read from the agent entries; nothing here changes them.
import type { GaugeSnapshot } from '../metrics/pool-metrics.js';
import { formatEndpoint } from '../transport/endpoint.js';
import type { AgentEntry } from './agent-entry.js';
import type { CircuitStateCode } from './circuit-breaker.js';

/** Connection states with a transport, hence an agent-reported health. */
const LIVE_STATES: ReadonlySet<string> = new Set(['ready', 'paused', 'draining']);

export interface AgentStats {
  agentId: string;
  endpoint: string;
  activeConnections: number;
  healthyConnections: number;
  totalInFlight: number;
  queued: number;
  totalRequests: number;
  totalErrors: number;
  errorRate: number;
  isHealthy: boolean;
  correlationAffinities: number;
  circuitState: CircuitStateCode;
  failOpenAllows: number;
  flowRejections: number;
  lateReplies: number;
  /** `health`: the agent-reported condition of a live transport; 'not-connected' while connecting, handshaking, in backoff or closed. */
  connections: Array<{
    id: number;
    state: string;
    inFlight: number;
    dispatched: number;
    encoding: string;
    lastError: string | null;
    /** The host slot: a worker's index, or `workers` for the light-load connection on the calling thread. */
    worker: number;
    /** On the calling thread (workers: 0, or the light-load connection of inlineBelowInFlight). */
    inline: boolean;
    health: string;
  }>;
}

export interface PoolStats {
  workers: number;
  agents: number;
  inFlight: number;
  lateResults: number;
}

export function agentStatsOf(agent: AgentEntry): AgentStats {
  const connections = [...agent.connections.values()];
  return {
    agentId: agent.id,
    endpoint: formatEndpoint(agent.endpoint),
    activeConnections: connections.filter((c) => c.state === 'ready' || c.state === 'paused' || c.state === 'draining').length,
    healthyConnections: agent.candidates.length,
    totalInFlight: agent.inFlight(),
    queued: agent.queued,
    totalRequests: agent.totalRequests,
    totalErrors: agent.totalErrors,
    errorRate: agent.totalRequests === 0 ? 0 : agent.totalErrors / agent.totalRequests,
    isHealthy: agent.candidates.length > 0,
    correlationAffinities: agent.correlations.size,
    circuitState: agent.breaker.state,
    failOpenAllows: agent.failOpenAllows,
    flowRejections: agent.flowRejections,
    lateReplies: agent.lateReplies,
    connections: connections.map((c) => ({
      id: c.id,
      state: c.state,
      inFlight: c.inFlight,
      dispatched: c.dispatched,
      encoding: c.encoding,
      lastError: c.lastError,
      worker: c.hostIndex,
      inline: !c.host.onOtherThread,
      // Only a live transport has a health; a connection being dialled or backing off has none.
      health: LIVE_STATES.has(c.state) ? c.health.condition : 'not-connected',
    })),
  };
}

/** The gauges' values at one scrape. */
export function gaugeSnapshot(agents: Iterable<AgentEntry>, inFlight: number, bufferUtilizationPercent: number): GaugeSnapshot {
  let correlationAffinities = 0;
  let healthyConnections = 0;
  let pausedConnections = 0;
  const rows: GaugeSnapshot['agents'] = [];
  for (const agent of agents) {
    correlationAffinities += agent.correlations.size;
    healthyConnections += agent.candidates.length;
    let active = 0;
    for (const c of agent.connections.values()) {
      if (c.state === 'ready' || c.state === 'paused' || c.state === 'draining') active++;
      if (agent.flow.isConnectionPaused(c.id)) pausedConnections++;
    }
    rows.push({ agentId: agent.id, connectionsActive: active, circuitState: agent.breaker.state });
  }
  return { inFlight, correlationAffinities, bufferUtilizationPercent, healthyConnections, pausedConnections, agents: rows };
}
