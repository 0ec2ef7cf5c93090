// Steps 6–8 of the admission pipeline (spec §10.3) for one call: which connection, or why none.
// Order: sticky session, then correlation affinity (every event of a request on the connection that
// carried its headers), then the agent's picker over its selectable candidates — skipping
// connections whose agent disabled the feature this event needs, and paused ones where the kind
// allows (§10.5). Pure decision; the router acts on it.
import type { EventKind } from '../protocol/types.js';
import { splitByThread, type AgentEntry, type ConnectionRecord, type PoolCall } from './agent-entry.js';
import { isFlowControlled, skipsPausedConnections } from './flow-control-state.js';

export type Choice =
  | { kind: 'connection'; connection: ConnectionRecord }
  /** Every usable connection is at maxConcurrentPerConnection: wait for a slot. */
  | { kind: 'full' }
  /** Flow control holds the call back (§10.5). */
  | { kind: 'blocked' }
  | { kind: 'none'; why: string };

const FULL: Choice = Object.freeze({ kind: 'full' });
/** A connection with a free slot, 'full' when every candidate is at the cap, undefined when none. */
type Picked = ConnectionRecord | 'full' | undefined;
type PickContext = { agentId: string; correlationId: string };
const BLOCKED: Choice = Object.freeze({ kind: 'blocked' });

/** The capability feature an event needs; a degraded agent may disable it (§10.6). */
function featureOf(kind: EventKind): string | undefined {
  return kind === 'guardrail_inspect'
    ? 'guardrails'
    : kind === 'websocket_frame'
      ? 'websocket'
      : kind === 'configure'
        ? 'config_push'
        : undefined;
}

/** Failure path only: the message names the agent's last connection error, when there is one. */
function noHealthyConnection(agent: AgentEntry): string {
  const last = agent.lastConnectionError;
  return last === null
    ? `No healthy connections for agent ${agent.id}`
    : `No healthy connections for agent ${agent.id}: last connection error: ${last}`;
}

function chunkBytes(call: PoolCall): number {
  if (call.kind !== 'request_body_chunk' && call.kind !== 'response_body_chunk') return 0;
  return (call.event as { data?: Uint8Array }).data?.byteLength ?? 0;
}

export function chooseConnection(call: PoolCall, now: number): Choice {
  const agent = call.agent;
  const cap = agent.options.maxConcurrentPerConnection;
  const flowControlled = isFlowControlled(call.kind);
  if (flowControlled && agent.flow.cid(call.correlationId)?.paused === true) return BLOCKED;

  if (call.forced !== undefined) {
    const c = call.forced;
    if (!agent.connections.has(c.id) || !c.acceptsBound) return { kind: 'none', why: `connection ${c.id} is gone` };
    return c.inFlight >= cap ? FULL : { kind: 'connection', connection: c };
  }

  if (call.stickySession !== undefined) {
    const bound = agent.sticky.get(call.stickySession, now);
    const c = bound === undefined ? undefined : agent.connections.get(bound);
    if (c !== undefined && c.selectable && !flowBlocked(agent, c, call)) {
      if (c.inFlight >= cap) return FULL;
      call.usedSticky = true;
      return { kind: 'connection', connection: c };
    }
  }

  const correlation = call.correlation;
  if (call.kind !== 'request_headers' && correlation !== undefined) {
    const bound = agent.correlations.boundTo(correlation, now);
    const c = bound === undefined ? undefined : agent.connections.get(bound);
    // Agent-reported draining is fine for a request already in progress; unhealthy or lost is not.
    if (c !== undefined && c.acceptsBound) {
      if (flowBlocked(agent, c, call)) return BLOCKED;
      return c.inFlight >= cap ? FULL : { kind: 'connection', connection: c };
    }
  }

  let candidates: readonly ConnectionRecord[] = agent.candidates;
  if (candidates.length === 0) return { kind: 'none', why: noHealthyConnection(agent) };
  const feature = featureOf(call.kind);
  if (feature !== undefined && candidates.some((c) => c.health.isFeatureDisabled(feature))) {
    candidates = candidates.filter((c) => !c.health.isFeatureDisabled(feature));
    if (candidates.length === 0)
      return { kind: 'none', why: `No healthy connections for agent ${agent.id}: feature '${feature}' disabled` };
  }
  if (flowControlled && agent.flow.connectionScopes > 0) {
    if (skipsPausedConnections(call.kind)) {
      const open = candidates.filter((c) => !agent.flow.isConnectionPaused(c.id));
      if (open.length === 0) return BLOCKED;
      candidates = open;
    }
  }

  const context = { agentId: agent.id, correlationId: call.correlationId };
  // A sticky session outlives the light load it may start in: it binds where the load goes.
  const chosen = pickByLoad(agent, candidates, cap, context, call.stickySession === undefined);
  if (chosen === 'full') return FULL;
  if (chosen === undefined) return { kind: 'none', why: `No healthy connections for agent ${agent.id}` };
  if (flowBlocked(agent, chosen, call)) return BLOCKED;
  if (call.kind === 'request_headers' && correlation !== undefined) agent.correlations.bind(correlation, chosen.id, now);
  if (call.stickySession !== undefined) agent.sticky.bind(call.stickySession, chosen.id, now);
  return { kind: 'connection', connection: chosen };
}

/**
 * The picker's choice among `candidates` with a free slot. Where the agent's connections span this
 * thread and workers (inlineBelowInFlight): at light load the one on this thread, since a thread
 * hop would cost more than it saves (when `lightLoadHere`); under load the workers' connections,
 * and this thread's only when every one of them is full.
 */
function pickByLoad(
  agent: AgentEntry,
  candidates: readonly ConnectionRecord[],
  cap: number,
  context: PickContext,
  lightLoadHere: boolean,
): Picked {
  // A filtered list (feature-disabled or paused connections left out) is split anew; that is rare.
  const split = candidates === agent.candidates ? agent.byThread : agent.byThread && splitByThread(candidates);
  if (split !== undefined) {
    const inline = split.inline;
    if (lightLoadHere && agent.liveCalls <= agent.options.inlineBelowInFlight && inline.inFlight < cap) return inline;
    const chosen = pickOpen(agent, split.offloaded, cap, context);
    if (chosen === 'full') return inline.inFlight < cap ? inline : 'full';
    // A custom picker may refuse every worker connection: it then chooses among all of them.
    return chosen ?? pickOpen(agent, candidates, cap, context);
  }
  return pickOpen(agent, candidates, cap, context);
}

function pickOpen(agent: AgentEntry, candidates: readonly ConnectionRecord[], cap: number, context: PickContext): Picked {
  const chosen = agent.picker.pick(candidates, context);
  if (chosen === undefined || chosen.inFlight < cap) return chosen;
  const open = candidates.filter((c) => c.inFlight < cap);
  return open.length === 0 ? 'full' : agent.picker.pick(open, context);
}

function flowBlocked(agent: AgentEntry, c: ConnectionRecord, call: PoolCall): boolean {
  return agent.flow.isBlocked(c.id, call.correlationId, call.kind, chunkBytes(call));
}
