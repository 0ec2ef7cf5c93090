// Scenario grpc: one echo agent process serving gRPC (`zap agent --listen grpc://127.0.0.1:0`), the
// same for every row. The raw hand-written ProcessStream client (raw-grpc-client.ts) is the
// baseline; the AgentPool runs with workers 0, 1, 2 and 1 or 4 connections. Then the same at 1 in
// flight, plus a workers-1 row with every connection on the worker (`-hop`). Targets: pool ≥ 0.7×
// raw (issue 4) / ≥ 0.6× raw (issue 8); the reference implementation publishes 28K req/s over gRPC,
// so every throughput row also shows its rate against that figure.
import { startChildAgent, type ChildAgent } from '../../src/cli/child-agent.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { toBenchRow, wantedRow, withP50At1 } from '../bench-row.js';
import { runClosedLoop } from '../measure.js';
import { RawGrpcClient, encodeRawProxyToAgent, sampleRequestHeadersProto } from '../raw-grpc-client.js';
import { sampleRequestHeaders } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const AGENT = 'echo';
/** The reference implementation's published gRPC throughput (req/s). */
const REFERENCE_REQ_PER_SEC = 28_000;

interface PoolRowSpec {
  workers: number;
  connectionsPerAgent: number;
  /** Every connection on a worker (inlineBelowInFlight 0): each call pays the thread hop, light load or not. */
  hop?: true;
}

const THROUGHPUT_ROWS: readonly PoolRowSpec[] = [0, 1, 2].flatMap((workers) => [
  { workers, connectionsPerAgent: 4 },
  { workers, connectionsPerAgent: 1 },
]);
const LATENCY_ROWS: readonly PoolRowSpec[] = [
  ...[0, 1, 2].map((workers) => ({ workers, connectionsPerAgent: 4 })),
  { workers: 1, connectionsPerAgent: 4, hop: true },
];

export const grpcScenario: Scenario = {
  name: 'grpc',
  summary: 'AgentPool over gRPC (workers 0/1/2, 1 or 4 connections) vs a raw one-stream grpc-js client, echo agent, closed loop',
  async run(settings: ScenarioSettings): Promise<ScenarioResult> {
    const wanted = (name: string) => wantedRow(settings.only, name);
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
      `one echo agent process (gRPC, cleartext h2c on 127.0.0.1, no handler threads) for all rows; ` +
        `raw-grpc = one ProcessStream, protobuf encoded by hand, no pool features; pool rows use one ` +
        `HTTP/2 connection per pool connection`,
      `with workers, one of the connections is on the calling thread and takes a request while no other ` +
        `is in flight (inlineBelowInFlight 1, the default; not with 1 connection); -hop rows put all on the worker`,
      `-c1 rows lift maxConcurrentPerConnection and channelBufferSize to the in-flight count ` +
        `(like-for-like with the one-stream raw client); -c4 rows use the pool defaults (cap 100, ` +
        `channel buffer 64)`,
      `warm-up ${settings.warmupMs} ms, window ${settings.durationMs} ms per row; targets: pool ≥ 0.7× ` +
        `raw (issue 4), ≥ 0.6× raw (issue 8); ×ref28K = req/s ÷ the reference's published ` +
        `${REFERENCE_REQ_PER_SEC.toLocaleString('en-US')} req/s (different machine: indicative only)`,
    ];
    if (plan.length === 0) return { scenario: 'grpc', rows: [], notes };

    let agent: ChildAgent | undefined;
    try {
      agent = await startChildAgent(['agent', '--listen', 'grpc://127.0.0.1:0', '--example', 'echo', '--id', AGENT]);
      const endpoint = /listening on (grpc:\/\/\S+)/.exec(agent.output())?.[1];
      if (endpoint === undefined)
        throw zapError(ErrorCode.ConnectFailed, `grpc: the agent did not say where it listens: ${agent.output()}`);
      const pid = agent.process.pid;
      const target: Target = { endpoint, pids: pid === undefined ? [] : [pid] };
      const rows: BenchRow[] = [];
      for (const group of plan) {
        const base = group.raw ? await measureRaw(target, group.inflight, settings) : undefined;
        if (base !== undefined) rows.push(base);
        for (const spec of group.pool)
          rows.push(await measurePool(target, group.inflight, spec, settings, base ?? rawRowName(group.inflight)));
      }
      const best = rows
        .filter((r) => r.inflight === settings.inflight && r.name.startsWith('pool-'))
        .sort((a, b) => b.reqPerSec - a.reqPerSec)[0];
      if (best !== undefined) {
        notes.push(
          `best pool row ${best.name}: ${Math.round(best.reqPerSec).toLocaleString('en-US')} req/s = ` +
            `${(best.reqPerSec / REFERENCE_REQ_PER_SEC).toFixed(2)}× the reference's 28K req/s`,
        );
      }
      return { scenario: 'grpc', rows: withP50At1(rows), notes };
    } finally {
      await agent?.stop();
    }
  },
};

