// Open-loop load: requests arrive on a fixed schedule (request i is due at t0 + i / rate) whether
// or not earlier ones finished, and each latency is measured from the INTENDED send time, so a
// stalled sender or a slow pool shows up in the percentiles instead of silently lowering the
// offered load (no coordinated omission). A 1 ms timer releases every arrival that is due; an
// arrival that finds `maxOutstanding` requests still open is dropped (counted, never sent), which
// keeps memory bounded when the target cannot keep up.
import { performance } from 'node:perf_hooks';
import { ErrorCode, zapError } from '../src/protocol/errors.js';
import { LatencyHistogram, mainThreadCpu, peerCpuUs, processCpuUs, type ClosedLoopResult } from './measure.js';

/** An arrival sent this much after its due time counts as late (two timer ticks: the sender fell behind). */
export const LATE_AFTER_MS = 2;

export interface OpenLoopOptions {
  /** Arrivals per second. */
  ratePerSec: number;
  warmupMs: number;
  durationMs: number;
  /** Arrivals beyond this many open requests are dropped. */
  maxOutstanding: number;
  request(seq: number): Promise<unknown>;
  peerPids?: readonly number[];
  /** After the last arrival: how long open requests may take (default 10 s). */
  drainTimeoutMs?: number;
  /** Stop sending once this many requests failed (default 100). */
  maxErrors?: number;
}

/** `requests` / `reqPerSec`: completions inside the window (the achieved rate); latency: arrivals due in the window. */
export interface OpenLoopResult extends ClosedLoopResult {
  targetRate: number;
  /** Arrivals due in the window that were sent. */
  sent: number;
  /** Arrivals due in the window that were not sent (maxOutstanding reached). */
  dropped: number;
  /** Arrivals due in the window sent more than LATE_AFTER_MS after their due time. */
  late: number;
  /** Most requests open at once during the window. */
  peakOutstanding: number;
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  if (!(o.ratePerSec > 0) || !Number.isFinite(o.ratePerSec))
    throw zapError(ErrorCode.InvalidConfig, `rate must be positive, got ${o.ratePerSec}`);
  if (!Number.isInteger(o.maxOutstanding) || o.maxOutstanding < 1)
    throw zapError(ErrorCode.InvalidConfig, `maxOutstanding must be a positive integer`);
  const cpu = mainThreadCpu();
  const peers = o.peerPids ?? [];
  const peerTotal = (): number | null => {
    let total = 0;
    for (const pid of peers) {
      const us = peerCpuUs(pid);
      if (us === undefined) return null;
      total += us;
    }
    return peers.length === 0 ? null : total;
  };
  const maxErrors = o.maxErrors ?? 100;
  const intervalMs = 1_000 / o.ratePerSec;
  const totalArrivals = Math.ceil(((o.warmupMs + o.durationMs) * o.ratePerSec) / 1_000);
  const histogram = new LatencyHistogram();

  const t0 = performance.now();
  const windowStart = t0 + o.warmupMs;
  const windowEnd = windowStart + o.durationMs;
  let next = 0;
  let open = 0;
  let inWindow = false;
  let completedInWindow = 0;
  let sent = 0;
  let dropped = 0;
  let late = 0;
  let peak = 0;
  let errors = 0;
  let firstError: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let finishedSending!: () => void;
  const sending = new Promise<void>((resolve) => (finishedSending = resolve));
  let onDrained: (() => void) | undefined;

  const complete = (due: number, counted: boolean, err: unknown, failed: boolean): void => {
    open--;
    if (failed) {
      errors++;
      firstError ??= err instanceof Error ? `${(err as { code?: unknown }).code ?? err.name}: ${err.message}` : String(err);
    } else {
      if (counted) histogram.record((performance.now() - due) * 1_000);
      if (inWindow) completedInWindow++;
    }
    if (open === 0) onDrained?.();
  };

  const tick = (): void => {
    timer = undefined;
    const now = performance.now();
    const due = Math.min(totalArrivals, Math.floor((now - t0) / intervalMs) + 1);
    for (; next < due && errors < maxErrors; next++) {
      const at = t0 + next * intervalMs;
      const counted = at >= windowStart && at < windowEnd;
      if (open >= o.maxOutstanding) {
        if (counted) dropped++;
        continue;
      }
      if (counted) {
        sent++;
        if (now - at > LATE_AFTER_MS) late++;
      }
      open++;
      let pending: Promise<unknown>;
      try {
        pending = o.request(next);
      } catch (err) {
        pending = Promise.reject(err);
      }
      pending.then(
        () => complete(at, counted, undefined, false),
        (err: unknown) => complete(at, counted, err, true),
      );
    }
    if (inWindow && open > peak) peak = open;
    if (next >= totalArrivals || errors >= maxErrors) return finishedSending();
    timer = setTimeout(tick, Math.max(0, t0 + next * intervalMs - performance.now()));
  };

  const snapshot = () => ({
    at: performance.now(),
    mainCpu: cpu.read(),
    processCpu: processCpuUs(),
    peerCpu: peerTotal(),
    elu: performance.eventLoopUtilization(),
  });
  let start: ReturnType<typeof snapshot> | undefined;
  let end: ReturnType<typeof snapshot> | undefined;
  const startTimer = setTimeout(() => {
    start = snapshot();
    inWindow = true;
  }, o.warmupMs);
  let endTimer: NodeJS.Timeout | undefined;
  const windowClosed = new Promise<void>((resolve) => {
    endTimer = setTimeout(() => {
      inWindow = false;
      end = snapshot();
      resolve();
    }, o.warmupMs + o.durationMs);
  });
  tick();
  await sending;
  if (timer !== undefined) clearTimeout(timer);
  if (errors >= maxErrors) {
    // Gave up early: close the window now rather than wait for it.
    clearTimeout(startTimer);
    clearTimeout(endTimer);
    start ??= snapshot();
    end = snapshot();
  } else {
    // Every arrival is due before the window ends, so this wait is at most a timer tick.
    await windowClosed;
  }

  if (open > 0) {
    const drainMs = o.drainTimeoutMs ?? 10_000;
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = new Promise<'drained'>((resolve) => (onDrained = () => resolve('drained')));
    const timedOut = new Promise<'timeout'>((resolve) => (drainTimer = setTimeout(() => resolve('timeout'), drainMs)));
    const outcome = await Promise.race([drained, timedOut]);
    clearTimeout(drainTimer);
    if (outcome === 'timeout') throw zapError(ErrorCode.Timeout, `${open} requests still open ${drainMs} ms after the last arrival`);
  }
  const latency = histogram.summary();
  histogram.destroy();
  if (start === undefined || end === undefined) throw zapError(ErrorCode.Error, 'open loop: the measurement window never closed');
  const windowMs = end.at - start.at;
  return {
    requests: completedInWindow,
    windowMs,
    reqPerSec: (completedInWindow * 1_000) / windowMs,
    latency,
    mainCpuUs: end.mainCpu - start.mainCpu,
    cpuSource: cpu.source,
    processCpuUs: end.processCpu - start.processCpu,
    peerCpuUs: end.peerCpu === null || start.peerCpu === null ? null : end.peerCpu - start.peerCpu,
    eventLoopUtilization: performance.eventLoopUtilization(end.elu, start.elu).utilization,
    errors,
    firstError,
    targetRate: o.ratePerSec,
    sent,
    dropped,
    late,
    peakOutstanding: peak,
  };
}
