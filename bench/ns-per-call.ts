// The timing loop of the one-thread probes (packed-json.ts, reply-read.ts): a step run `calls` times
// per round, its results summed so that the JIT cannot drop it, the best round kept.

/** ns per call of `step`, the best of `rounds` rounds (the first rounds warm the JIT up). */
export function nsPerCall(step: (i: number) => number, calls: number, rounds: number): number {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) sink += step(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / calls);
  }
  if (sink === 0) throw new Error('nothing was measured');
  return best;
}
