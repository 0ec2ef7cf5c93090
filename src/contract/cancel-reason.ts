// Which Cancel reason an aborted call sends (spec §10.9): the `cancelReason` option; else the
// signal's reason when it is one of the six names; else client_disconnect.
import { CANCEL_REASONS, type CancelReason } from '../protocol/types.js';

export function cancelReasonFor(option: CancelReason | undefined, signal: AbortSignal | undefined): CancelReason {
  if (option !== undefined) return option;
  const reason: unknown = signal?.reason;
  if (typeof reason === 'string' && (CANCEL_REASONS as readonly string[]).includes(reason)) return reason as CancelReason;
  return 'client_disconnect';
}
