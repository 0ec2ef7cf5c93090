// Scenario pool-uds: one echo agent (a child process, the same one for every row) over a Unix
// socket; a closed loop of RequestHeaders events. The raw hand-written client on one socket is
// the baseline; the AgentPool runs with workers 0, 1, 2 (4 connections), plus a like-for-like
// row (workers 0, one connection, no pool-side cap binding) and a workers-1 row with every
// connection on the worker (`-hop`; the others keep one on the calling thread for light load). Then
// the same at 1 in flight, where latency (p50 against the raw p50) is what matters.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildAgent, type ChildAgent } from '../../src/cli/child-agent.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { toBenchRow, withP50At1 } from '../bench-row.js';
import { runClosedLoop, type ClosedLoopResult } from '../measure.js';
import { medianOfRounds, roundsNote } from '../rounds.js';
import { RawUdsClient } from '../raw-uds-client.js';
import { sampleRequestHeaders, sampleRequestHeadersWire } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const REQUEST_HEADERS = 0x10;
const AGENT = 'echo';

/** The agent every row talks to: its socket, and its pid for CPU sampling. */
interface Target {
  socket: string;
  pids: number[];
}

interface PoolRowSpec {
  workers: number;
  connectionsPerAgent: number;
  /** Lift the pool's per-connection caps to the in-flight count (like-for-like with the raw client). */
  uncapped: boolean;
  /** Every connection on a worker (inlineBelowInFlight 0): each call pays the thread hop, light load or not. */
  hop?: true;
}

const THROUGHPUT_ROWS: readonly PoolRowSpec[] = [
  { workers: 0, connectionsPerAgent: 4, uncapped: false },
  { workers: 1, connectionsPerAgent: 4, uncapped: false },
  { workers: 2, connectionsPerAgent: 4, uncapped: false },
  { workers: 0, connectionsPerAgent: 1, uncapped: true },
  { workers: 1, connectionsPerAgent: 4, uncapped: false, hop: true },
];

const LATENCY_ROWS: readonly PoolRowSpec[] = [
  { workers: 0, connectionsPerAgent: 4, uncapped: false },
  { workers: 1, connectionsPerAgent: 4, uncapped: false },
  { workers: 2, connectionsPerAgent: 4, uncapped: false },
  { workers: 1, connectionsPerAgent: 4, uncapped: false, hop: true },
];

