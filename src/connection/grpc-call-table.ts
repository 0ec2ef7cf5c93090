// Per-connection bookkeeping of gRPC calls (spec §10.2): at most one outstanding event per reply
// id, later ones of the same id waiting FIFO; Configure calls also findable by their cid, since
// the agent answers them by config_version (§10.7). Plain Maps: this runs per message.
import type { CancelReason } from '../protocol/types.js';
import type { CallCompletion } from './framed-connection.js';

export interface GrpcCall {
  readonly cid: string;
  /** The id the agent answers with: the cid, or a Configure's config_version. */
  readonly replyId: string;
  readonly frame: Buffer;
  readonly cancelReason: CancelReason | undefined;
  /** Cleared when the call settles. */
  done: CallCompletion | undefined;
  readonly token: number;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Handed to grpc-js (a Cancel is needed from now on; before, withdrawing is enough). */
  written: boolean;
}

export class GrpcCallTable {
  /** The outstanding call per reply id. */
  private readonly outstanding = new Map<string, GrpcCall>();
  /** Later calls of a reply id that already has one outstanding, FIFO. */
  private readonly waiting = new Map<string, GrpcCall[]>();
  /** Configure calls whose reply id differs from their cid, by cid (for cancel). */
  private readonly byCid = new Map<string, GrpcCall>();

  /** Calls outstanding or waiting for their turn. */
  get size(): number {
    let n = this.outstanding.size;
    for (const list of this.waiting.values()) n += list.length;
    return n;
  }

  /** Registers a call; true when it is outstanding now (to be sent), false when it waits its turn. */
  add(call: GrpcCall): boolean {
    if (call.replyId !== call.cid) this.byCid.set(call.cid, call);
    const busy = this.waiting.get(call.replyId);
    if (busy !== undefined) busy.push(call);
    else if (this.outstanding.has(call.replyId)) this.waiting.set(call.replyId, [call]);
    else {
      this.outstanding.set(call.replyId, call);
      return true;
    }
    return false;
  }

  /** Makes a call that waited its turn outstanding. */
  promote(call: GrpcCall): void {
    this.outstanding.set(call.replyId, call);
  }

  isOutstanding(call: GrpcCall): boolean {
    return this.outstanding.get(call.replyId) === call;
  }

  /** The outstanding call answered by `replyId`. */
  byReplyId(replyId: string): GrpcCall | undefined {
    return this.outstanding.get(replyId);
  }

  /** The outstanding call of the caller's `cid` (a Configure's cid differs from its reply id). */
  outstandingByCid(cid: string): GrpcCall | undefined {
    const call = this.byCid.get(cid) ?? this.outstanding.get(cid);
    return call !== undefined && this.isOutstanding(call) ? call : undefined;
  }

  /** Forgets a settled call; returns the next call of its reply id, now due to be sent. */
  remove(call: GrpcCall): GrpcCall | undefined {
    if (call.replyId !== call.cid && this.byCid.get(call.cid) === call) this.byCid.delete(call.cid);
    const list = this.waiting.get(call.replyId);
    if (this.outstanding.get(call.replyId) === call) {
      this.outstanding.delete(call.replyId);
      const next = list?.shift();
      if (list !== undefined && list.length === 0) this.waiting.delete(call.replyId);
      return next;
    }
    const at = list?.indexOf(call) ?? -1;
    if (list !== undefined && at >= 0) {
      list.splice(at, 1);
      if (list.length === 0) this.waiting.delete(call.replyId);
    }
    return undefined;
  }

  /** Every call still registered (for failing them all when the stream ends). */
  all(): GrpcCall[] {
    return [...this.outstanding.values(), ...[...this.waiting.values()].flat()];
  }
}
