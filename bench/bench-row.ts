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

/** `--only` filter: true when every row is wanted or this one is named. */
export function wantedRow(only: ReadonlySet<string> | undefined, name: string): boolean {
  return only === undefined || only.has(name);
}

/** The baseline for a row: the measured row, or its name when it was not measured (--only). */
export function baselineFor(rows: readonly BenchRow[], name: string): BenchRow | string {
  return rows.find((r) => r.name === name) ?? name;
}
