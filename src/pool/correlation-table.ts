// What an agent's router keeps per correlation id: the connection that carried the request's
// headers (affinity, spec §10.4) and whose turn it is (one outstanding event per cid, §10.2). One
// entry holds both, and a call keeps a reference to its entry, so a call costs one hash lookup and
// at most one insert instead of one per concern (issue 13).
// Bounded: at most `max` bound entries (a binding beyond is not stored and is counted); an unbound
// entry lives only while a call of its cid is live. Bound idle entries unused for `ttlMs` are swept
// by maintenance; an entry whose cid has a call in flight is never swept.

export class CorrelationEntry<C> {
  /** The connection bound by the request's headers; undefined while unbound. */
  connectionId: number | undefined = undefined;
  lastUsed = 0;
  /** The call whose event is outstanding; undefined when none is (the entry is idle). */
  current: C | undefined = undefined;
  /** Later calls of the cid waiting for `current`, oldest first. */
  waiting: C[] | undefined = undefined;
}

export class CorrelationTable<C> {
  private readonly entries = new Map<string, CorrelationEntry<C>>();
  private bound = 0;
  /** Bindings not stored because the table was full. */
  rejections = 0;
  /** Bindings removed by the TTL sweep. */
  evictions = 0;

  constructor(
    private ttlMs: number,
    private max: number,
  ) {}

  /** Bindings held (the affinity gauge). */
  get size(): number {
    return this.bound;
  }

  /** New limits (an agent's options changed); entries held stay. */
  setLimits(ttlMs: number, max: number): void {
    this.ttlMs = ttlMs;
    this.max = max;
  }

  /**
   * `call` joins its cid: it has the turn (`entry.current === call`) when no other call of the cid is
   * live, else it waits in line. The call keeps the entry until `leave`.
   */
  enter(cid: string, call: C): CorrelationEntry<C> {
    let e = this.entries.get(cid);
    if (e === undefined) {
      e = new CorrelationEntry<C>();
      this.entries.set(cid, e);
    }
    if (e.current === undefined) e.current = call;
    else (e.waiting ??= []).push(call);
    return e;
  }

  /** `call` of `cid` has ended: the call whose turn it is now, if one waits (ended waiting calls just leave the line). */
  leave(cid: string, e: CorrelationEntry<C>, call: C): C | undefined {
    if (e.current !== call) {
      const waiting = e.waiting;
      const at = waiting === undefined ? -1 : waiting.indexOf(call);
      if (at >= 0) waiting?.splice(at, 1);
      return undefined;
    }
    const next = e.waiting?.shift();
    e.current = next;
    if (next === undefined && e.connectionId === undefined) this.entries.delete(cid);
    return next;
  }

  /** The connection bound to the entry's cid, which counts as a use. */
  boundTo(e: CorrelationEntry<C>, now: number): number | undefined {
    if (e.connectionId !== undefined) e.lastUsed = now;
    return e.connectionId;
  }

  /** Binds (or moves) the entry's cid to a connection; false when the table is full (counted). */
  bind(e: CorrelationEntry<C>, connectionId: number, now: number): boolean {
    if (e.connectionId === undefined) {
      if (this.bound >= this.max) {
        this.rejections++;
        return false;
      }
      this.bound++;
    }
    e.connectionId = connectionId;
    e.lastUsed = now;
    return true;
  }

  /** The connection bound to `cid` (tests and tools; the call path reads its entry). */
  get(cid: string, now: number): number | undefined {
    const e = this.entries.get(cid);
    return e === undefined ? undefined : this.boundTo(e, now);
  }

  /** The request is over: its binding goes (its turn stays with a call still live). */
  delete(cid: string): void {
    const e = this.entries.get(cid);
    if (e !== undefined) this.unbind(cid, e);
  }

  /** Drops every binding to a connection that is gone. */
  dropConnection(connectionId: number): void {
    for (const [cid, e] of this.entries) if (e.connectionId === connectionId) this.unbind(cid, e);
  }

  /** Removes bindings unused for the TTL whose cid has no live call; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const [cid, e] of this.entries) {
      if (e.current === undefined && e.connectionId !== undefined && now - e.lastUsed >= this.ttlMs) {
        this.unbind(cid, e);
        n++;
      }
    }
    this.evictions += n;
    return n;
  }

  private unbind(cid: string, e: CorrelationEntry<C>): void {
    if (e.connectionId !== undefined) {
      e.connectionId = undefined;
      this.bound--;
    }
    if (e.current === undefined) this.entries.delete(cid);
  }
}
