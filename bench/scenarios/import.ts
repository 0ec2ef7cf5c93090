// Scenario import: what `import` of the package costs a user. Each row is a fresh `node` child that
// imports one entry by the package's own name (self-reference through the exports map, as a
// consumer resolves it) and exits; the baseline is the same child importing nothing. Runs are
// interleaved across rows so that a busy moment hits every row alike; the medians are compared.
// Target (root only): ≤ 80 ms and ≤ 25 MiB RSS over bare node.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const TARGET_MS = 80;
const TARGET_MIB = 25;
const RUNS = 11;
const QUICK_RUNS = 3;
const CHILD_TIMEOUT_MS = 30_000;
const MIB = 1_048_576;

/** One row: a subpath of the package ('' = bare node, '.' = the root). */
interface Entry {
  row: string;
  subpath: string | undefined;
}

export interface ImportSample {
  /** Spawn to exit, seen by the parent. */
  wallMs: number;
  /** Time the child spent in the import itself. */
  importMs: number;
  /** The child's RSS after the import. */
  rssBytes: number;
}

const PACKAGE_NAME = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string }).name;

function entries(): Entry[] {
  return [
    { row: 'bare node', subpath: undefined },
    { row: 'root', subpath: '.' },
    { row: '/protocol', subpath: './protocol' },
    { row: '/config', subpath: './config' },
    { row: '/testing', subpath: './testing' },
    { row: '/http', subpath: './http' },
    { row: '/machines', subpath: './machines' },
  ];
}

function specifierOf(subpath: string): string {
  return subpath === '.' ? PACKAGE_NAME : `${PACKAGE_NAME}${subpath.slice(1)}`;
}

/**
 * Runs one child: `node --input-type=module -e …` in the package directory, so the bare name
 * resolves through package.json "exports" (self-reference) exactly as it would from node_modules.
 */
export function importOnce(subpath: string | undefined): Promise<ImportSample> {
  const load = subpath === undefined ? '' : `await import(${JSON.stringify(specifierOf(subpath))});`;
  const script = `const t = performance.now(); ${load} const importMs = performance.now() - t;
process.stdout.write(JSON.stringify({ importMs, rssBytes: process.memoryUsage().rss }));`;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: PACKAGE_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - start;
      if (code !== 0)
        return reject(
          zapError(ErrorCode.Error, `import of ${subpath ?? 'nothing'} exited ${String(code)}: ${err.trim().split('\n')[0] ?? ''}`),
        );
      try {
        const { importMs, rssBytes } = JSON.parse(out) as { importMs: number; rssBytes: number };
        resolve({ wallMs, importMs, rssBytes });
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function runImport(settings: ScenarioSettings): Promise<ScenarioResult> {
  const runs = settings.quick ? QUICK_RUNS : RUNS;
  const wanted = entries().filter((e) => e.subpath === undefined || settings.only === undefined || settings.only.has(e.row));
  const samples = new Map<string, ImportSample[]>(wanted.map((e) => [e.row, []]));
  for (let i = 0; i < runs; i++) {
    for (const e of wanted) samples.get(e.row)?.push(await importOnce(e.subpath));
    settings.log(`import: run ${i + 1}/${runs}`);
  }
  const bareWall = median((samples.get('bare node') ?? []).map((s) => s.wallMs));
  const bareRss = median((samples.get('bare node') ?? []).map((s) => s.rssBytes));
  const rows = wanted.map((e): BenchRow => {
    const list = samples.get(e.row) ?? [];
    const wallMs = median(list.map((s) => s.wallMs));
    const rss = median(list.map((s) => s.rssBytes));
    const maxWallMs = Math.max(...list.map((s) => s.wallMs));
    return {
      name: e.row,
      transport: 'import',
      workers: 0,
      inflight: 1,
      reqPerSec: 1_000 / wallMs,
      p50Us: Math.round(wallMs * 1_000),
      p99Us: Math.round(maxWallMs * 1_000),
      p999Us: Math.round(maxWallMs * 1_000),
      mainCpuUsPerReq: 0,
      ratioToBaseline: bareWall / wallMs,
      baseline: 'bare node',
      p50VsBaseline: wallMs / bareWall,
      mainCpuVsBaseline: Number.NaN,
      mainCeilingPerSec: Number.NaN,
      eventLoopUtilization: 0,
      processCpuUsPerReq: 0,
      agentCpuPct: null,
      connectionsPerAgent: 0,
      requests: list.length,
      errors: 0,
      firstError: null,
      // Not measured here (CPU columns stay 0); 'thread' keeps the table from blaming a missing /proc.
      cpuSource: 'thread',
      extra: {
        importMs: median(list.map((s) => s.importMs)),
        overBareMs: wallMs - bareWall,
        rssMiB: rss / MIB,
        overBareMiB: (rss - bareRss) / MIB,
        target: e.subpath === '.' ? `≤ ${TARGET_MS} ms, ≤ ${TARGET_MIB} MiB` : '-',
      },
    };
  });
  return {
    scenario: 'import',
    rows,
    notes: [
      `${runs} fresh node processes per row, interleaved; p50 = median spawn-to-exit wall time, ` +
        'p99/p999 = the slowest run; req/s = starts per second; the CPU columns are not measured (0); ' +
        'importMs = median time inside the import',
      'overBareMs / overBareMiB: median wall time and RSS after the import minus those of the bare row; ' +
        `the root's target is ≤ ${TARGET_MS} ms and ≤ ${TARGET_MIB} MiB`,
      `each child imports '${PACKAGE_NAME}' (or a subpath) by name, resolved through package.json "exports" ` +
        'from the package directory; run after `npm run build`',
      'a loaded machine (see the load average) inflates every row alike, the bare one included: ' +
        'compare the overBare columns, and rerun on an idle box for the absolute figures',
    ],
  };
}

export const importScenario: Scenario = {
  name: 'import',
  summary: 'cost of `import` of the package root and each subpath (wall time, RSS) over bare node, in fresh processes',
  run: runImport,
};
