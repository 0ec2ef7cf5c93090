// Turns one measurement (closed loop, open loop or a counted run) into a result row, with the
// ratios against its baseline row. Shared by the scenarios added after pool-uds.
import type { ClosedLoopResult } from './measure.js';
import type { BenchRow } from './scenario.js';

export interface RowSpec {
  name: string;
  transport: string;
  workers: number;
  inflight: number;
  connectionsPerAgent: number;
  /**
   * The baseline row, or only its name when --only left it out (ratios NaN), or undefined when
   * this row IS the baseline (ratios 1).
   */
  base: BenchRow | string | undefined;
  extra?: Readonly<Record<string, number | string | null>>;
}

export function toBenchRow(spec: RowSpec, r: ClosedLoopResult): BenchRow {
  const perReq = (us: number) => (r.requests === 0 ? Number.NaN : us / r.requests);
  const { base } = spec;
  const ratio = (mine: number, theirs: (b: BenchRow) => number): number =>
    base === undefined ? 1 : typeof base === 'string' ? Number.NaN : mine / theirs(base);
  return {
    name: spec.name,
    transport: spec.transport,
    workers: spec.workers,
    inflight: spec.inflight,
    reqPerSec: r.reqPerSec,
    p50Us: r.latency.p50Us,
    p99Us: r.latency.p99Us,
    p999Us: r.latency.p999Us,
    mainCpuUsPerReq: perReq(r.mainCpuUs),
    ratioToBaseline: ratio(r.reqPerSec, (b) => b.reqPerSec),
    baseline: base === undefined ? spec.name : typeof base === 'string' ? base : base.name,
    p50VsBaseline: ratio(r.latency.p50Us, (b) => b.p50Us),
    mainCpuVsBaseline: ratio(perReq(r.mainCpuUs), (b) => b.mainCpuUsPerReq),
    mainCeilingPerSec: mainCeiling(perReq(r.mainCpuUs)),
    eventLoopUtilization: r.eventLoopUtilization,
    processCpuUsPerReq: perReq(r.processCpuUs),
    agentCpuPct: r.peerCpuUs === null ? null : (r.peerCpuUs / (r.windowMs * 1_000)) * 100,
    connectionsPerAgent: spec.connectionsPerAgent,
    requests: r.requests,
    errors: r.errors,
    firstError: r.firstError,
    cpuSource: r.cpuSource,
    ...(spec.extra === undefined ? {} : { extra: spec.extra }),
  };
}

/** 1 / main CPU per call in calls/s (NaN when nothing was measured). */
export function mainCeiling(mainCpuUsPerReq: number): number {
  return mainCpuUsPerReq > 0 ? 1e6 / mainCpuUsPerReq : Number.NaN;
}

/** `name@N` → `name@1`: the same configuration at 1 in flight. */
function atOneInflight(name: string): string {
  return name.replace(/@\d+$/, '@1');
}

/**
 * Sets p50At1Us on every row: its own p50 at 1 in flight, else the p50 of the row of the same
 * configuration at 1 in flight (`pool-w1@256` → `pool-w1@1`), else null. Makes issue 13's table
 * (throughput, main CPU, ceiling and low-load latency per configuration) printable from one run.
 */
export function withP50At1(rows: readonly BenchRow[]): BenchRow[] {
  return rows.map((row) => {
    if (row.inflight === 1) return { ...row, p50At1Us: row.p50Us };
    const one = rows.find((r) => r.inflight === 1 && r.name === atOneInflight(row.name));
    return { ...row, p50At1Us: one === undefined ? null : one.p50Us };
  });
}

/** `--only` filter: true when every row is wanted or this one is named. */
export function wantedRow(only: ReadonlySet<string> | undefined, name: string): boolean {
  return only === undefined || only.has(name);
}

/** The baseline for a row: the measured row, or its name when it was not measured (--only). */
export function baselineFor(rows: readonly BenchRow[], name: string): BenchRow | string {
  return rows.find((r) => r.name === name) ?? name;
}
