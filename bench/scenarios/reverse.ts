// Scenario reverse: the same echo agent reached three ways by an AgentPool (workers 0, 4
// connections): forward over a Unix socket (the baseline), and reverse — the agent process dials
// the pool's listener and registers — over a Unix socket and over TCP. A closed loop of
// RequestHeaders events; then the same at 1 in flight for latency. Target: reverse ≥ 0.9× forward.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildAgent, type ChildAgent } from '../../src/cli/child-agent.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { runClosedLoop, type ClosedLoopResult } from '../measure.js';
import { sampleRequestHeaders } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const AGENT = 'echo';
const CONNECTIONS = 4;

type Transport = 'uds' | 'reverse-uds' | 'reverse-tcp';
const TRANSPORTS: readonly Transport[] = ['uds', 'reverse-uds', 'reverse-tcp'];

export const reverse: Scenario = {
  name: 'reverse',
  summary: 'AgentPool (workers 0) to an echo agent: forward UDS vs reverse UDS vs reverse TCP, closed loop',
  async run(settings: ScenarioSettings): Promise<ScenarioResult> {
    const wanted = (name: string) => settings.only === undefined || settings.only.has(name);
    const loads = settings.inflight === 1 ? [1] : [settings.inflight, 1];
    const notes = [
      `AgentPool workers 0, ${CONNECTIONS} connections per agent in every row; the forward row dials \`zap agent --listen\`, the reverse rows are dialled by \`zap agent --reverse --connections ${CONNECTIONS}\` (one echo agent process per transport, no handler threads)`,
      `warm-up ${settings.warmupMs} ms, window ${settings.durationMs} ms per row; target: reverse rows ≥ 0.9× the forward UDS row`,
    ];
    const rows: BenchRow[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'zap-bench-rev-'));
    try {
      for (const transport of TRANSPORTS) {
        const names = loads.map((inflight) => rowName(transport, inflight)).filter(wanted);
        if (names.length === 0) continue;
        await withTarget(transport, dir, settings, async (pool, pids) => {
          for (const inflight of loads) {
            const name = rowName(transport, inflight);
            if (!wanted(name)) continue;
            settings.log(`${name}: ${transport}, ${CONNECTIONS} connections`);
            const result = await runClosedLoop({
              inflight,
              warmupMs: settings.warmupMs,
              durationMs: settings.durationMs,
              peerPids: pids,
              request: (seq) => {
                const cid = `v${seq}`;
                return pool.sendRequestHeaders(AGENT, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
              },
            });
            const base = rows.find((r) => r.name === rowName('uds', inflight));
            rows.push(toRow(name, transport, inflight, result, base ?? rowName('uds', inflight)));
          }
        });
      }
      return { scenario: 'reverse', rows, notes };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

function rowName(transport: Transport, inflight: number): string {
  return `${transport === 'uds' ? 'fwd-uds' : transport === 'reverse-uds' ? 'rev-uds' : 'rev-tcp'}-w0@${inflight}`;
}

/** A pool with the echo agent ready on `CONNECTIONS` connections of `transport`; torn down after `use`. */
async function withTarget(transport: Transport, dir: string, s: ScenarioSettings, use: (pool: AgentPool, pids: number[]) => Promise<void>): Promise<void> {
  const pool = new AgentPool({ workers: 0, connectionsPerAgent: CONNECTIONS });
  let agent: ChildAgent | undefined;
  try {
    if (transport === 'uds') {
      const socket = join(dir, 'echo.sock');
      agent = await startChildAgent(['agent', '--listen', socket, '--example', 'echo', '--id', AGENT]);
      const { ready } = await pool.addAgent(AGENT, `unix:${socket}`);
      if (ready !== CONNECTIONS) throw zapError(ErrorCode.ConnectFailed, `forward: only ${ready} of ${CONNECTIONS} connections became ready`);
    } else {
      const handle = await pool.listenReverse(transport === 'reverse-uds' ? { path: join(dir, 'reverse.sock') } : { tcpAddress: '127.0.0.1:0' });
      const endpoint = handle.path !== undefined ? `unix:${handle.path}` : `tcp://${handle.tcpAddress}`;
      agent = await startChildAgent(['agent', '--reverse', endpoint, '--id', AGENT, '--connections', String(CONNECTIONS), '--example', 'echo'], /registered with/);
      await waitReady(pool, 15_000);
      s.log(`${transport}: the agent registered ${CONNECTIONS} connections on ${endpoint}`);
    }
    const pid = agent.process.pid;
    await use(pool, pid === undefined ? [] : [pid]);
  } finally {
    await pool.destroy();
    await agent?.stop();
  }
}

async function waitReady(pool: AgentPool, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (pool.agentIds().includes(AGENT) && pool.agentStats(AGENT).healthyConnections === CONNECTIONS) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw zapError(ErrorCode.ConnectFailed, `reverse agent did not register ${CONNECTIONS} connections within ${timeoutMs} ms`);
}

function toRow(name: string, transport: Transport, inflight: number, r: ClosedLoopResult, base: BenchRow | string): BenchRow {
  const perReq = (us: number) => (r.requests === 0 ? Number.NaN : us / r.requests);
  const isBase = typeof base !== 'string' && base.name === name;
  const known = typeof base !== 'string';
  return {
    name,
    transport,
    workers: 0,
    inflight,
    reqPerSec: r.reqPerSec,
    p50Us: r.latency.p50Us,
    p99Us: r.latency.p99Us,
    p999Us: r.latency.p999Us,
    mainCpuUsPerReq: perReq(r.mainCpuUs),
    ratioToBaseline: transport === 'uds' || isBase ? 1 : known ? r.reqPerSec / base.reqPerSec : Number.NaN,
    baseline: transport === 'uds' ? name : known ? base.name : base,
    p50VsBaseline: transport === 'uds' || isBase ? 1 : known ? r.latency.p50Us / base.p50Us : Number.NaN,
    eventLoopUtilization: r.eventLoopUtilization,
    processCpuUsPerReq: perReq(r.processCpuUs),
    agentCpuPct: r.peerCpuUs === null ? null : (r.peerCpuUs / (r.windowMs * 1_000)) * 100,
    connectionsPerAgent: CONNECTIONS,
    requests: r.requests,
    errors: r.errors,
    firstError: r.firstError,
    cpuSource: r.cpuSource,
  };
}
