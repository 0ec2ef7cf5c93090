// What a benchmark scenario is: a name, a one-line summary, and a run() that measures its rows
// with the shared settings. Adding a scenario = one file in scenarios/ plus one registry line.

/** Settings every scenario honours (the CLI fills them from --quick / --warmup / --duration / --inflight). */
export interface ScenarioSettings {
  /** Closed-loop warm-up before each row's window (requests run but are not counted). */
  warmupMs: number;
  /** Measurement window of each row. */
  durationMs: number;
  /** Concurrency of the main (throughput) rows. */
  inflight: number;
  /** `--rounds N`: throughput rows measured N times, alternating, reported as medians (bench/rounds.ts; pool-uds). */
  rounds?: number;
  quick: boolean;
  /** Where result files go (`--json-dir`); scenarios that write more than the JSON (scale.svg) put it here. */
  jsonDir?: string;
  /** `--agents N`: the most agent processes a multi-agent scenario (scale) starts. */
  agents?: number;
  /** Run only rows with these names (for profiling one row); baselines left out leave ratios NaN. */
  only?: ReadonlySet<string>;
  /** Progress lines (stderr in the CLI), so the table on stdout stays clean. */
  log(line: string): void;
}

/** One measured configuration. Field names are the JSON contract of bench/results/<scenario>.json. */
export interface BenchRow {
  name: string;
  transport: string;
  /** Connection-host worker threads (0 = all on the main thread; the raw client counts as 0). */
  workers: number;
  inflight: number;
  reqPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  /** CPU of the main thread only, per completed request (see cpuSource). */
  mainCpuUsPerReq: number;
  /** reqPerSec / baseline's reqPerSec (1 for a baseline row; NaN, i.e. null in JSON, when --only left the baseline out). */
  ratioToBaseline: number;
  /** Name of the row this one is compared with (itself for a baseline row). */
  baseline: string;
  // --- beyond the required shape ---
  /** p50Us / baseline's p50Us (what matters at low concurrency). */
  p50VsBaseline: number;
  /** mainCpuUsPerReq / baseline's mainCpuUsPerReq (1 for a baseline row, NaN when it is missing). */
  mainCpuVsBaseline: number;
  /**
   * The main-thread ceiling: 1 / main CPU per call, in calls/s. However many cores the machine has,
   * the pool cannot complete more calls per second than this on one main thread (issue 13).
   */
  mainCeilingPerSec: number;
  /**
   * p50 of the same configuration at 1 in flight (its own p50 for a row at 1 in flight); null when
   * the scenario has no such row. Set only by scenarios that print the per-configuration summary.
   */
  p50At1Us?: number | null;
  /** Main-thread event-loop utilisation over the window, 0..1. */
  eventLoopUtilization: number;
  /** CPU of the whole benchmark process (main + workers + libuv/GC threads) per request. */
  processCpuUsPerReq: number;
  /** CPU of the agent process(es) over the window, in % of one core. */
  agentCpuPct: number | null;
  connectionsPerAgent: number;
  /** Requests counted in the window. */
  requests: number;
  /** Failed requests during warm-up and window (a row with errors is not trustworthy). */
  errors: number;
  firstError: string | null;
  /** 'thread' (/proc per-thread stat) or 'process' (fallback: includes every thread). */
  cpuSource: 'thread' | 'process';
  /** Scenario-specific figures (open-loop drops, body MiB/s, heap per request …): extra table columns, in key order. */
  extra?: Readonly<Record<string, number | string | null>>;
}

export interface ScenarioResult {
  scenario: string;
  rows: BenchRow[];
  /** Lines worth reading next to the table (settings that differ from defaults, caveats). */
  notes: string[];
}

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  /** Honours `--rounds` (others measure each row once and say so). */
  readonly takesRounds?: true;
  run(settings: ScenarioSettings): Promise<ScenarioResult>;
}
