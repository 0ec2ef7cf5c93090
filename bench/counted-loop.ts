// A closed loop that runs a fixed NUMBER of requests (not a time window) and samples memory: RSS
// and heapUsed after a full GC once the warm-up share of the requests completed, and again at the
// end. The memory scenario's drift rows: does the process grow with the number of requests served?
import { performance } from 'node:perf_hooks';
import { ErrorCode, zapError } from '../src/protocol/errors.js';
import { forceGc } from './gc.js';
import { LatencyHistogram, mainThreadCpu, peerCpuUs, processCpuUs, type ClosedLoopResult } from './measure.js';

export interface CountedLoopOptions {
  inflight: number;
  /** Requests in all, warm-up included. */
  total: number;
  /** Requests completed before the first memory sample and the measured part start. */
  warmupCount: number;
  request(seq: number): Promise<unknown>;
  peerPids?: readonly number[];
  /** Give up (ZAP_TIMEOUT) when the run takes longer than this. */
  timeoutMs: number;
  maxErrors?: number;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  /** V8 heap reserved (used or not): RSS can grow here while heapUsed stays flat. */
  heapTotal: number;
  /** Memory of Buffers / ArrayBuffers and other objects outside the V8 heap. */
  external: number;
}

/** Rate, latency and CPU cover the requests after the warm-up. */
export interface CountedLoopResult extends ClosedLoopResult {
  warm: MemorySample;
  end: MemorySample;
}

function sampleMemory(): MemorySample {
  forceGc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}

export async function runCountedLoop(o: CountedLoopOptions): Promise<CountedLoopResult> {
  if (!(o.warmupCount >= 0 && o.warmupCount < o.total)) throw zapError(ErrorCode.InvalidConfig, 'warmupCount must be below total');
  const cpu = mainThreadCpu();
  const peers = o.peerPids ?? [];
  const peerTotal = (): number | null => {
    let sum = 0;
    for (const pid of peers) {
      const us = peerCpuUs(pid);
      if (us === undefined) return null;
      sum += us;
    }
    return peers.length === 0 ? null : sum;
  };
  const snapshot = () => ({
    at: performance.now(),
    mainCpu: cpu.read(),
    processCpu: processCpuUs(),
    peerCpu: peerTotal(),
    elu: performance.eventLoopUtilization(),
  });
  const maxErrors = o.maxErrors ?? 100;
  const histogram = new LatencyHistogram();
  let issued = 0;
  let completed = 0;
  let active = 0;
  let errors = 0;
  let firstError: string | null = null;
  let warm: MemorySample | undefined;
  let start: ReturnType<typeof snapshot> | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const issue = (): void => {
    const seq = issued++;
    active++;
    const started = performance.now();
    let pending: Promise<unknown>;
    try {
      pending = o.request(seq);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      () => done(started, undefined, false),
      (err: unknown) => done(started, err, true),
    );
  };
  const done = (started: number, err: unknown, failed: boolean): void => {
    active--;
    if (failed) {
      errors++;
      firstError ??= err instanceof Error ? `${(err as { code?: unknown }).code ?? err.name}: ${err.message}` : String(err);
    } else {
      completed++;
      if (warm !== undefined) histogram.record((performance.now() - started) * 1_000);
      else if (completed >= o.warmupCount) {
        warm = sampleMemory();
        start = snapshot();
      }
    }
    if (issued < o.total && errors < maxErrors) issue();
    else if (active === 0) finish();
  };

  for (let i = 0; i < Math.min(o.inflight, o.total); i++) issue();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), o.timeoutMs)));
  const outcome = await Promise.race([finished.then(() => 'done' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout')
    throw zapError(ErrorCode.Timeout, `${o.total} requests did not complete within ${o.timeoutMs} ms (${completed} did)`);
  const stop = snapshot();
  const end = sampleMemory();
  const latency = histogram.summary();
  histogram.destroy();
  const from = start ?? stop;
  const requests = completed - o.warmupCount;
  const windowMs = stop.at - from.at;
  return {
    requests,
    windowMs,
    reqPerSec: windowMs > 0 ? (requests * 1_000) / windowMs : 0,
    latency,
    mainCpuUs: stop.mainCpu - from.mainCpu,
    cpuSource: cpu.source,
    processCpuUs: stop.processCpu - from.processCpu,
    peerCpuUs: stop.peerCpu === null || from.peerCpu === null ? null : stop.peerCpu - from.peerCpu,
    eventLoopUtilization: performance.eventLoopUtilization(stop.elu, from.elu).utilization,
    errors,
    firstError,
    warm: warm ?? end,
    end,
  };
}
