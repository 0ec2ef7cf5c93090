// One call through the pool, from admission to settlement (spec §10.3).
import type { AgentResponse, CancelReason, EventKind } from '../protocol/types.js';
import type { AgentEntry, ConnectionRecord } from './agent-entry.js';

export type PoolCallState = 'waiting-cid' | 'queued' | 'dispatched' | 'done';

export interface PoolCall {
  readonly id: number;
  readonly agent: AgentEntry;
  readonly kind: EventKind;
  readonly event: unknown;
  readonly correlationId: string;
  readonly startedAt: number;
  state: PoolCallState;
  connection: ConnectionRecord | undefined;
  /** Sticky session to bind when this call picks a connection. */
  stickySession: string | undefined;
  usedSticky: boolean;
  resolve: (response: AgentResponse) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  cancelReason: CancelReason | undefined;
}
