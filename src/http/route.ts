// What the engine needs to know about one route: its agents, in configured order, with the same
// per-agent settings the KDL `agents { }` block gives (spec §13.1), and its upstream.
import type { EventKind } from '../protocol/types.js';
import type { FailureMode } from '../pool/failure-mode.js';
import type { HttpUpstream } from './upstream.js';

/** `buffer`: the whole body as one chunk; `stream`: chunk by chunk; `hybrid`: buffer up to the threshold, then stream. */
export interface BodyModeSetting {
  mode: 'buffer' | 'stream' | 'hybrid';
  /** Bytes buffered before a hybrid body switches to streaming (spec §10.2 default 65 536). */
  hybridThreshold: number;
}

/**
 * One agent of a route, as the proxy consults it. Field for field a subset of the KDL loader's
 * `AgentConfig`, so a loaded agent can be passed as it is.
 */
export interface RouteAgent {
  /** The agent id in the AgentPool. */
  id: string;
  /** Events sent to the agent; the others are skipped (spec §10.2). */
  events: readonly EventKind[];
  /** `open`: an unavailable agent is skipped; `closed`: the request fails with 504/503/413 (spec §10.11). */
  failureMode: FailureMode;
  /** Per-call timeout of header, complete and buffered-body events. */
  timeoutMs: number;
  /** Per-call timeout of streamed body chunks. */
  chunkTimeoutMs: number;
  requestBodyMode: BodyModeSetting;
  responseBodyMode: BodyModeSetting;
  /** Bytes of request body the agent inspects at most; beyond: 413 when closed, skipped when open. */
  maxRequestBodyBytes: number;
  maxResponseBodyBytes: number;
}

/** A route: the agents that see its requests (in configured order) and where requests go. */
export interface HttpRoute {
  /** `metadata.route_id` of the events. */
  id: string;
  agents: readonly RouteAgent[];
  upstream: HttpUpstream;
}

/** Settings every RouteAgent field falls back to in `routeAgent()`: the spec §13.1 defaults. */
export const ROUTE_AGENT_DEFAULTS: Readonly<Omit<RouteAgent, 'id'>> = Object.freeze({
  events: Object.freeze(['request_headers'] as EventKind[]),
  failureMode: 'open',
  timeoutMs: 1_000,
  chunkTimeoutMs: 5_000,
  requestBodyMode: Object.freeze({ mode: 'buffer', hybridThreshold: 65_536 }),
  responseBodyMode: Object.freeze({ mode: 'buffer', hybridThreshold: 65_536 }),
  maxRequestBodyBytes: 1_048_576,
  maxResponseBodyBytes: 1_048_576,
} satisfies Omit<RouteAgent, 'id'>);

/** A RouteAgent with the spec §13.1 defaults for every field not given. */
export function routeAgent(id: string, settings: Partial<Omit<RouteAgent, 'id'>> = {}): RouteAgent {
  return { ...ROUTE_AGENT_DEFAULTS, ...settings, id };
}

/** The route's agents that subscribe to `kind`, in configured order. */
export function agentsFor(route: Pick<HttpRoute, 'agents'>, kind: EventKind): RouteAgent[] {
  return route.agents.filter((agent) => agent.events.includes(kind));
}
