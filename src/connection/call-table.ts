// Per-connection bookkeeping of calls, shared by every transport (spec §10.2): at most one
// outstanding event per reply id, later ones of the same id waiting FIFO. On gRPC a Configure is
// answered by its config_version (§10.7), so its reply id differs from its cid and it is also
// findable by cid. Plain Maps: this runs per message, and the waiting lines are looked up only when
// there are any (nearly never), which spares two string-keyed lookups per call.
import { IdleSignal } from './idle-signal.js';

/** What the table needs of a call; transports add their own fields. */
export interface TableCall {
  readonly cid: string;
  /** The id the agent answers with: the cid, or (gRPC Configure) the config_version. */
  readonly replyId: string;
}

export class CallTable<C extends TableCall> {
  /** The outstanding call per reply id. */
  private readonly outstanding = new Map<string, C>();
  /** Later calls of a reply id that already has one outstanding, FIFO. */
  private readonly waiting = new Map<string, C[]>();
  /** Configure calls whose reply id differs from their cid, by cid (for cancel). */
  private readonly byCid = new Map<string, C>();
  /** Pool-side drain waits here for the table to empty (resolved in remove(), no polling). */
  private readonly idle = new IdleSignal();

  /** Calls outstanding or waiting for their turn. */
  get size(): number {
    let n = this.outstanding.size;
    for (const list of this.waiting.values()) n += list.length;
    return n;
  }

  /** Registers a call; true when it is outstanding now (to be sent), false when it waits its turn. */
  add(call: C): boolean {
    if (call.replyId !== call.cid) this.byCid.set(call.cid, call);
    const busy = this.waiting.size === 0 ? undefined : this.waiting.get(call.replyId);
    if (busy !== undefined) busy.push(call);
    else if (this.outstanding.has(call.replyId)) this.waiting.set(call.replyId, [call]);
    else {
      this.outstanding.set(call.replyId, call);
      return true;
    }
    return false;
  }

  /** Makes a call that waited its turn outstanding. */
  promote(call: C): void {
    this.outstanding.set(call.replyId, call);
  }

  isOutstanding(call: C): boolean {
    return this.outstanding.get(call.replyId) === call;
  }

  /** The outstanding call answered by `replyId`. */
  byReplyId(replyId: string): C | undefined {
    return this.outstanding.get(replyId);
  }

  /** The outstanding call of the caller's `cid` (a Configure's cid differs from its reply id). */
  outstandingByCid(cid: string): C | undefined {
    const configure = this.byCid.get(cid);
    // Without a Configure of that cid, the call outstanding under it as reply id is the one.
    if (configure === undefined) return this.outstanding.get(cid);
    return this.isOutstanding(configure) ? configure : undefined;
  }

  /** Resolves true once no call is outstanding or waiting (at once when none is). */
  whenEmpty(): Promise<boolean> {
    return this.outstanding.size === 0 && this.waiting.size === 0 ? Promise.resolve(true) : this.idle.whenIdle();
  }

  /** Forgets a settled call; returns the next call of its reply id, now due to be sent. */
  remove(call: C): C | undefined {
    if (call.replyId !== call.cid && this.byCid.get(call.cid) === call) this.byCid.delete(call.cid);
    const list = this.waiting.size === 0 ? undefined : this.waiting.get(call.replyId);
    if (this.outstanding.get(call.replyId) === call) {
      this.outstanding.delete(call.replyId);
      const next = list?.shift();
      if (list !== undefined && list.length === 0) this.waiting.delete(call.replyId);
      // A returned `next` is about to be promoted: the table is not empty then.
      if (next === undefined && this.idle.waiting) this.notifyIfEmpty();
      return next;
    }
    const at = list?.indexOf(call) ?? -1;
    if (list !== undefined && at >= 0) {
      list.splice(at, 1);
      if (list.length === 0) this.waiting.delete(call.replyId);
    }
    if (this.idle.waiting) this.notifyIfEmpty();
    return undefined;
  }

  private notifyIfEmpty(): void {
    if (this.outstanding.size === 0 && this.waiting.size === 0) this.idle.notify();
  }

  /** Every call still registered (for failing them all when the stream ends). */
  all(): C[] {
    return [...this.outstanding.values(), ...[...this.waiting.values()].flat()];
  }
}
