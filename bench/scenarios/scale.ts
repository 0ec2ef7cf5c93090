// Scenario scale: throughput against connection workers (0, 1, … cores) and against agent
// processes (1, 2, 4, … up to --agents N; default min(cores, 4), at least 2). With A agents the
// pool has A agent entries (echo-1 … echo-A, 4 connections each) and the closed loop spreads
// requests over them round-robin by sequence number — what a proxy does with several agents on a
// route. Baseline per agent count: the raw client with one socket per agent, spread the same way.
// Besides the table it writes <json-dir>/scale.svg: req/s against workers, one line per agent
// count, the raw baselines dashed, and the Amdahl model of amdahl.ts dotted: the prediction for
// this machine from the CPU per call each row measured (main thread, worker threads, the rest of
// the box), and the same model on 16 cores.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { fitScalingModel, flatteningPoint, predictThroughput, type CallCosts, type ScalingModel } from '../amdahl.js';
import { baselineFor, toBenchRow, wantedRow } from '../bench-row.js';
import { startEchoAgents, type EchoAgents } from '../echo-agents.js';
import { runClosedLoop } from '../measure.js';
import { RawUdsClient } from '../raw-uds-client.js';
import { sampleRequestHeaders, sampleRequestHeadersWire } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';
import { lineChartSvg, type PlotSeries } from '../svg-plot.js';
import { listThreads, newThreads, threadsCpuClock } from '../thread-cpu.js';

const REQUEST_HEADERS = 0x10;
const CONNECTIONS = 4;
/** The core count the model's headline prediction is for (issue 13). */
const MODEL_CORES = 16;

export const scale: Scenario = {
  name: 'scale',
  summary: 'req/s vs connection workers (0…cores) and vs echo agent processes (--agents N); table + scale.svg',
  async run(settings: ScenarioSettings): Promise<ScenarioResult> {
    const agentCounts = agentSteps(settings.agents ?? Math.max(2, Math.min(availableParallelism(), 4)));
    const workerCounts = Array.from({ length: availableParallelism() + 1 }, (_, k) => k);
    const inflight = settings.inflight;
    const want = (name: string) => wantedRow(settings.only, name);
    const notes = [
      `agents ${agentCounts.join(', ')} (echo processes, all started once: a row with A agents uses ` +
        `the first A; one pool agent entry each, ${CONNECTIONS} connections per entry, requests ` +
        `round-robin over the entries); workers ${workerCounts.join(', ')}; ${inflight} in flight in ` +
        `total`,
      `warm-up ${settings.warmupMs} ms, window ${settings.durationMs} ms per row; baseline raw-aN: the ` +
        `hand-written client, one socket per agent, same round-robin`,
    ];
    if (availableParallelism() <= 2)
      notes.push('2 cores or fewer: agents and workers share the same cores, so more of either cannot add throughput here');
    const rows: BenchRow[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'zap-bench-scale-'));
    const planned = agentCounts.filter((count) => [rawName(count), ...workerCounts.map((w) => poolName(count, w))].some(want));
    // The largest set of agents starts once, in parallel; a row with A agents uses the first A.
    const all = planned.length === 0 ? undefined : await startEchoAgents(dir, Math.max(...planned), 'echo');
    try {
      for (const count of planned) {
        const agents = firstAgents(all as EchoAgents, count);
        if (want(rawName(count))) rows.push(await measureRaw(agents, inflight, settings));
        for (const workers of workerCounts) {
          if (want(poolName(count, workers)))
            rows.push(await measurePool(agents, workers, inflight, settings, baselineFor(rows, rawName(count))));
        }
      }
    } finally {
      await all?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    notes.push(...pivot(rows, agentCounts, workerCounts));
    const models = new Map(agentCounts.map((a) => [a, modelFor(rows, a)] as const));
    const modelled = rows.map((r) => withPrediction(r, models));
    notes.push(...modelNotes(models));
    if (rows.length > 0) {
      const out = settings.jsonDir ?? 'bench/results';
      mkdirSync(out, { recursive: true });
      const path = join(out, 'scale.svg');
      writeFileSync(path, scaleSvg(modelled, agentCounts, workerCounts, inflight, models));
      notes.push(`plot: ${path}`);
    }
    return { scenario: 'scale', rows: modelled, notes };
  },
};

/** The first `count` agents of a started set (CPU is sampled for those only). */
function firstAgents(all: EchoAgents, count: number): EchoAgents {
  return { ids: all.ids.slice(0, count), sockets: all.sockets.slice(0, count), pids: all.pids.slice(0, count), stop: async () => {} };
}

/** 1, 2, 4, … below `max`, then `max`. */
export function agentSteps(max: number): number[] {
  const steps: number[] = [];
  for (let n = 1; n < max && steps.length < 16; n *= 2) steps.push(n);
  steps.push(max);
  return steps;
}

