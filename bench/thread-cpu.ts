// CPU of a chosen set of this process's threads, read from /proc/self/task/<tid>/ (Node 20
// has no per-thread CPU clock and names every thread "node", so the pool's worker threads are
// found as the threads that appeared while the pool started).
import { readdirSync } from 'node:fs';
import { threadCpuClock } from './measure.js';

/** Thread ids of this process, or [] without /proc. */
export function listThreads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter(Number.isInteger);
  } catch {
    return [];
  }
}

/** Threads in `after` that were not in `before`. */
export function newThreads(before: readonly number[], after: readonly number[]): number[] {
  const old = new Set(before);
  return after.filter((tid) => !old.has(tid));
}

/**
 * A clock of the summed CPU µs of `tids` (one source per thread, chosen now); it reads null once a
 * thread cannot be read (exited, or no /proc).
 */
export function threadsCpuClock(tids: readonly number[]): () => number | null {
  const clocks = tids.map((tid) => threadCpuClock(tid));
  return () => {
    let total = 0;
    for (const clock of clocks) {
      const us = clock?.();
      if (us === undefined) return null;
      total += us;
    }
    return total;
  };
}
