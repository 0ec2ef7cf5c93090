// Presents a scenario's result: a fixed-width table for people, a JSON file for tools and for
// comparing runs (bench/results/<scenario>.json, git-ignored).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine.js';
import type { BenchRow, ScenarioResult } from './scenario.js';

export interface ResultFile {
  scenario: string;
  machine: MachineInfo;
  rows: BenchRow[];
  notes: string[];
  createdAt: string;
}

export function resultFile(result: ScenarioResult, machine: MachineInfo): ResultFile {
  return { scenario: result.scenario, machine, rows: result.rows, notes: result.notes, createdAt: new Date().toISOString() };
}

/** Writes <dir>/<scenario>.json and returns its path. */
export function writeResultFile(dir: string, file: ResultFile): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${file.scenario}.json`);
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  return path;
}

interface Column {
  title: string;
  cell(row: BenchRow): string;
}

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const COLUMNS: Column[] = [
  { title: 'row', cell: (r) => r.name },
  { title: 'workers', cell: (r) => String(r.workers) },
  { title: 'conns', cell: (r) => String(r.connectionsPerAgent) },
  { title: 'inflight', cell: (r) => String(r.inflight) },
  { title: 'req/s', cell: (r) => int(r.reqPerSec) },
  { title: '×base', cell: (r) => fixed(r.ratioToBaseline, 2) },
  { title: 'p50 µs', cell: (r) => int(r.p50Us) },
  { title: 'p99 µs', cell: (r) => int(r.p99Us) },
  { title: 'p99.9 µs', cell: (r) => int(r.p999Us) },
  { title: 'p50×base', cell: (r) => fixed(r.p50VsBaseline, 2) },
  { title: 'main CPU µs/req', cell: (r) => fixed(r.mainCpuUsPerReq, 2) },
  { title: 'main×base', cell: (r) => fixed(r.mainCpuVsBaseline, 2) },
  { title: 'main ceiling/s', cell: (r) => int(r.mainCeilingPerSec) },
  { title: 'proc CPU µs/req', cell: (r) => fixed(r.processCpuUsPerReq, 2) },
  { title: 'main ELU', cell: (r) => fixed(r.eventLoopUtilization, 2) },
  { title: 'agent CPU%', cell: (r) => (r.agentCpuPct === null ? '-' : fixed(r.agentCpuPct, 0)) },
  { title: 'errors', cell: (r) => String(r.errors) },
];

/** Columns for the rows' `extra` keys, in order of first appearance. */
function extraColumns(rows: readonly BenchRow[]): Column[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  return keys.map((key) => ({
    title: key,
    cell: (r) => {
      const v = r.extra?.[key];
      if (typeof v === 'string') return v;
      if (typeof v !== 'number') return '-';
      return Number.isInteger(v) || Math.abs(v) >= 100 ? int(v) : fixed(v, 2);
    },
  }));
}

// Issue 13's table: one line per configuration at the throughput load, with its low-load p50.
const SUMMARY_COLUMNS: Column[] = [
  { title: 'row', cell: (r) => r.name },
  { title: 'req/s', cell: (r) => int(r.reqPerSec) },
  { title: '× raw', cell: (r) => fixed(r.ratioToBaseline, 2) },
  { title: 'main CPU µs/req', cell: (r) => fixed(r.mainCpuUsPerReq, 2) },
  { title: 'main × raw', cell: (r) => fixed(r.mainCpuVsBaseline, 2) },
  { title: 'main ceiling calls/s', cell: (r) => int(r.mainCeilingPerSec) },
  { title: 'p50 at 1 in flight µs', cell: (r) => (r.p50At1Us == null ? '-' : int(r.p50At1Us)) },
];

function renderColumns(columns: readonly Column[], rows: readonly BenchRow[]): string[] {
  const cells = rows.map((r) => columns.map((c) => c.cell(r)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (values: string[]): string =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
  return [line(columns.map((c) => c.title)), ...cells.map(line)];
}

/** The per-configuration summary, for scenarios whose rows carry p50At1Us; [] otherwise. */
function summaryLines(rows: readonly BenchRow[]): string[] {
  if (!rows.some((r) => r.p50At1Us !== undefined)) return [];
  const load = Math.max(...rows.map((r) => r.inflight));
  const top = rows.filter((r) => r.inflight === load);
  return [
    '',
    `per configuration at ${load} in flight (main ceiling = 1 / main CPU per call; p50 from the same configuration at 1 in flight):`,
    ...renderColumns(SUMMARY_COLUMNS, top),
  ];
}

export function formatTable(file: ResultFile): string {
  const columns = [...COLUMNS, ...extraColumns(file.rows)];
  const m = file.machine;
  const out = [
    `${file.scenario} — ${m.cpuModel}, ${m.cores} cores, node ${m.node}, load average before ${m.loadAvgBefore}`,
    ...renderColumns(columns, file.rows),
  ];
  const cpu = file.rows.find((r) => r.cpuSource === 'process');
  if (cpu !== undefined) out.push('note: /proc is missing: "main CPU" is process.cpuUsage() and includes worker threads');
  for (const n of file.notes) out.push(`note: ${n}`);
  out.push(...summaryLines(file.rows));
  return `${out.join('\n')}\n`;
}
