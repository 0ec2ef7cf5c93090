// Shared measurement pieces: a bounded closed-loop driver, an HdrHistogram of latencies, and CPU
// sampling of the main thread (Node 20 has no per-thread CPU API, so /proc/self/task/<tid>/
// schedstat, else its stat, is read directly; the main thread's tid is the pid), of the whole
// process, and of peer processes such as the agent.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { ErrorCode, zapError } from '../src/protocol/errors.js';

// --- CPU ----------------------------------------------------------------------------------------

let clockTicks: number | undefined;

/** Kernel clock ticks per second (`getconf CLK_TCK`), 100 when it cannot be asked. */
function clockTicksPerSecond(): number {
  if (clockTicks !== undefined) return clockTicks;
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2_000 }).trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** utime + stime of a /proc/…/stat file in µs, or undefined when it cannot be read. */
export function readStatCpuUs(statPath: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(statPath, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After comm, fields start at 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return ((utime + stime) * 1e6) / clockTicksPerSecond();
}

/** On-CPU ns of a /proc/…/schedstat file (first field, ns resolution) in µs, or undefined. */
export function readSchedstatCpuUs(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const ns = Number(text.split(' ')[0]);
  return Number.isFinite(ns) && ns >= 0 ? ns / 1_000 : undefined;
}

/**
 * A CPU clock (µs) for one thread of this process: its schedstat run time (ns resolution) where
 * the kernel has it, else utime + stime of its stat (10 ms ticks: short windows get coarse
 * figures). The source is chosen once so that a window never mixes the two. Undefined without /proc.
 */
export function threadCpuClock(tid: number): (() => number | undefined) | undefined {
  const base = `/proc/self/task/${tid}`;
  if (readSchedstatCpuUs(`${base}/schedstat`) !== undefined) return () => readSchedstatCpuUs(`${base}/schedstat`);
  if (readStatCpuUs(`${base}/stat`) !== undefined) return () => readStatCpuUs(`${base}/stat`);
  return undefined;
}

export interface MainThreadCpu {
  source: 'thread' | 'process';
  /** Cumulative CPU µs of the main thread (or of the whole process when source is 'process'). */
  read(): number;
}

/** The main thread's CPU clock; falls back to process.cpuUsage() (all threads) without /proc. */
export function mainThreadCpu(): MainThreadCpu {
  const clock = threadCpuClock(process.pid);
  if (clock !== undefined) return { source: 'thread', read: () => clock() ?? Number.NaN };
  return { source: 'process', read: processCpuUs };
}

export function processCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Cumulative CPU µs of another process (every thread of it), or undefined without /proc. */
export function peerCpuUs(pid: number): number | undefined {
  return readStatCpuUs(`/proc/${pid}/stat`);
}

// --- latency ------------------------------------------------------------------------------------

export interface LatencySummary {
  count: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/** Latencies in whole µs, 3 significant digits, up to 60 s. */
export class LatencyHistogram {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

  record(us: number): void {
    this.h.recordValue(Math.min(60_000_000, Math.max(1, Math.round(us))));
  }

  reset(): void {
    this.h.reset();
  }

  summary(): LatencySummary {
    const h = this.h;
    return {
      count: h.totalCount,
      p50Us: h.getValueAtPercentile(50),
      p99Us: h.getValueAtPercentile(99),
      p999Us: h.getValueAtPercentile(99.9),
      maxUs: h.maxValue,
    };
  }

  destroy(): void {
    this.h.destroy();
  }
}

// --- closed-loop driver -------------------------------------------------------------------------

export interface ClosedLoopOptions {
  /** Requests kept outstanding at all times. */
  inflight: number;
  warmupMs: number;
  durationMs: number;
  /** Issues request number `seq`; the promise settles when it completed. */
  request(seq: number): Promise<unknown>;
  /** Peer processes (e.g. the agent) whose CPU is sampled over the window. */
  peerPids?: readonly number[];
  /** A further CPU clock sampled over the window (e.g. the pool's worker threads), µs or null. */
  threadsCpu?: () => number | null;
  /** After the window: how long outstanding requests may take to finish (default 10 s). */
  drainTimeoutMs?: number;
  /** Stop issuing once this many requests failed (default 100). */
  maxErrors?: number;
}

export interface ClosedLoopResult {
  /** Requests completed (successfully) inside the window. */
  requests: number;
  windowMs: number;
  reqPerSec: number;
  latency: LatencySummary;
  mainCpuUs: number;
  cpuSource: 'thread' | 'process';
  processCpuUs: number;
  /** Sum over peerPids, null when none was given or /proc is missing. */
  peerCpuUs: number | null;
  eventLoopUtilization: number;
  errors: number;
  firstError: string | null;
  /** The threadsCpu clock over the window (absent when none was given, null when unreadable). */
  threadsCpuUs?: number | null;
}

interface Snapshot {
  at: number;
  mainCpu: number;
  processCpu: number;
  peerCpu: number | null;
  threadsCpu: number | null;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
}

function peerTotal(pids: readonly number[]): number | null {
  if (pids.length === 0) return null;
  let total = 0;
  for (const pid of pids) {
    const us = peerCpuUs(pid);
    if (us === undefined) return null;
    total += us;
  }
  return total;
}

/**
 * Keeps `inflight` requests outstanding: each completion issues the next one. Warm-up, then a
 * measurement window timed with performance.now(); then no new requests and a bounded drain.
 * Rejects (ZAP_TIMEOUT) only if outstanding requests do not finish within drainTimeoutMs.
 */
export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  if (!Number.isInteger(o.inflight) || o.inflight < 1)
    throw zapError(ErrorCode.InvalidConfig, `inflight must be a positive integer, got ${o.inflight}`);
  const cpu = mainThreadCpu();
  const peers = o.peerPids ?? [];
  const maxErrors = o.maxErrors ?? 100;
  const histogram = new LatencyHistogram();
  const snapshot = (): Snapshot => ({
    at: performance.now(),
    mainCpu: cpu.read(),
    processCpu: processCpuUs(),
    peerCpu: peerTotal(peers),
    threadsCpu: o.threadsCpu?.() ?? null,
    elu: performance.eventLoopUtilization(),
  });

  let phase: 'warmup' | 'window' | 'stopped' = 'warmup';
  let seq = 0;
  let active = 0;
  let requests = 0;
  let errors = 0;
  let firstError: string | null = null;
  let onDrained: (() => void) | undefined;

  const issue = (): void => {
    active++;
    const started = performance.now();
    let pending: Promise<unknown>;
    try {
      pending = o.request(seq++);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      () => done(started, false, undefined),
      (err: unknown) => done(started, true, err),
    );
  };
  const done = (started: number, failed: boolean, err: unknown): void => {
    active--;
    if (failed) {
      errors++;
      firstError ??= describe(err);
    } else if (phase === 'window') {
      histogram.record((performance.now() - started) * 1_000);
      requests++;
    }
    if (phase !== 'stopped' && errors < maxErrors) issue();
    else if (active === 0) onDrained?.();
  };

  const drained = new Promise<void>((resolve) => (onDrained = resolve));
  for (let i = 0; i < o.inflight; i++) issue();

  await sleep(o.warmupMs);
  histogram.reset();
  requests = 0;
  phase = 'window';
  const start = snapshot();
  await sleep(o.durationMs);
  const end = snapshot();
  const counted = requests;
  phase = 'stopped';
  const latency = histogram.summary();
  histogram.destroy();

  if (active > 0) {
    const drainMs = o.drainTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), drainMs)));
    const outcome = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      throw zapError(ErrorCode.Timeout, `${active} requests still outstanding ${drainMs} ms after the measurement window`);
    }
  }

  const windowMs = end.at - start.at;
  return {
    requests: counted,
    windowMs,
    reqPerSec: (counted * 1_000) / windowMs,
    latency,
    mainCpuUs: end.mainCpu - start.mainCpu,
    cpuSource: cpu.source,
    processCpuUs: end.processCpu - start.processCpu,
    peerCpuUs: end.peerCpu === null || start.peerCpu === null ? null : end.peerCpu - start.peerCpu,
    eventLoopUtilization: performance.eventLoopUtilization(end.elu, start.elu).utilization,
    errors,
    firstError,
    ...(o.threadsCpu === undefined
      ? {}
      : { threadsCpuUs: end.threadsCpu === null || start.threadsCpu === null ? null : end.threadsCpu - start.threadsCpu }),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${(err as { code?: unknown }).code ?? err.name}: ${err.message}`;
  return String(err);
}
