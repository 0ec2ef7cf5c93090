// `--rounds N`: a scenario's throughput rows measured N times over in alternation (the baseline,
// then each pool row, then again), each row reported once with the median of its rounds. Ratios are
// taken against the same round's baseline first, then the median: the rows they pair were measured
// seconds apart. On 2 cores one row's main-thread CPU moves by ±10 % between runs (issue 13), more
// than most changes measured against it; the median of paired ratios moves much less.
import { mainCeiling } from './bench-row.js';
import type { BenchRow } from './scenario.js';

/** Median of the numbers that are not NaN; NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The rows of one round, in the same order every round (each ratio against that round's baseline). */
export type Round = readonly BenchRow[];

/**
 * One row per configuration: every figure the median over the rounds, the ratios the median of each
 * round's own ratio; requests and errors summed. The rows of every round must come in the same order.
 */
export function medianOfRounds(rounds: readonly Round[]): BenchRow[] {
  const first = rounds[0] ?? [];
  return first.map((row, i) => {
    const all = rounds.map((round, r) => {
      const same = round[i];
      if (same?.name !== row.name) throw new Error(`round ${r + 1}: row ${i} is ${same?.name ?? 'missing'}, not ${row.name}`);
      return same;
    });
    const m = (figure: (r: BenchRow) => number): number => median(all.map(figure));
    const agentCpu = all.map((r) => r.agentCpuPct).filter((v): v is number => v !== null);
    const mainCpu = m((r) => r.mainCpuUsPerReq);
    return {
      ...row,
      reqPerSec: m((r) => r.reqPerSec),
      p50Us: m((r) => r.p50Us),
      p99Us: m((r) => r.p99Us),
      p999Us: m((r) => r.p999Us),
      mainCpuUsPerReq: mainCpu,
      ratioToBaseline: m((r) => r.ratioToBaseline),
      p50VsBaseline: m((r) => r.p50VsBaseline),
      mainCpuVsBaseline: m((r) => r.mainCpuVsBaseline),
      mainCeilingPerSec: mainCeiling(mainCpu),
      eventLoopUtilization: m((r) => r.eventLoopUtilization),
      processCpuUsPerReq: m((r) => r.processCpuUsPerReq),
      agentCpuPct: agentCpu.length === 0 ? null : median(agentCpu),
      requests: all.reduce((sum, r) => sum + r.requests, 0),
      errors: all.reduce((sum, r) => sum + r.errors, 0),
      firstError: all.find((r) => r.firstError !== null)?.firstError ?? null,
    };
  });
}

/** A note line: each compared row's main-thread CPU × its round's baseline, round by round. */
export function roundsNote(rounds: readonly Round[]): string {
  const first = rounds[0] ?? [];
  const per = first
    .filter((row) => row.baseline !== row.name)
    .map((row) => {
      const ratios = rounds.map((round) => round.find((r) => r.name === row.name)?.mainCpuVsBaseline ?? Number.NaN);
      return `${row.name} ${ratios.map((v) => v.toFixed(2)).join(' ')} (median ${median(ratios).toFixed(2)})`;
    });
  return (
    `${rounds.length} rounds, rows alternating; every figure is the median over the rounds, each ratio ` +
    `taken against the same round's baseline first. Main CPU × baseline per round: ${per.join('; ')}`
  );
}