interface Target {
  /** grpc://host:port as the agent printed it. */
  endpoint: string;
  pids: number[];
}

function rawRowName(inflight: number): string {
  return `raw-grpc@${inflight}`;
}

function poolRowName(spec: PoolRowSpec, inflight: number): string {
  return `pool-w${spec.workers}-c${spec.connectionsPerAgent}${spec.hop ? '-hop' : ''}@${inflight}`;
}

function extraFor(reqPerSec: number, inflight: number): Record<string, number | null> {
  return { '×ref28K': inflight === 1 ? null : reqPerSec / REFERENCE_REQ_PER_SEC };
}

async function measureRaw(t: Target, inflight: number, s: ScenarioSettings): Promise<BenchRow> {
  const name = rawRowName(inflight);
  s.log(`${name}: one ProcessStream, hand-written grpc-js client`);
  const client = await RawGrpcClient.connect(t.endpoint.replace(/^grpc:\/\//, ''));
  try {
    const result = await runClosedLoop({
      inflight,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      peerPids: t.pids,
      request: (seq) => {
        const cid = `r${seq}`;
        return client.request(cid, encodeRawProxyToAgent(sampleRequestHeadersProto(cid)));
      },
    });
    return toBenchRow(
      {
        name,
        transport: 'grpc',
        workers: 0,
        inflight,
        connectionsPerAgent: 1,
        base: undefined,
        extra: extraFor(result.reqPerSec, inflight),
      },
      result,
    );
  } finally {
    client.close();
  }
}

/** `base` is the baseline row, or only its name when --only left it out. */
async function measurePool(
  t: Target,
  inflight: number,
  spec: PoolRowSpec,
  s: ScenarioSettings,
  base: BenchRow | string,
): Promise<BenchRow> {
  const name = poolRowName(spec, inflight);
  s.log(`${name}: AgentPool workers ${spec.workers}, ${spec.connectionsPerAgent} gRPC connection(s)`);
  const uncapped = spec.connectionsPerAgent === 1;
  const pool = new AgentPool({
    workers: spec.workers,
    connectionsPerAgent: spec.connectionsPerAgent,
    ...(spec.hop ? { inlineBelowInFlight: 0 } : {}),
    ...(uncapped ? { maxConcurrentPerConnection: Math.max(inflight, 100), channelBufferSize: Math.max(inflight, 64) } : {}),
  });
  try {
    const { ready } = await pool.addAgent(AGENT, t.endpoint);
    if (ready !== spec.connectionsPerAgent) {
      throw zapError(ErrorCode.ConnectFailed, `${name}: only ${ready} of ${spec.connectionsPerAgent} connections became ready`);
    }
    const result = await runClosedLoop({
      inflight,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      peerPids: t.pids,
      request: (seq) => {
        const cid = `p${seq}`;
        // A headers-only request is over once the agent answered: forget its affinity, as a proxy would.
        return pool.sendRequestHeaders(AGENT, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
      },
    });
    return toBenchRow(
      {
        name,
        transport: 'grpc',
        workers: spec.workers,
        inflight,
        connectionsPerAgent: spec.connectionsPerAgent,
        base,
        extra: extraFor(result.reqPerSec, inflight),
      },
      result,
    );
  } finally {
    await pool.destroy();
  }
}
