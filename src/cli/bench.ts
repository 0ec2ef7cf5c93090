// `zap bench [scenario…]` (npm run bench): runs benchmark scenarios (all of them when none is
// named), prints one table per scenario on stdout and saves <json-dir>/<scenario>.json.
// Progress goes to stderr. Exit 1 when a row saw failed requests: such numbers mean nothing.
import { parseArgs } from 'node:util';
import type { ScenarioSettings } from '../../bench/scenario.js';
import { UsageError } from './cli-error.js';
import { BENCH_OPTIONS } from './command-table.js';

const DEFAULTS = { warmupMs: 1_000, durationMs: 5_000 };
// Short enough that every scenario together stays near a minute: a smoke run, not a measurement.
const QUICK = { warmupMs: 200, durationMs: 500 };

/** Where the command writes: the table (out) and progress / problems (err). Tests pass their own. */
export interface BenchOutput {
  out(text: string): void;
  err(text: string): void;
}

const STDIO: BenchOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export async function runBench(argv: string[], io: BenchOutput = STDIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: BENCH_OPTIONS,
  });
  // Loaded here so that other sub-commands do not pay for the benchmark code at start-up.
  const { DEFAULT_SCENARIOS, findScenario, SCENARIOS } = await import('../../bench/scenarios/index.js');
  const { formatTable, resultFile, writeResultFile } = await import('../../bench/report.js');
  const { machineInfo } = await import('../../bench/machine.js');
  if (values.list) {
    for (const s of SCENARIOS) io.out(`${s.name.padEnd(14)} ${s.summary}\n`);
    return 0;
  }
  const scenarios =
    positionals.length === 0
      ? [...DEFAULT_SCENARIOS]
      : positionals.map((name) => {
          const s = findScenario(name);
          if (s === undefined) throw new UsageError(`unknown scenario '${name}' ('zap bench --list' lists them)`);
          return s;
        });
  const timing = values.quick ? QUICK : DEFAULTS;
  const settings: ScenarioSettings = {
    warmupMs: integer(values.warmup, timing.warmupMs, '--warmup', 0),
    durationMs: integer(values.duration, timing.durationMs, '--duration', 1),
    inflight: integer(values.inflight, 256, '--inflight', 1),
    rounds: integer(values.rounds, 1, '--rounds', 1),
    quick: values.quick,
    jsonDir: values['json-dir'],
    ...(values.agents === undefined ? {} : { agents: integer(values.agents, 1, '--agents', 1) }),
    ...(values.only === undefined ? {} : { only: new Set(values.only.split(',').map((n) => n.trim())) }),
    log: (line) => io.err(`zap bench: ${line}\n`),
  };

  let failed = false;
  for (const scenario of scenarios) {
    if ((settings.rounds ?? 1) > 1 && scenario.takesRounds !== true) {
      io.err(`zap bench: ${scenario.name}: --rounds applies to pool-uds only; each row is measured once\n`);
    }
    const machine = machineInfo();
    const file = resultFile(await scenario.run(settings), machine);
    if (file.rows.length === 0) {
      failed = true;
      io.err(`zap bench: ${scenario.name}: no row matched --only (nothing written)\n`);
      continue;
    }
    const path = writeResultFile(values['json-dir'], file);
    io.out(`${formatTable(file)}saved ${path}\n\n`);
    for (const row of file.rows) {
      if (row.errors > 0) {
        failed = true;
        io.err(`zap bench: ${scenario.name} ${row.name}: ${row.errors} failed requests (first: ${row.firstError})\n`);
      }
    }
  }
  return failed ? 1 : 0;
}

function integer(text: string | undefined, fallback: number, option: string, min: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${option} must be an integer ≥ ${min}`);
  return n;
}
