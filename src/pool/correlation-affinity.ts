// Correlation affinity (spec §10.4): the connection that carried a request's headers serves every
// later event of that cid. Bounded: at most `max` entries (a new one beyond is not stored and is
// counted); entries unused for `ttlMs` are swept by maintenance.

interface Entry {
  connectionId: number;
  lastUsed: number;
}

export class CorrelationAffinity {
  private readonly entries = new Map<string, Entry>();
  /** Entries not stored because the map was full. */
  rejections = 0;
  /** Entries removed by the TTL sweep. */
  evictions = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(cid: string, now: number): number | undefined {
    const e = this.entries.get(cid);
    if (e === undefined) return undefined;
    e.lastUsed = now;
    return e.connectionId;
  }

  /** Stores or updates the binding; false when the map is at capacity (counted). */
  set(cid: string, connectionId: number, now: number): boolean {
    // Below the cap one hash operation does it (this runs for every request's headers).
    if (this.entries.size >= this.max && !this.entries.has(cid)) {
      this.rejections++;
      return false;
    }
    this.entries.set(cid, { connectionId, lastUsed: now });
    return true;
  }

  delete(cid: string): void {
    this.entries.delete(cid);
  }

  /** Drops every binding to a connection that is gone. */
  dropConnection(connectionId: number): void {
    for (const [cid, e] of this.entries) if (e.connectionId === connectionId) this.entries.delete(cid);
  }

  /** Removes entries unused for the TTL; returns how many. */
  sweep(now: number): number {
    let n = 0;
    for (const [cid, e] of this.entries) {
      if (now - e.lastUsed >= this.ttlMs) {
        this.entries.delete(cid);
        n++;
      }
    }
    this.evictions += n;
    return n;
  }
}