function rawName(agents: number): string {
  return `raw-a${agents}`;
}

function poolName(agents: number, workers: number): string {
  return `pool-a${agents}-w${workers}`;
}

async function measureRaw(agents: EchoAgents, inflight: number, s: ScenarioSettings): Promise<BenchRow> {
  const name = rawName(agents.ids.length);
  s.log(`${name}: hand-written client, one socket to each of ${agents.ids.length} agent(s)`);
  const clients: RawUdsClient[] = [];
  try {
    for (const socket of agents.sockets) clients.push(await RawUdsClient.connect(socket));
    const result = await runClosedLoop({
      inflight,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      peerPids: agents.pids,
      request: (seq) => {
        const cid = `r${seq}`;
        return (clients[seq % clients.length] as RawUdsClient).request(REQUEST_HEADERS, cid, sampleRequestHeadersWire(cid));
      },
    });
    return toBenchRow(
      { name, transport: 'uds', workers: 0, inflight, connectionsPerAgent: 1, base: undefined, extra: { agents: agents.ids.length } },
      result,
    );
  } finally {
    for (const c of clients) c.close();
  }
}

async function measurePool(
  agents: EchoAgents,
  workers: number,
  inflight: number,
  s: ScenarioSettings,
  base: BenchRow | string,
): Promise<BenchRow> {
  const count = agents.ids.length;
  const name = poolName(count, workers);
  s.log(`${name}: AgentPool workers ${workers}, ${count} agent(s) × ${CONNECTIONS} connections`);
  // The pool's worker threads: the threads that appear while it starts (Node 20 names them all "node";
  // each worker brings its own thread and whatever that thread starts).
  const threadsBefore = listThreads();
  const pool = new AgentPool({ workers, connectionsPerAgent: CONNECTIONS });
  try {
    const ready = await Promise.all(agents.ids.map((id, i) => pool.addAgent(id, `unix:${agents.sockets[i] ?? ''}`)));
    if (ready.some((r) => r.ready !== CONNECTIONS))
      throw zapError(ErrorCode.ConnectFailed, `${name}: not every agent has ${CONNECTIONS} ready connections`);
    const workerThreads = newThreads(threadsBefore, listThreads());
    const ids = agents.ids;
    const result = await runClosedLoop({
      inflight,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      peerPids: agents.pids,
      threadsCpu: threadsCpuClock(workerThreads),
      request: (seq) => {
        const cid = `p${seq}`;
        return pool.sendRequestHeaders(ids[seq % ids.length] as string, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
      },
    });
    const perCall = (us: number | null | undefined) => (us == null || result.requests === 0 ? Number.NaN : us / result.requests);
    const workerUs = perCall(result.threadsCpuUs);
    const extra = {
      agents: count,
      'worker threads': workerThreads.length,
      'worker CPU µs/req': workerUs,
      'other CPU µs/req': perCall(result.processCpuUs - result.mainCpuUs) - workerUs,
      'agent CPU µs/req': perCall(result.peerCpuUs),
    };
    return toBenchRow({ name, transport: 'uds', workers, inflight, connectionsPerAgent: CONNECTIONS, base, extra }, result);
  } finally {
    await pool.destroy();
  }
}

/** The req/s grid as note lines: one line per agent count, one column per worker count. */
function pivot(rows: readonly BenchRow[], agentCounts: readonly number[], workerCounts: readonly number[]): string[] {
  const cell = (name: string) => {
    const r = rows.find((row) => row.name === name);
    return (r === undefined ? '-' : Math.round(r.reqPerSec).toLocaleString('en-US')).padStart(9);
  };
  const lines = [`req/s     agents ${'raw'.padStart(9)} ${workerCounts.map((w) => `w${w}`.padStart(9)).join(' ')}`];
  for (const a of agentCounts)
    lines.push(`req/s ${String(a).padStart(10)} ${cell(rawName(a))} ${workerCounts.map((w) => cell(poolName(a, w))).join(' ')}`);
  return lines;
}

/** A pool row's CPU per call by where it is spent (NaN parts when /proc was missing). */
function costsOf(row: BenchRow): CallCosts {
  const x = (key: string) => {
    const v = row.extra?.[key];
    return typeof v === 'number' ? v : Number.NaN;
  };
  const agentUs = x('agent CPU µs/req');
  return { mainUs: row.mainCpuUsPerReq, workerUs: x('worker CPU µs/req'), restUs: x('other CPU µs/req') + agentUs, agentUs };
}

function modelFor(rows: readonly BenchRow[], agents: number): ScalingModel {
  const mine = rows.filter((r) => r.name.startsWith(`pool-a${agents}-w`));
  return fitScalingModel(mine.map((r) => ({ workers: r.workers, costs: costsOf(r) })));
}

/** Adds the model's prediction for this row's workers and agents on this machine. */
function withPrediction(row: BenchRow, models: ReadonlyMap<number, ScalingModel>): BenchRow {
  const agents = row.extra?.['agents'];
  const model = typeof agents === 'number' ? models.get(agents) : undefined;
  if (model === undefined || !row.name.startsWith('pool-')) return row;
  const p = predictThroughput(model, row.workers, availableParallelism(), agents as number);
  return { ...row, extra: { ...row.extra, 'model req/s': Number.isFinite(p.perSec) ? p.perSec : null, 'model bound': p.bound } };
}

function modelNotes(models: ReadonlyMap<number, ScalingModel>): string[] {
  const us = (n: number) => n.toFixed(2);
  const lines = [
    `model (bench/amdahl.ts): X(N workers, C cores) = min(1/c_main, N/c_worker, C/(c_main + c_worker + c_rest), A/c_agent), ` +
      `CPU per call measured per row: c_main the main thread, c_worker the worker threads, c_rest the process's other ` +
      `threads plus the agents (c_agent of it); workers 0 from its own row, N ≥ 1 from the mean of the worker rows`,
  ];
  for (const [agents, m] of models) {
    const parts: string[] = [];
    if (m.inline !== undefined)
      parts.push(`workers 0: c_main ${us(m.inline.mainUs)}, c_rest ${us(m.inline.restUs)} (agents ${us(m.inline.agentUs)})`);
    if (m.offloaded !== undefined) {
      const c = m.offloaded;
      parts.push(`workers ≥ 1: c_main ${us(c.mainUs)}, c_worker ${us(c.workerUs)}, c_rest ${us(c.restUs)} (agents ${us(c.agentUs)})`);
    }
    if (parts.length > 0) lines.push(`model, ${agents} agent(s), µs per call: ${parts.join('; ')}`);
    const flat = flatteningPoint(m, MODEL_CORES);
    if (flat !== undefined) {
      lines.push(
        `model, ${agents} agent(s)' costs on ${MODEL_CORES} cores with enough agents: flattens at ${flat.workers} ` +
          `worker(s), ${Math.round(flat.perSec).toLocaleString('en-US')} calls/s, bound by the ${flat.bound}`,
      );
    }
  }
  return lines;
}

function scaleSvg(
  rows: readonly BenchRow[],
  agentCounts: readonly number[],
  workerCounts: readonly number[],
  inflight: number,
  models: ReadonlyMap<number, ScalingModel>,
): string {
  const series: PlotSeries[] = [];
  const cores = availableParallelism();
  agentCounts.forEach((a, group) => {
    const points = workerCounts.flatMap((w) => {
      const r = rows.find((row) => row.name === poolName(a, w));
      return r === undefined ? [] : [[w, r.reqPerSec] as const];
    });
    if (points.length > 0) series.push({ name: `pool, ${a} agent${a === 1 ? '' : 's'}`, points, colorGroup: group });
    const raw = rows.find((row) => row.name === rawName(a));
    if (raw !== undefined) {
      const span = [workerCounts[0] ?? 0, workerCounts[workerCounts.length - 1] ?? 0];
      series.push({
        name: `raw, ${a} agent${a === 1 ? '' : 's'}`,
        points: span.map((w) => [w, raw.reqPerSec] as const),
        dashed: true,
        colorGroup: group,
      });
    }
    const model = models.get(a);
    if (model !== undefined && (model.inline !== undefined || model.offloaded !== undefined)) {
      const predicted = workerCounts.map((w) => [w, predictThroughput(model, w, cores, a).perSec] as const);
      series.push({ name: `model, ${a} agent${a === 1 ? '' : 's'}, ${cores} cores`, points: predicted, dotted: true, colorGroup: group });
    }
  });
  // The headline: the costs of the most agents measured, on 16 cores with as many agents as it takes.
  const top = [...agentCounts].reverse().find((a) => models.get(a)?.offloaded !== undefined);
  const topModel = top === undefined ? undefined : models.get(top);
  if (topModel !== undefined) {
    const xs = Array.from({ length: MODEL_CORES + 1 }, (_, w) => w);
    series.push({
      name: `model, ${MODEL_CORES} cores (${top} agent${top === 1 ? '' : 's'}' costs)`,
      points: xs.map((w) => [w, predictThroughput(topModel, w, MODEL_CORES).perSec] as const),
      dotted: true,
      colorGroup: agentCounts.length,
    });
  }
  return lineChartSvg({
    title: `AgentPool throughput vs connection workers (${inflight} in flight, echo agents over UDS; dotted: model)`,
    xLabel: 'connection workers',
    yLabel: 'requests / s',
    series,
  });
}
