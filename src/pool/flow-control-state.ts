// Agent flow control as the pool keeps it (spec §10.5, D7): a `paused` flag and an optional byte
// `capacity` per connection (signals without a cid) and per (agent, cid) (signals with one, valid
// on any connection of that agent), plus the blocking rule. Decoding lives in protocol/flow-control.ts;
// what a blocked call does (fail-closed / fail-open / wait-and-retry) is the router's business.
import type { EventKind, FlowControlSignal } from '../protocol/types.js';
import { FlowAction } from '../protocol/types.js';

export interface FlowState {
  paused: boolean;
  /** Bytes the agent can take per body chunk; null = no limit announced. */
  capacity: number | null;
}

/**
 * RequestHeaders, RequestBodyChunk, ResponseBodyChunk, GuardrailInspect; nothing else waits on the
 * agent. Compared, not looked up in a set: this runs for every call.
 */
export function isFlowControlled(kind: EventKind): boolean {
  return kind === 'request_headers' || kind === 'request_body_chunk' || kind === 'response_body_chunk' || kind === 'guardrail_inspect';
}

/** Kinds whose connection choice first skips paused connections (blocked only when all are paused). */
export function skipsPausedConnections(kind: EventKind): boolean {
  return kind === 'request_headers' || kind === 'guardrail_inspect';
}

function isBodyChunk(kind: EventKind): boolean {
  return kind === 'request_body_chunk' || kind === 'response_body_chunk';
}

export function createFlowState(): FlowState {
  return { paused: false, capacity: null };
}

/** What one signal did to its scope. `pause` feeds `…_flow_control_pauses_total`. */
export type FlowSignalEffect = 'pause' | 'resume' | 'capacity' | 'ignored';

/** Applies PAUSE / RESUME / UPDATE_CAPACITY to one scope; action 0 and capacity-less updates are ignored. */
export function applyFlowAction(state: FlowState, action: number, bufferAvailable: number | null): FlowSignalEffect {
  switch (action) {
    case FlowAction.Pause:
      state.paused = true;
      return 'pause';
    case FlowAction.Resume:
      state.paused = false;
      state.capacity = null;
      return 'resume';
    case FlowAction.UpdateCapacity:
      if (bufferAvailable === null) return 'ignored';
      if (bufferAvailable <= 0) {
        // Capacity 0 means "stop sending" (§10.5): the same as PAUSE, counted as one.
        state.paused = true;
        return 'pause';
      }
      state.paused = false;
      state.capacity = bufferAvailable;
      return 'capacity';
    default:
      return 'ignored';
  }
}

/**
 * The §10.5 blocking rule for one call on one connection: not a flow-controlled kind → never;
 * connection or cid paused → blocked; body chunks also when `chunkBytes` exceeds the smaller
 * announced capacity. Either scope may be absent (no signal received).
 */
export function isBlocked(connection: FlowState | undefined, cid: FlowState | undefined, kind: EventKind, chunkBytes = 0): boolean {
  if (!isFlowControlled(kind)) return false;
  if (connection?.paused === true || cid?.paused === true) return true;
  if (!isBodyChunk(kind)) return false;
  const a = connection?.capacity ?? null;
  const b = cid?.capacity ?? null;
  const limit = a === null ? b : b === null ? a : Math.min(a, b);
  return limit !== null && chunkBytes > limit;
}

function isDefault(s: FlowState): boolean {
  return !s.paused && s.capacity === null;
}

/** Default bound on per-cid entries: an agent cannot grow our memory with signals for made-up cids. */
const DEFAULT_MAX_CID_FLOW_STATES = 100_000;

/**
 * All flow state of one agent. Entries back at the default (not paused, no capacity) are dropped,
 * so a map only holds scopes that currently restrict something.
 */
export class AgentFlowState {
  private readonly connections = new Map<number, FlowState>();
  private readonly cids = new Map<string, FlowState>();
  /** PAUSE signals (and capacity 0) received: `…_flow_control_pauses_total`. */
  pauses = 0;
  /** Cid signals dropped because `maxCidStates` scopes already existed. */
  droppedCidSignals = 0;

  constructor(readonly maxCidStates = DEFAULT_MAX_CID_FLOW_STATES) {}

  /** Applies a decoded FlowControl that arrived on `connectionId`; a cid scopes it to that request. */
  apply(connectionId: number, signal: FlowControlSignal): FlowSignalEffect {
    const cid = signal.correlationId;
    const effect =
      cid === null
        ? this.applyTo(this.connections, connectionId, signal, Infinity)
        : this.applyTo(this.cids, cid, signal, this.maxCidStates);
    if (effect === 'pause') this.pauses += 1;
    return effect;
  }

  private applyTo<K>(map: Map<K, FlowState>, key: K, signal: FlowControlSignal, max: number): FlowSignalEffect {
    const existing = map.get(key);
    const state = existing ?? createFlowState();
    const effect = applyFlowAction(state, signal.action, signal.bufferAvailable);
    if (isDefault(state)) {
      if (existing !== undefined) map.delete(key);
    } else if (existing === undefined) {
      if (map.size >= max) this.droppedCidSignals += 1;
      else map.set(key, state);
    }
    return effect;
  }

  connection(connectionId: number): FlowState | undefined {
    return this.connections.get(connectionId);
  }

  cid(correlationId: string): FlowState | undefined {
    return this.cids.size === 0 ? undefined : this.cids.get(correlationId);
  }

  isConnectionPaused(connectionId: number): boolean {
    return this.connections.get(connectionId)?.paused === true;
  }

  isBlocked(connectionId: number, correlationId: string, kind: EventKind, chunkBytes = 0): boolean {
    if (!isFlowControlled(kind)) return false;
    // Fast exit for the usual case: no agent has asked for anything.
    if (this.connections.size === 0 && this.cids.size === 0) return false;
    return isBlocked(this.connections.get(connectionId), this.cids.get(correlationId), kind, chunkBytes);
  }

  /** The connection is gone (§10.8): its state goes with it. */
  dropConnection(connectionId: number): void {
    this.connections.delete(connectionId);
  }

  /** endRequest(cid) (§10.1). */
  endRequest(correlationId: string): void {
    // Every request ends here: no hash lookup while no request is paused (nearly always).
    if (this.cids.size > 0) this.cids.delete(correlationId);
  }

  get connectionScopes(): number {
    return this.connections.size;
  }

  get cidScopes(): number {
    return this.cids.size;
  }
}
