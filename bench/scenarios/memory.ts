// Scenario memory: (1) RSS drift over 2 000 000 requests (--quick 100 000) to the echo agent:
// RSS and heapUsed after a full GC sampled 19 times from the 10 % mark to the end, a least-squares
// slope through them (rss-trend.ts), judged against the raw client's band. (2) heap bytes per request
// in flight: 10 000 and 100 000 requests held by an agent that answers none until told
// (hanging-agent.ts), heapUsed after a full GC against before; target ≤ 2 KiB per request. The raw
// one-socket client does the same in the same run (baseline). Held rows run the pool with
// workers 0 (every pool object on the main heap, which heapUsed sees) and the per-agent caps
// lifted so that every request really is in flight at the agent: maxConcurrentPerConnection and
// maxQueuedPerAgent = the held count (defaults 100 and 10 000), maxCorrelationAffinities ≥ it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { defaultWorkerCount } from '../../src/pool/pool-config.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { baselineFor, toBenchRow, wantedRow } from '../bench-row.js';
import { runCountedLoop, type CountedLoopResult } from '../counted-loop.js';
import { startEchoAgents, type EchoAgents } from '../echo-agents.js';
import { HangingAgent } from '../hanging-agent-process.js';
import { measureHeld, type HeldResult } from '../held-requests.js';
import { RawUdsClient } from '../raw-uds-client.js';
import { bandOf, rssTrend, RSS_TREND_TARGET_PCT, trendColumns, type TrendBand } from '../rss-trend.js';
import { sampleRequestHeaders, sampleRequestHeadersWire } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const REQUEST_HEADERS = 0x10;
const CONNECTIONS = 4;
const HEAP_TARGET_BYTES = 2_048;
const MIB = 1_048_576;

export interface MemoryScenarioOptions {
  /** Requests held at once, one row pair per count. */
  heldCounts: readonly number[];
  /** Requests of the drift rows (full run / --quick). */
  driftTotal: number;
  quickDriftTotal: number;
  /** Memory samples after GC per drift row, the 10 % mark and the end included (≥ 12 for a trend). */
  driftSamples: number;
}

const MEMORY_DEFAULTS: MemoryScenarioOptions = {
  heldCounts: [10_000, 100_000],
  driftTotal: 2_000_000,
  quickDriftTotal: 100_000,
  driftSamples: 19,
};

export function createMemoryScenario(options: MemoryScenarioOptions = MEMORY_DEFAULTS): Scenario {
  return {
    name: 'memory',
    summary: 'heap bytes per in-flight request (10K / 100K held) and RSS drift over 2M requests, pool vs raw client',
    run: (settings) => runMemory(settings, options),
  };
}

export const memory = createMemoryScenario();

