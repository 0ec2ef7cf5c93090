// One call through the pool, from admission to settlement (spec §10.3).
import type { AgentResponse, CancelReason, EventKind } from '../protocol/types.js';
import type { AgentEntry, ConnectionRecord } from './agent-entry.js';

export type PoolCallState = 'waiting-cid' | 'queued' | 'flow-wait' | 'dispatched' | 'done';

export interface PoolCall {
  readonly id: number;
  readonly agent: AgentEntry;
  readonly kind: EventKind;
  readonly event: unknown;
  readonly correlationId: string;
  readonly startedAt: number;
  /** performance.now() when handed to the host (write → reply duration). */
  dispatchedAt?: number;
  state: PoolCallState;
  connection: ConnectionRecord | undefined;
  /** Sticky session to bind when this call picks a connection. */
  stickySession: string | undefined;
  usedSticky: boolean;
  resolve: (response: AgentResponse) => void;
  reject: (error: unknown) => void;
  /** performance.now() at which the call times out (the router's deadline queue). */
  deadline: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  cancelReason: CancelReason | undefined;
  /** The call's own timeout before any degraded multiplier (spec §10.11). */
  timeoutMs: number;
  /** Breaker generation the call was admitted in (spec §10.10). */
  generation: number;
  /** This connection only (config pushes), bypassing selection and per-cid ordering. */
  forced: ConnectionRecord | undefined;
  /** wait-and-retry flow control: when the call was first held back. */
  flowSince: number | undefined;
}
