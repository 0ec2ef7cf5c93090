// Checks the main-thread columns every pool-uds / grpc row carries (issue 13): CPU per call against
// the baseline, the main-thread ceiling, and the p50 of the same configuration at 1 in flight.
// Presence and arithmetic only: the values depend on the machine.
import assert from 'node:assert/strict';

type Row = Record<string, unknown>;

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

export function checkMainCpuColumns(rows: readonly Row[]): void {
  for (const row of rows) {
    const name = String(row['name']);
    const cpu = row['mainCpuUsPerReq'] as number;
    assert.ok(typeof cpu === 'number' && cpu >= 0, `${name}: main CPU per call ${cpu}`);
    // The clock has 10 ms ticks: a tiny window may see none, and then there is no ceiling (null in JSON).
    if (cpu > 0) assert.ok(close(row['mainCeilingPerSec'] as number, 1e6 / cpu), `${name}: ceiling ${String(row['mainCeilingPerSec'])}`);
    else assert.equal(row['mainCeilingPerSec'], null, name);
    const base = rows.find((r) => r['name'] === row['baseline']);
    assert.ok(base !== undefined, name);
    const ratio = row['mainCpuVsBaseline'];
    const baseCpu = base['mainCpuUsPerReq'] as number;
    if (base === row) assert.equal(ratio, 1, name);
    else if (baseCpu > 0) assert.ok(close(ratio as number, cpu / baseCpu), `${name}: main ×base ${String(ratio)}`);
    else assert.equal(ratio, null, name);
    const atOne = rows.find((r) => r['inflight'] === 1 && r['name'] === name.replace(/@\d+$/, '@1'));
    assert.equal(row['p50At1Us'], atOne === undefined ? null : atOne['p50Us'], `${name}: p50 at 1 in flight`);
  }
}

/** The summary table is printed with one line per throughput row. */
export function checkSummaryTable(out: string, inflight: number, names: readonly string[]): void {
  const at = out.indexOf(`per configuration at ${inflight} in flight`);
  assert.ok(at >= 0, out);
  const summary = out.slice(at);
  assert.match(summary, /main ceiling calls\/s +p50 at 1 in flight µs/);
  for (const n of names) assert.match(summary, new RegExp(`^${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'), n);
}