export const poolUds: Scenario = {
  name: 'pool-uds',
  summary: 'AgentPool (workers 0/1/2) vs a raw one-socket client, echo agent over UDS, closed loop',
  takesRounds: true,
  async run(settings: ScenarioSettings): Promise<ScenarioResult> {
    const wanted = (name: string) => settings.only === undefined || settings.only.has(name);
    const groups: Array<[number, readonly PoolRowSpec[]]> = [[settings.inflight, THROUGHPUT_ROWS]];
    if (settings.inflight !== 1) groups.push([1, LATENCY_ROWS]);
    const plan = groups
      .map(([inflight, specs]) => ({
        inflight,
        raw: wanted(rawRowName(inflight)),
        pool: specs.filter((p) => wanted(poolRowName(p, inflight))),
      }))
      .filter((g) => g.raw || g.pool.length > 0);
    const notes = [
      `rows marked -c1 run connectionsPerAgent 1 with maxConcurrentPerConnection and channelBufferSize ` +
        `raised to the in-flight count, so no pool cap binds (like-for-like with the one-socket raw ` +
        `client); other rows use the pool defaults (4 connections, cap 100, channel buffer 64)`,
      `with workers, one of the 4 connections is on the calling thread and takes a request while no other ` +
        `is in flight (inlineBelowInFlight 1, the default); -hop rows put all 4 on the worker`,
      `warm-up ${settings.warmupMs} ms, window ${settings.durationMs} ms per row; one echo agent process (no handler threads) for all rows`,
    ];
    if (availableParallelism() <= 2) {
      notes.push(
        '2 cores or fewer: worker rows compete with the agent process for the same cores (the pool ' +
          'defaults to workers 0 here); judge them by CPU per request, not req/s',
      );
    }
    if (plan.length === 0) return { scenario: 'pool-uds', rows: [], notes };

    const dir = mkdtempSync(join(tmpdir(), 'zap-bench-'));
    let agent: ChildAgent | undefined;
    try {
      const socket = join(dir, 'echo.sock');
      agent = await startChildAgent(['agent', '--listen', socket, '--example', 'echo', '--id', AGENT]);
      const target: Target = { socket, pids: agent.process.pid === undefined ? [] : [agent.process.pid] };
      const rows: BenchRow[] = [];
      for (const group of plan) {
        const roundCount = group.inflight === settings.inflight ? (settings.rounds ?? 1) : 1;
        const rounds: BenchRow[][] = [];
        for (let r = 1; r <= roundCount; r++) {
          if (roundCount > 1) settings.log(`round ${r} of ${roundCount} at ${group.inflight} in flight`);
          const round: BenchRow[] = [];
          const base = group.raw ? await measureRaw(target, group.inflight, settings) : undefined;
          if (base !== undefined) round.push(base);
          for (const spec of group.pool)
            round.push(await measurePool(target, group.inflight, spec, settings, base ?? rawRowName(group.inflight)));
          rounds.push(round);
        }
        if (roundCount === 1) rows.push(...(rounds[0] ?? []));
        else {
          rows.push(...medianOfRounds(rounds));
          notes.push(roundsNote(rounds));
        }
      }
      return { scenario: 'pool-uds', rows: withP50At1(rows), notes };
    } finally {
      await agent?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function rawRowName(inflight: number): string {
  return `raw-uds@${inflight}`;
}

function poolRowName(spec: PoolRowSpec, inflight: number): string {
  return `pool-w${spec.workers}${spec.uncapped ? '-c1' : ''}${spec.hop ? '-hop' : ''}@${inflight}`;
}

async function measureRaw(agent: Target, inflight: number, s: ScenarioSettings): Promise<BenchRow> {
  const name = rawRowName(inflight);
  s.log(`${name}: one socket, hand-written client`);
  const client = await RawUdsClient.connect(agent.socket);
  try {
    const result = await runClosedLoop({
      inflight,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      peerPids: agent.pids,
      request: (seq) => {
        const cid = `r${seq}`;
        return client.request(REQUEST_HEADERS, cid, sampleRequestHeadersWire(cid));
      },
    });
    return toRow(name, 0, 1, inflight, result, undefined);
  } finally {
    client.close();
  }
}

/** `base` is the baseline row, or only its name when --only left it out. */
async function measurePool(
  agent: Target,
  inflight: number,
  spec: PoolRowSpec,
  s: ScenarioSettings,
  base: BenchRow | string,
): Promise<BenchRow> {
  const name = poolRowName(spec, inflight);
  s.log(`${name}: AgentPool workers ${spec.workers}, ${spec.connectionsPerAgent} connection(s)`);
  const pool = new AgentPool({
    workers: spec.workers,
    connectionsPerAgent: spec.connectionsPerAgent,
    ...(spec.hop ? { inlineBelowInFlight: 0 } : {}),
    ...(spec.uncapped ? { maxConcurrentPerConnection: Math.max(inflight, 100), channelBufferSize: Math.max(inflight, 64) } : {}),
  });
  try {
    const { ready } = await pool.addAgent(AGENT, `unix:${agent.socket}`);
    if (ready !== spec.connectionsPerAgent) {
      throw zapError(ErrorCode.ConnectFailed, `${name}: only ${ready} of ${spec.connectionsPerAgent} connections became ready`);
    }
    const result = await runClosedLoop({
      inflight,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      peerPids: agent.pids,
      request: (seq) => {
        const cid = `p${seq}`;
        // A headers-only request is over once the agent answered: forget its affinity, as a proxy would.
        return pool.sendRequestHeaders(AGENT, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
      },
    });
    return toRow(name, spec.workers, spec.connectionsPerAgent, inflight, result, base);
  } finally {
    await pool.destroy();
  }
}

function toRow(
  name: string,
  workers: number,
  connections: number,
  inflight: number,
  r: ClosedLoopResult,
  base: BenchRow | string | undefined,
): BenchRow {
  return toBenchRow({ name, transport: 'uds', workers, inflight, connectionsPerAgent: connections, base }, r);
}
