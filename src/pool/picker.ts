// Connection selection (spec §10.4). The router keeps one immutable candidate list per agent
// (selectable connections in creation order, rebuilt only when a connection changes state) and
// the call path only runs `pick()` — the grpc-js picker model.

/** What a picker sees of a connection. `inFlight` and the EWMAs are kept current by the router. */
export interface ConnectionView {
  /** Stable id, increasing in creation order. */
  readonly id: number;
  /** Outstanding events on this connection. */
  readonly inFlight: number;
  /** EWMA (α 0.1) of failure indicators, 1 = failed call. */
  readonly errorEwma: number;
  /** EWMA (α 0.1) of successful-call latency in ms; null until the first success. */
  readonly latencyEwmaMs: number | null;
}

export interface PickContext {
  readonly agentId: string;
  readonly correlationId: string;
}

/** A user-supplied picker: return one of `candidates` (or undefined for none). */
export type CustomPicker = (candidates: readonly ConnectionView[], context: PickContext) => ConnectionView | undefined;

export interface Picker {
  pick<C extends ConnectionView>(candidates: readonly C[], context: PickContext): C | undefined;
}
