// Call deadlines of the router in one binary min-heap with a single timer armed for the earliest
// one. A setTimeout + clearTimeout per call costs about 1 µs of V8 runtime on the hot path; a heap
// push costs a fraction of that. Entries of calls that settled (or whose deadline moved) are
// dropped lazily when they reach the top, and swept out whenever they outnumber the live calls
// (a settled call must not stay reachable for its whole timeout: memory stays bounded).
import { performance } from 'node:perf_hooks';

/**
 * Settled entries allowed beyond twice the live count before a sweep. Small: a settled call kept
 * here outlives the young generation and is promoted (old-space GC), so few should wait.
 */
const SWEEP_SLACK = 64;

export interface Deadline {
  /** performance.now() at which the call times out; an entry counts only while it matches. */
  deadline: number;
}

export class DeadlineQueue<T extends Deadline> {
  private heap: Array<{ at: number; item: T }> = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(
    private readonly expire: (item: T) => void,
    /** True once the item no longer needs its deadline (settled). */
    private readonly isDone: (item: T) => boolean,
    /** How many items are live now (the sweep keeps the heap under twice that, plus slack). */
    private readonly liveCount: () => number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `item` at `item.deadline` (call again after moving the deadline). */
  push(item: T): void {
    if (this.heap.length > 2 * this.liveCount() + SWEEP_SLACK) this.sweep();
    const entry = { at: item.deadline, item };
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as { at: number; item: T };
      if (p.at <= entry.at) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
    if (entry.at < this.armedFor) this.arm(entry.at);
  }

  /**
   * Rebuilds the heap in place from the entries that still count (O(n), amortised over ≥ n/2
   * pushes). Calls with one timeout are pushed in deadline order, so the kept entries are usually
   * sorted already, and a sorted array is a valid min-heap: the sort runs only when they are not.
   */
  private sweep(): void {
    const heap = this.heap;
    let kept = 0;
    let sorted = true;
    for (const e of heap) {
      if (this.isDone(e.item) || e.item.deadline !== e.at) continue;
      if (kept > 0 && (heap[kept - 1] as { at: number }).at > e.at) sorted = false;
      heap[kept++] = e;
    }
    heap.length = kept;
    if (!sorted) heap.sort((a, b) => a.at - b.at);
  }

  clear(): void {
    this.heap = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
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
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) return;
      if (this.isDone(top.item) || top.item.deadline !== top.at) {
        this.pop();
        continue;
      }
      // A timer may fire a little early; whatever is not due yet waits for the next one.
      if (top.at > now + 0.5) return this.arm(top.at);
      this.pop();
      this.expire(top.item);
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && (heap[r] as { at: number }).at < (heap[l] as { at: number }).at ? r : l;
      if ((heap[child] as { at: number }).at >= last.at) break;
      heap[i] = heap[child] as { at: number; item: T };
      i = child;
    }
    heap[i] = last;
  }
}