async function runMemory(settings: ScenarioSettings, options: MemoryScenarioOptions): Promise<ScenarioResult> {
  const want = (name: string) => wantedRow(settings.only, name);
  // --quick measures the 10 K point only (100 K takes longer than the rest of a quick run).
  const held = settings.quick ? options.heldCounts.slice(0, 1) : options.heldCounts;
  const driftTotal = settings.quick ? options.quickDriftTotal : options.driftTotal;
  const driftWorkers = defaultWorkerCount();
  const maxHeld = Math.max(0, ...held);
  const notes = [
    `held rows: N requests issued to an agent that holds them; heap B/req = (heapUsed after GC with ` +
      `all N held at the agent − heapUsed after GC before) / N; target ≤ ${HEAP_TARGET_BYTES} B ` +
      `(${HEAP_TARGET_BYTES / 1_024} KiB); req/s, latency and CPU cover the issue → hold → release ` +
      `cycle`,
    `held pool rows: workers 0, ${CONNECTIONS} connections, maxConcurrentPerConnection = ` +
      `maxQueuedPerAgent = ${maxHeld.toLocaleString('en-US')} and maxCorrelationAffinities ≥ that ` +
      `(defaults 100 / 10 000 / 100 000 would queue or refuse most of them)`,
    `drift rows: ${driftTotal.toLocaleString('en-US')} requests, ${settings.inflight} in flight, ` +
      `closed loop to the echo agent; RSS and heapUsed after a full GC at ${options.driftSamples} evenly ` +
      `spaced points from the 10 % mark to the end; least-squares slope of RSS against requests ` +
      `(KiB per 100K requests, % of mean RSS per 1M requests, ±2 standard errors); raw band = the raw ` +
      `client's slope ±2SE; verdict ok when the pool's slope is at or below the top of the raw band, or ` +
      `its trend adds ≤ ${RSS_TREND_TARGET_PCT} % of the mean over the run; the forced collections are ` +
      `left out of req/s and CPU; pool workers ${driftWorkers} (this machine's default), other options default`,
    'the baseline of each row is the raw one-socket client doing the same; --warmup / --duration do not apply (counts, not windows)',
    'RSS is the whole process: after other scenarios in the same command it starts high and hides ' +
      'growth; run `zap bench memory` alone for drift figures',
  ];
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'zap-bench-mem-'));
  const driftWanted = [driftName('raw', driftTotal), driftName('pool', driftTotal)].some(want);
  const heldWanted = held.flatMap((n) => [heldName('raw', n), heldName('pool', n)]).some(want);
  // Both agents start in parallel (start-up dominates short runs).
  const [echo, hanging] = await Promise.allSettled([
    driftWanted ? startEchoAgents(dir, 1, 'drift-echo') : undefined,
    heldWanted ? HangingAgent.start(join(dir, 'hold.sock')) : undefined,
  ]);
  try {
    if (echo.status === 'rejected') throw echo.reason;
    if (hanging.status === 'rejected') throw hanging.reason;
    // Drift first, in a process whose RSS no earlier row inflated (100 000 held requests leave
    // freed pages mapped, which would hide later growth).
    if (echo.value !== undefined)
      rows.push(...(await driftRows(echo.value, { total: driftTotal, samples: options.driftSamples }, driftWorkers, want, settings)));
    if (hanging.value !== undefined) rows.push(...(await heldRows(hanging.value, held, want, settings)));
  } finally {
    await Promise.all([
      echo.status === 'fulfilled' ? echo.value?.stop() : undefined,
      hanging.status === 'fulfilled' ? hanging.value?.stop() : undefined,
    ]);
    rmSync(dir, { recursive: true, force: true });
  }
  return { scenario: 'memory', rows, notes };
}

function heldName(client: 'raw' | 'pool', count: number): string {
  return `${client}-held@${count}`;
}

function driftName(client: 'raw' | 'pool', total: number): string {
  const count = total >= 1_000_000 && total % 1_000_000 === 0 ? `${total / 1_000_000}M` : total % 1_000 === 0 ? `${total / 1_000}k` : total;
  return `${client}-drift@${count}`;
}

