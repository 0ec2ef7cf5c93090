// A closed loop that runs a fixed NUMBER of requests (not a time window) and samples memory: RSS
// and heapUsed after a full GC once the warm-up share of the requests completed, at evenly spaced
// counts after that, and at the end. The memory scenario's drift rows fit a trend through them:
// does the process grow with the number of requests served? The forced collections are left out
// of the rate and CPU figures (their wall and main-thread CPU time is subtracted).
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
  /** Memory samples after GC, warm-up and end included, evenly spaced over the measured requests (default 2). */
  samples?: number;
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

/** A memory sample and the requests completed after the warm-up when it was taken. */
export interface CountedMemorySample extends MemorySample {
  completed: number;
}

/** Rate, latency and CPU cover the requests after the warm-up. */
export interface CountedLoopResult extends ClosedLoopResult {
  warm: MemorySample;
  end: MemorySample;
  /** Every sample in order: the first is `warm`, the last `end`. */
  samples: CountedMemorySample[];
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
  const sampleCount = Math.max(2, Math.floor(o.samples ?? 2));
  const sampleEvery = Math.max(1, Math.floor((o.total - o.warmupCount) / (sampleCount - 1)));
  const samples: CountedMemorySample[] = [];
  let nextSampleAt = Number.POSITIVE_INFINITY;
  // Wall and main-thread CPU time spent in forced collections, kept out of the rate and CPU figures.
  let gcMs = 0;
  let gcCpuUs = 0;
  let gcProcessCpuUs = 0;
  const takeSample = (): MemorySample => {
    const t0 = performance.now();
    const c0 = cpu.read();
    const p0 = processCpuUs();
    const m = sampleMemory();
    gcMs += performance.now() - t0;
    gcCpuUs += cpu.read() - c0;
    gcProcessCpuUs += processCpuUs() - p0;
    samples.push({ ...m, completed: completed - o.warmupCount });
    return m;
  };
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
      if (warm !== undefined) {
        histogram.record((performance.now() - started) * 1_000);
        // The last sample is taken after the drain, below.
        if (completed >= nextSampleAt && samples.length < sampleCount - 1) {
          takeSample();
          nextSampleAt += sampleEvery;
        }
      } else if (completed >= o.warmupCount) {
        warm = takeSample();
        start = snapshot();
        gcMs = 0;
        gcCpuUs = 0;
        gcProcessCpuUs = 0;
        nextSampleAt = completed + sampleEvery;
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
  const gc = { ms: gcMs, cpuUs: gcCpuUs, processCpuUs: gcProcessCpuUs };
  const end = takeSample();
  const latency = histogram.summary();
  histogram.destroy();
  const from = start ?? stop;
  const requests = completed - o.warmupCount;
  const windowMs = stop.at - from.at - gc.ms;
  return {
    requests,
    windowMs,
    reqPerSec: windowMs > 0 ? (requests * 1_000) / windowMs : 0,
    latency,
    mainCpuUs: stop.mainCpu - from.mainCpu - gc.cpuUs,
    cpuSource: cpu.source,
    processCpuUs: stop.processCpu - from.processCpu - gc.processCpuUs,
    peerCpuUs: stop.peerCpu === null || from.peerCpu === null ? null : stop.peerCpu - from.peerCpu,
    eventLoopUtilization: performance.eventLoopUtilization(stop.elu, from.elu).utilization,
    errors,
    firstError,
    warm: warm ?? end,
    end,
    samples,
  };
}
