// Scenario reference: zap side by side with the reference Rust implementation (the published
// zentinel-agent-protocol crate, interop/reference), in one run, with the same event (the sample
// GET of sample-request.ts), in-flight count, connection count (4), warm-up and window:
//   <t>:ref-proxy>ref-agent   the crate's pool against the crate's agent (the baseline)
//   <t>:ref-proxy>zap-echo    the crate's pool against our echo agent: agent vs agent, same client
//   <t>:zap-wK>ref-agent      our AgentPool (workers 0, then 1) against the crate's agent: client vs client
// for t = uds (MessagePack everywhere: the crate's client offers it first and both agents take it)
// and grpc. Needs cargo (the peers are built on first use); not part of a bare `zap bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildAgent, type ChildAgent } from '../../src/cli/child-agent.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { toBenchRow, wantedRow } from '../bench-row.js';
import { mainThreadCpu, peerCpuUs, runClosedLoop } from '../measure.js';
import { RefProcess } from '../reference-peers.js';
import { sampleRequestHeaders } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const CONNECTIONS = 4;
const POOL_WORKERS = [0, 1] as const;
type Transport = 'uds' | 'grpc';

interface Agents {
  /** Endpoints of the crate's agent and of ours, as each side's client takes them. */
  ref: { endpoint: string; pid: number | undefined };
  zap: { endpoint: string; pid: number | undefined };
  stop(): Promise<void>;
}