async function heldRows(
  agent: HangingAgent,
  counts: readonly number[],
  want: (name: string) => boolean,
  s: ScenarioSettings,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const warmupCount = (n: number) => Math.min(n, 2_000);
  const holdTimeoutMs = 120_000;
  // Raw client first, then ONE pool for every count (a destroyed pool could be collected in the middle of a later measurement).
  const rawCounts = counts.filter((n) => want(heldName('raw', n)));
  if (rawCounts.length > 0) {
    const client = await RawUdsClient.connect(agent.socket);
    try {
      for (const n of rawCounts) {
        s.log(`${heldName('raw', n)}: raw client, ${n} requests held`);
        const r = await measureHeld(
          agent,
          n,
          (seq) => {
            const cid = `h${seq}`;
            return client.request(REQUEST_HEADERS, cid, sampleRequestHeadersWire(cid));
          },
          { warmupCount: warmupCount(n), holdTimeoutMs },
        );
        rows.push(heldRow(heldName('raw', n), 0, 1, n, r, undefined));
      }
    } finally {
      client.close();
    }
  }
  const poolCounts = counts.filter((n) => want(heldName('pool', n)));
  if (poolCounts.length > 0) {
    const max = Math.max(...poolCounts);
    const pool = new AgentPool({
      workers: 0,
      connectionsPerAgent: CONNECTIONS,
      maxConcurrentPerConnection: max,
      maxQueuedPerAgent: max,
      maxCorrelationAffinities: Math.max(max, 100_000),
    });
    try {
      const { ready } = await pool.addAgent('hold', `unix:${agent.socket}`);
      if (ready !== CONNECTIONS)
        throw zapError(ErrorCode.ConnectFailed, `memory: only ${ready} of ${CONNECTIONS} connections became ready`);
      for (const n of poolCounts) {
        s.log(`${heldName('pool', n)}: AgentPool workers 0, ${n} requests held`);
        const r = await measureHeld(
          agent,
          n,
          (seq) => {
            const cid = `h${seq}`;
            return pool.sendRequestHeaders('hold', cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
          },
          { warmupCount: warmupCount(n), holdTimeoutMs },
        );
        rows.push(heldRow(heldName('pool', n), 0, CONNECTIONS, n, r, baselineFor(rows, heldName('raw', n))));
      }
    } finally {
      await pool.destroy();
    }
  }
  rows.sort((a, b) => a.inflight - b.inflight);
  return rows;
}

async function driftRows(
  agents: EchoAgents,
  { total, samples }: { total: number; samples: number },
  workers: number,
  want: (name: string) => boolean,
  s: ScenarioSettings,
): Promise<BenchRow[]> {
  const [agentId, socket] = [agents.ids[0] as string, agents.sockets[0] as string];
  const rows: BenchRow[] = [];
  let rawBand: TrendBand | undefined;
  const loop = {
    inflight: s.inflight,
    total,
    warmupCount: Math.floor(total / 10),
    samples,
    peerPids: agents.pids,
    timeoutMs: Math.max(60_000, total),
  };
  if (want(driftName('raw', total))) {
    s.log(`${driftName('raw', total)}: raw client, ${total} requests`);
    const client = await RawUdsClient.connect(socket);
    try {
      const r = await runCountedLoop({
        ...loop,
        request: (seq) => {
          const cid = `d${seq}`;
          return client.request(REQUEST_HEADERS, cid, sampleRequestHeadersWire(cid));
        },
      });
      rawBand = bandOf(rssTrend(r.samples));
      rows.push(driftRow(driftName('raw', total), 0, 1, s.inflight, r, undefined, rawBand));
    } finally {
      client.close();
    }
  }
  if (want(driftName('pool', total))) {
    s.log(`${driftName('pool', total)}: AgentPool workers ${workers}, ${total} requests`);
    const pool = new AgentPool({ workers, connectionsPerAgent: CONNECTIONS });
    try {
      const { ready } = await pool.addAgent(agentId, `unix:${socket}`);
      if (ready !== CONNECTIONS)
        throw zapError(ErrorCode.ConnectFailed, `memory: only ${ready} of ${CONNECTIONS} connections became ready`);
      const r = await runCountedLoop({
        ...loop,
        request: (seq) => {
          const cid = `d${seq}`;
          return pool.sendRequestHeaders(agentId, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
        },
      });
      rows.push(
        driftRow(driftName('pool', total), workers, CONNECTIONS, s.inflight, r, baselineFor(rows, driftName('raw', total)), rawBand),
      );
    } finally {
      await pool.destroy();
    }
  }
  return rows;
}

function heldRow(
  name: string,
  workers: number,
  connections: number,
  count: number,
  r: HeldResult,
  base: BenchRow | string | undefined,
): BenchRow {
  return toBenchRow(
    {
      name,
      transport: 'uds',
      workers,
      inflight: count,
      connectionsPerAgent: connections,
      base,
      extra: {
        'heap B/req': r.heapBytesPerRequest,
        'heap Δ MiB': r.heapDeltaBytes / MIB,
        verdict: r.heapBytesPerRequest <= HEAP_TARGET_BYTES ? `ok ≤${HEAP_TARGET_BYTES}` : `over ${HEAP_TARGET_BYTES}`,
      },
    },
    r,
  );
}

function driftRow(
  name: string,
  workers: number,
  connections: number,
  inflight: number,
  r: CountedLoopResult,
  base: BenchRow | string | undefined,
  rawBand: TrendBand | undefined,
): BenchRow {
  return toBenchRow(
    {
      name,
      transport: 'uds',
      workers,
      inflight,
      connectionsPerAgent: connections,
      base,
      extra: trendColumns(rssTrend(r.samples), rawBand),
    },
    r,
  );
}
