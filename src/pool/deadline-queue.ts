// Call deadlines of the router in one binary min-heap with a single timer armed for the earliest
// one. A setTimeout + clearTimeout per call costs about 1 µs of V8 runtime on the hot path; a heap
// push costs a fraction of that. An entry is a (time, call id) pair in two typed arrays: a push
// allocates nothing, the heap keeps no settled call alive, and pruning it reads no call, since a call
// gone cold in flight costs a cache miss to read (issue 13). Entries of calls that settled (or whose
// deadline moved) are dropped when they reach the top, and swept out whenever they outnumber the live
// calls enough (memory stays bounded by the live calls).
import { performance } from 'node:perf_hooks';

/** Settled entries allowed beyond three per live call before a sweep (a moved deadline leaves a live call two). */
const SWEEP_SLACK = 64;
const INITIAL_ENTRIES = 256;

export interface Deadline {
  /** performance.now() at which the call times out; an entry counts only while it matches. */
  deadline: number;
}

export class DeadlineQueue<T extends Deadline> {
  private at = new Float64Array(INITIAL_ENTRIES);
  private ids = new Float64Array(INITIAL_ENTRIES);
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(
    private readonly expire: (item: T) => void,
    /**
     * The live item of an id; undefined once it settled. The sweep asks it of every entry, so it must
     * answer without reading the item (LiveCalls.get does).
     */
    private readonly lookup: (id: number) => T | undefined,
    /** How many items are live now (the sweep keeps the heap under three times that, plus slack). */
    private readonly liveCount: () => number,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Entries the arrays have room for (memory tests). */
  get capacity(): number {
    return this.at.length;
  }

  /** Schedules item `id` at `at` (push again after moving its deadline; the old entry is then skipped). */
  push(id: number, at: number): void {
    if (this.count > 3 * this.liveCount() + SWEEP_SLACK) this.sweep();
    if (this.count === this.at.length) this.resize(this.count * 2);
    const times = this.at;
    const ids = this.ids;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((times[parent] as number) <= at) break;
      times[i] = times[parent] as number;
      ids[i] = ids[parent] as number;
      i = parent;
    }
    times[i] = at;
    ids[i] = id;
    if (at < this.armedFor) this.arm(at);
  }

  /**
   * Rebuilds the heap in place from the entries of live items (O(n), amortised over the ≥ n/3
   * pushes since the last). Calls with one timeout are pushed in deadline order, so the kept entries
   * are usually sorted already, and a sorted array is a valid min-heap: the sort runs only when they
   * are not. The arrays shrink again after a burst.
   */
  private sweep(): void {
    const times = this.at;
    const ids = this.ids;
    let kept = 0;
    let sorted = true;
    for (let i = 0; i < this.count; i++) {
      const id = ids[i] as number;
      if (this.lookup(id) === undefined) continue;
      const at = times[i] as number;
      if (kept > 0 && (times[kept - 1] as number) > at) sorted = false;
      times[kept] = at;
      ids[kept++] = id;
    }
    this.count = kept;
    if (!sorted) this.sortEntries();
    if (this.at.length > INITIAL_ENTRIES && kept * 4 < this.at.length) this.resize(Math.max(INITIAL_ENTRIES, kept * 2));
  }

  clear(): void {
    this.count = 0;
    this.resize(INITIAL_ENTRIES);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  private sortEntries(): void {
    const order = Array.from({ length: this.count }, (_, i) => i).sort((a, b) => (this.at[a] as number) - (this.at[b] as number));
    const times = order.map((i) => this.at[i] as number);
    const ids = order.map((i) => this.ids[i] as number);
    this.at.set(times);
    this.ids.set(ids);
  }

  private resize(entries: number): void {
    const times = new Float64Array(entries);
    const ids = new Float64Array(entries);
    times.set(this.at.subarray(0, this.count));
    ids.set(this.ids.subarray(0, this.count));
    this.at = times;
    this.ids = ids;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fireBound, Math.max(0, at - performance.now()));
    // Deadlines alone never keep a process alive: live calls have live sockets (or workers) anyway.
    this.timer.unref();
  }

  private readonly fireBound = () => this.fire();

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    while (this.count > 0) {
      const at = this.at[0] as number;
      const item = this.lookup(this.ids[0] as number);
      if (item === undefined || item.deadline !== at) {
        this.pop();
        continue;
      }
      // A timer may fire a little early; whatever is not due yet waits for the next one.
      if (at > now + 0.5) return this.arm(at);
      this.pop();
      this.expire(item);
    }
  }

  private pop(): void {
    const n = --this.count;
    if (n === 0) return;
    const times = this.at;
    const ids = this.ids;
    const lastAt = times[n] as number;
    const lastId = ids[n] as number;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && (times[r] as number) < (times[l] as number) ? r : l;
      if ((times[child] as number) >= lastAt) break;
      times[i] = times[child] as number;
      ids[i] = ids[child] as number;
      i = child;
    }
    times[i] = lastAt;
    ids[i] = lastId;
  }
}
