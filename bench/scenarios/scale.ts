// Scenario scale: throughput against connection workers (0, 1, … cores) and against agent
// processes (1, 2, 4, … up to --agents N; default min(cores, 4), at least 2). With A agents the
// pool has A agent entries (echo-1 … echo-A, 4 connections each) and the closed loop spreads
// requests over them round-robin by sequence number — what a proxy does with several agents on a
// route. Baseline per agent count: the raw client with one socket per agent, spread the same way.
// Besides the table it writes <json-dir>/scale.svg: req/s against workers, one line per agent
// count, the raw baselines dashed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { baselineFor, toBenchRow, wantedRow } from '../bench-row.js';
import { startEchoAgents, type EchoAgents } from '../echo-agents.js';
import { runClosedLoop } from '../measure.js';
import { RawUdsClient } from '../raw-uds-client.js';
import { sampleRequestHeaders, sampleRequestHeadersWire } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';
import { lineChartSvg, type PlotSeries } from '../svg-plot.js';

const REQUEST_HEADERS = 0x10;
const CONNECTIONS = 4;

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
    if (rows.length > 0) {
      const out = settings.jsonDir ?? 'bench/results';
      mkdirSync(out, { recursive: true });
      const path = join(out, 'scale.svg');
      writeFileSync(path, scaleSvg(rows, agentCounts, workerCounts, inflight));
      notes.push(`plot: ${path}`);
    }
    return { scenario: 'scale', rows, notes };
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
  const pool = new AgentPool({ workers, connectionsPerAgent: CONNECTIONS });
  try {
    const ready = await Promise.all(agents.ids.map((id, i) => pool.addAgent(id, `unix:${agents.sockets[i] ?? ''}`)));
    if (ready.some((r) => r.ready !== CONNECTIONS))
      throw zapError(ErrorCode.ConnectFailed, `${name}: not every agent has ${CONNECTIONS} ready connections`);
    const ids = agents.ids;
    const result = await runClosedLoop({
      inflight,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      peerPids: agents.pids,
      request: (seq) => {
        const cid = `p${seq}`;
        return pool.sendRequestHeaders(ids[seq % ids.length] as string, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
      },
    });
    return toBenchRow(
      { name, transport: 'uds', workers, inflight, connectionsPerAgent: CONNECTIONS, base, extra: { agents: count } },
      result,
    );
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

function scaleSvg(rows: readonly BenchRow[], agentCounts: readonly number[], workerCounts: readonly number[], inflight: number): string {
  const series: PlotSeries[] = [];
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
  });
  return lineChartSvg({
    title: `AgentPool throughput vs connection workers (${inflight} in flight, echo agents over UDS)`,
    xLabel: 'connection workers',
    yLabel: 'requests / s',
    series,
  });
}