export const reference: Scenario = {
  name: 'reference',
  summary: 'zap vs the reference Rust crate: its client against our echo agent, our pool (workers 0/1) against its agent (needs cargo)',
  async run(settings: ScenarioSettings): Promise<ScenarioResult> {
    const n = settings.inflight;
    const names = (t: Transport) => ({
      base: `${t}:ref-proxy>ref-agent@${n}`,
      agent: `${t}:ref-proxy>zap-echo@${n}`,
      pools: POOL_WORKERS.map((w) => `${t}:zap-w${w}>ref-agent@${n}`),
    });
    const notes = [
      `peers: interop/reference (ref-agent = the crate's UdsAgentServerV2 / GrpcAgentServerV2 with an ` +
        `echo handler; ref-proxy --load = the crate's AgentPool, ${n} closed loops), both on a ` +
        `multi-threaded tokio runtime (one thread per core); zap's echo agent = \`zap agent --example ` +
        `echo\` (no handler threads)`,
      `same event (sample GET), ${n} in flight, ${CONNECTIONS} connections per agent, warm-up ` +
        `${settings.warmupMs} ms, window ${settings.durationMs} ms per row; UDS in MessagePack on every ` +
        `row, gRPC in protobuf`,
      `×base of <t>:ref-proxy>zap-echo = our agent ÷ the crate's agent under the crate's client; of ` +
        `<t>:zap-wK>ref-agent = our pool ÷ the crate's pool against the crate's agent (expected ≥ 1 both)`,
      `CPU per request of each side: proc CPU µs/req = the whole client process (ref-proxy: getrusage ` +
        `over its window; zap: process.cpuUsage, main + workers), agent µs/req = the agent process ` +
        `(/proc) over the same window; main CPU is zap's main thread only ('-' for ref-proxy)`,
    ];
    const rows: BenchRow[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'zap-bench-reference-'));
    try {
      for (const t of ['uds', 'grpc'] as const) {
        const want = names(t);
        const plan = {
          base: wantedRow(settings.only, want.base),
          agent: wantedRow(settings.only, want.agent),
          pools: POOL_WORKERS.filter((_, i) => wantedRow(settings.only, want.pools[i] as string)),
        };
        if (!plan.base && !plan.agent && plan.pools.length === 0) continue;
        const agents = await startAgents(t, dir);
        try {
          const base = plan.base ? await measureRefProxy(want.base, t, agents.ref, settings, undefined) : want.base;
          if (typeof base !== 'string') rows.push(base);
          if (plan.agent) rows.push(await measureRefProxy(want.agent, t, agents.zap, settings, base));
          for (const workers of plan.pools)
            rows.push(await measurePool(`${t}:zap-w${workers}>ref-agent@${n}`, t, workers, agents.ref, settings, base));
        } finally {
          await agents.stop();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return { scenario: 'reference', rows, notes };
  },
};

async function startAgents(t: Transport, dir: string): Promise<Agents> {
  let ref: RefProcess | undefined;
  let zap: ChildAgent | undefined;
  const stop = async () => {
    await Promise.all([ref?.stop(), zap?.stop()]);
  };
  try {
    ref = new RefProcess('ref-agent', t === 'uds' ? ['--uds', join(dir, 'ref-agent.sock')] : ['--grpc', '127.0.0.1:0']);
    const refEndpoint = await ref.ready();
    const listen = t === 'uds' ? join(dir, 'zap-echo.sock') : 'grpc://127.0.0.1:0';
    zap = await startChildAgent([
      'agent',
      '--listen',
      listen,
      '--example',
      'echo',
      '--id',
      'zap-echo',
      ...(t === 'uds' ? ['--encoding', 'msgpack'] : []),
    ]);
    const zapEndpoint = t === 'uds' ? `unix:${listen}` : /listening on (\S+)/.exec(zap.output())?.[1];
    if (zapEndpoint === undefined) throw zapError(ErrorCode.ConnectFailed, `reference: our ${t} agent did not say where it listens`);
    return { ref: { endpoint: refEndpoint, pid: ref.pid }, zap: { endpoint: zapEndpoint, pid: zap.process.pid }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function agentCpuNow(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : peerCpuUs(pid);
}

/** A row measured by `ref-proxy --load`; the agent's CPU is sampled at its window lines. */
async function measureRefProxy(
  name: string,
  t: Transport,
  agent: Agents['ref'],
  s: ScenarioSettings,
  base: BenchRow | string | undefined,
): Promise<BenchRow> {
  s.log(`${name}: the crate's AgentPool (ref-proxy --load), ${CONNECTIONS} connections`);
  const proxy = new RefProcess('ref-proxy', [
    '--endpoint',
    agent.endpoint,
    '--load',
    '--inflight',
    String(s.inflight),
    '--connections',
    String(CONNECTIONS),
    '--warmup-ms',
    String(s.warmupMs),
    '--duration-ms',
    String(s.durationMs),
  ]);
  try {
    const limit = s.warmupMs + s.durationMs + 30_000;
    await proxy.line('window start', limit);
    const agentStart = agentCpuNow(agent.pid);
    await proxy.line('window end', limit);
    const agentEnd = agentCpuNow(agent.pid);
    const r = await proxy.result(limit);
    if (t === 'uds' && r['encoding'] !== 'msgpack')
      throw zapError(ErrorCode.HandshakeFailed, `${name}: negotiated ${String(r['encoding'])}, expected msgpack`);
    const requests = Number(r['requests']);
    const windowMs = Number(r['window_s']) * 1_000;
    const agentCpuUs = agentStart === undefined || agentEnd === undefined ? null : agentEnd - agentStart;
    return toBenchRow(
      {
        name,
        transport: t,
        workers: 0,
        inflight: s.inflight,
        connectionsPerAgent: CONNECTIONS,
        base,
        extra: agentPerRequest(agentCpuUs, requests),
      },
      {
        requests,
        windowMs,
        reqPerSec: Number(r['req_per_s']),
        latency: {
          count: requests,
          p50Us: Number(r['p50_us']),
          p99Us: Number(r['p99_us']),
          p999Us: Number(r['p999_us']),
          maxUs: Number.NaN,
        },
        // No main-thread figure for a tokio process ('-' in the table); proc CPU is its whole process.
        mainCpuUs: Number.NaN,
        cpuSource: mainThreadCpu().source,
        processCpuUs: Number(r['cpu_us']),
        peerCpuUs: agentCpuUs,
        eventLoopUtilization: Number.NaN,
        errors: Number(r['errors']),
        firstError: (r['first_error'] as string | null) ?? null,
      },
    );
  } finally {
    await proxy.stop();
  }
}

/** A row measured by our AgentPool against the crate's agent, as the other scenarios measure it. */
async function measurePool(
  name: string,
  t: Transport,
  workers: number,
  agent: Agents['ref'],
  s: ScenarioSettings,
  base: BenchRow | string,
): Promise<BenchRow> {
  s.log(`${name}: AgentPool workers ${workers}, ${CONNECTIONS} connections`);
  const pool = new AgentPool({ workers, connectionsPerAgent: CONNECTIONS, ...(t === 'uds' ? { encoding: 'msgpack' as const } : {}) });
  try {
    const { ready } = await pool.addAgent('ref', agent.endpoint);
    if (ready !== CONNECTIONS) throw zapError(ErrorCode.ConnectFailed, `${name}: only ${ready} of ${CONNECTIONS} connections became ready`);
    const result = await runClosedLoop({
      inflight: s.inflight,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      peerPids: agent.pid === undefined ? [] : [agent.pid],
      request: (seq) => {
        const cid = `p${seq}`;
        return pool.sendRequestHeaders('ref', cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
      },
    });
    return toBenchRow(
      {
        name,
        transport: t,
        workers,
        inflight: s.inflight,
        connectionsPerAgent: CONNECTIONS,
        base,
        extra: agentPerRequest(result.peerCpuUs, result.requests),
      },
      result,
    );
  } finally {
    await pool.destroy();
  }
}

function agentPerRequest(agentCpuUs: number | null, requests: number): Record<string, number | null> {
  return { 'agent µs/req': agentCpuUs === null || requests === 0 ? null : agentCpuUs / requests };
}
