// Heap cost of requests in flight: `count` requests are issued to an agent that holds them
// (hanging-agent.ts), and once the agent holds every one, the heap after a full GC is compared
// with the heap after a full GC before they were issued. Then all are released and completed; the
// row's rate, latencies and CPU cover that whole issue → hold → release cycle.
import { performance } from 'node:perf_hooks';
import { forceGc } from './gc.js';
import type { HangingAgent } from './hanging-agent-process.js';
import { LatencyHistogram, mainThreadCpu, peerCpuUs, processCpuUs, type ClosedLoopResult } from './measure.js';

export interface HeldResult extends ClosedLoopResult {
  /** heapUsed after GC with `count` requests held minus before, in bytes. */
  heapDeltaBytes: number;
  heapBytesPerRequest: number;
}

/** Issued in batches, one event-loop turn apart, so sockets drain while the rest is issued. */
const BATCH = 1_000;

export async function measureHeld(
  agent: HangingAgent,
  count: number,
  request: (seq: number) => Promise<unknown>,
  options: { warmupCount: number; holdTimeoutMs: number },
): Promise<HeldResult> {
  let seq = 0;
  const histogram = new LatencyHistogram();
  // Warm-up cycle: JIT, maps, buffers and pools reach their steady size before the baseline.
  await cycle(options.warmupCount, undefined);
  forceGc();
  const before = process.memoryUsage().heapUsed;

  const cpu = mainThreadCpu();
  const pid = agent.pid;
  const peer = () => (pid === undefined ? undefined : peerCpuUs(pid));
  const start = {
    at: performance.now(),
    mainCpu: cpu.read(),
    processCpu: processCpuUs(),
    peerCpu: peer(),
    elu: performance.eventLoopUtilization(),
  };
  let heapDeltaBytes = 0;
  const outcome = await cycle(count, () => {
    forceGc();
    heapDeltaBytes = process.memoryUsage().heapUsed - before;
  });
  const end = {
    at: performance.now(),
    mainCpu: cpu.read(),
    processCpu: processCpuUs(),
    peerCpu: peer(),
    elu: performance.eventLoopUtilization(),
  };
  const latency = histogram.summary();
  histogram.destroy();
  const windowMs = end.at - start.at;
  return {
    requests: outcome.completed,
    windowMs,
    reqPerSec: (outcome.completed * 1_000) / windowMs,
    latency,
    mainCpuUs: end.mainCpu - start.mainCpu,
    cpuSource: cpu.source,
    processCpuUs: end.processCpu - start.processCpu,
    peerCpuUs: start.peerCpu === undefined || end.peerCpu === undefined ? null : end.peerCpu - start.peerCpu,
    eventLoopUtilization: performance.eventLoopUtilization(end.elu, start.elu).utilization,
    errors: outcome.errors,
    firstError: outcome.firstError,
    heapDeltaBytes,
    heapBytesPerRequest: heapDeltaBytes / count,
  };

  /** Issues n held requests, runs `whileHeld` once the agent holds them all, releases, waits for every completion. */
  async function cycle(n: number, whileHeld: (() => void) | undefined) {
    let completed = 0;
    let errors = 0;
    let firstError: string | null = null;
    let onAll!: () => void;
    const all = new Promise<void>((resolve) => (onAll = resolve));
    const settle = () => {
      if (completed + errors === n) onAll();
    };
    const held = await agent.held();
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      request(seq++).then(
        () => {
          completed++;
          if (whileHeld !== undefined) histogram.record((performance.now() - started) * 1_000);
          settle();
        },
        (err: unknown) => {
          errors++;
          firstError ??= err instanceof Error ? `${(err as { code?: unknown }).code ?? err.name}: ${err.message}` : String(err);
          settle();
        },
      );
      if (i % BATCH === BATCH - 1) await new Promise((r) => setImmediate(r));
    }
    if (errors === 0) await agent.waitHeld(held + n, options.holdTimeoutMs);
    whileHeld?.();
    await agent.release();
    await all;
    return { completed, errors, firstError };
  }
}
