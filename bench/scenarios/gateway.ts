// Scenario gateway (issue 15): HTTP requests per second through `zap gateway` with 0, 1 and 3
// echo agents (Unix sockets), against a plain undici reverse proxy to the same upstream in the same
// run. Load from autocannon (closed loop, keep-alive). Proxies, upstream and agents are child
// processes, so each one's CPU is its own; reported: added p50 / p99 over the baseline, and the
// main thread's share of the proxy process's CPU.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startChildAgent, startChildScript } from '../../src/cli/child-agent.js';
import { defaultWorkerCount } from '../../src/pool/pool-config.js';
import { mainCeiling, wantedRow } from '../bench-row.js';
import { startEchoAgents } from '../echo-agents.js';
import { peerCpuUs, readStatCpuUs } from '../measure.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const PEER = fileURLToPath(new URL(`../http-peer${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));
/** Connections autocannon keeps open, at most (256 HTTP connections swamp a small box). */
const MAX_CONNECTIONS = 64;
const BASELINE = 'undici-proxy';
/** Up to the newline, so that an address split across two stdout chunks is never read half. */
const PEER_READY = /listening on (\S+)\n/;
const AGENT_COUNTS = [0, 1, 3] as const;

interface Peer {
  readonly process: ChildProcess;
  readonly address: string;
  stop(): Promise<void>;
}

/** Forks bench/http-peer with `args`; resolves with the address it printed (the whole line). */
async function startPeer(args: string[]): Promise<Peer> {
  const child = await startChildScript(PEER, args, `http-peer ${args.join(' ')}`, PEER_READY, 10_000);
  const address = PEER_READY.exec(child.output())?.[1] as string;
  return { process: child.process, address, stop: child.stop };
}

/** Awaits children started side by side; every one that started is stopped by `stops`, even if another failed. */
async function started<A extends { stop(): Promise<void> }, B extends { stop(): Promise<void> }>(
  stops: Array<() => Promise<void>>,
  a: Promise<A>,
  b: Promise<B>,
): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  for (const r of [ra, rb]) if (r.status === 'fulfilled') stops.push(() => r.value.stop());
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

function gatewayConfig(upstream: string, sockets: readonly string[], ids: readonly string[]): string {
  const agents = ids.map((id, i) => `    agent "${id}" { unix-socket "${sockets[i]}"; events "request_headers"; }`).join('\n');
  const route = (n: number) =>
    `    route "a${n}" {\n        matches { path-prefix "/a${n}/"; }\n        upstream "up"\n` +
    (n === 0
      ? ''
      : `        agents ${ids
          .slice(0, n)
          .map((id) => `"${id}"`)
          .join(' ')}\n`) +
    '    }';
  return [
    'listeners {\n    listener "http" { address "127.0.0.1:0"; protocol "http"; }\n}',
    `upstreams {\n    upstream "up" { target "${upstream}"; }\n}`,
    `routes {\n${AGENT_COUNTS.map(route).join('\n')}\n}`,
    `agents {\n${agents}\n}`,
    '',
  ].join('\n');
}

interface Measured {
  reqPerSec: number;
  requests: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  errors: number;
  mainCpuUs: number;
  processCpuUs: number;
  agentCpuUs: number | null;
  windowMs: number;
}

/** Warm-up, then one autocannon window; CPU of `pid` (main thread and whole process) and of `agents` over it. */
async function measure(url: string, pid: number, agentPids: readonly number[], s: ScenarioSettings): Promise<Measured> {
  const connections = Math.min(s.inflight, MAX_CONNECTIONS);
  if (s.warmupMs > 0) await autocannon({ url, connections, duration: s.warmupMs / 1000 });
  const mainStat = `/proc/${pid}/task/${pid}/stat`;
  const agentCpu = () => agentPids.reduce((sum, p) => sum + (peerCpuUs(p) ?? Number.NaN), 0);
  // Whole process first, main thread last (and the reverse at the end): the share cannot pass 1.
  const allBefore = peerCpuUs(pid);
  const before = { all: allBefore, main: readStatCpuUs(mainStat), agents: agentCpu(), at: performance.now() };
  const r = await autocannon({ url, connections, duration: s.durationMs / 1000 });
  const windowMs = performance.now() - before.at;
  const main = readStatCpuUs(mainStat);
  const all = peerCpuUs(pid);
  const requests = r.requests.total;
  return {
    reqPerSec: (requests * 1000) / windowMs,
    requests,
    p50Us: r.latency.p50 * 1000,
    p99Us: r.latency.p99 * 1000,
    p999Us: r.latency.p99_9 * 1000,
    errors: r.errors + r.timeouts + r.non2xx,
    mainCpuUs: main === undefined || before.main === undefined ? Number.NaN : main - before.main,
    processCpuUs: all === undefined || before.all === undefined ? Number.NaN : all - before.all,
    agentCpuUs: agentPids.length === 0 ? null : agentCpu() - before.agents,
    windowMs,
  };
}

function row(name: string, workers: number, inflight: number, m: Measured, base: BenchRow | undefined): BenchRow {
  const perReq = (us: number) => (m.requests === 0 ? Number.NaN : us / m.requests);
  return {
    name,
    transport: name === BASELINE ? 'http (undici)' : 'http → uds agents',
    workers,
    inflight,
    reqPerSec: m.reqPerSec,
    p50Us: m.p50Us,
    p99Us: m.p99Us,
    p999Us: m.p999Us,
    mainCpuUsPerReq: perReq(m.mainCpuUs),
    mainCpuVsBaseline: base === undefined ? (name === BASELINE ? 1 : Number.NaN) : perReq(m.mainCpuUs) / base.mainCpuUsPerReq,
    mainCeilingPerSec: mainCeiling(perReq(m.mainCpuUs)),
    ratioToBaseline: base === undefined ? (name === BASELINE ? 1 : Number.NaN) : m.reqPerSec / base.reqPerSec,
    baseline: BASELINE,
    p50VsBaseline: base === undefined ? (name === BASELINE ? 1 : Number.NaN) : m.p50Us / base.p50Us,
    // The proxy is another process: its event loop is not observable from here.
    eventLoopUtilization: Number.NaN,
    processCpuUsPerReq: perReq(m.processCpuUs),
    agentCpuPct: m.agentCpuUs === null ? null : (m.agentCpuUs / (m.windowMs * 1_000)) * 100,
    connectionsPerAgent: 4,
    requests: m.requests,
    errors: m.errors,
    firstError: m.errors > 0 ? 'non-2xx, timeout or socket error (autocannon counts)' : null,
    cpuSource: Number.isNaN(m.mainCpuUs) ? 'process' : 'thread',
    extra: {
      addedP50Us: base === undefined ? null : Math.round(m.p50Us - base.p50Us),
      addedP99Us: base === undefined ? null : Math.round(m.p99Us - base.p99Us),
      mainThreadShare: Number.isNaN(m.mainCpuUs) || m.processCpuUs <= 0 ? null : Number((m.mainCpuUs / m.processCpuUs).toFixed(3)),
    },
  };
}

async function run(s: ScenarioSettings): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'zap-bench-gateway-'));
  const stops: Array<() => Promise<void>> = [];
  const workers = defaultWorkerCount();
  const inflight = Math.min(s.inflight, MAX_CONNECTIONS);
  try {
    const [upstream, agents] = await started(stops, startPeer(['upstream', '0']), startEchoAgents(dir, Math.max(...AGENT_COUNTS)));
    const config = join(dir, 'gateway.kdl');
    writeFileSync(config, gatewayConfig(upstream.address, agents.sockets, agents.ids));
    const [proxy, gateway] = await started(
      stops,
      startPeer(['undici-proxy', '0', upstream.address]),
      startChildAgent(
        ['gateway', '--config', config, '--metrics', '127.0.0.1:0', '--workers', String(workers)],
        /listener "http" on http:\/\/\S+\n/,
      ),
    );
    const listen = /listener "http" on http:\/\/(\S+)/.exec(gateway.output())?.[1] as string;

    const rows: BenchRow[] = [];
    let base: BenchRow | undefined;
    if (wantedRow(s.only, BASELINE)) {
      s.log(`gateway: ${BASELINE}, ${inflight} connections`);
      base = row(BASELINE, 0, inflight, await measure(`http://${proxy.address}/a0/x`, proxy.process.pid as number, [], s), undefined);
      rows.push(base);
    }
    for (const n of AGENT_COUNTS) {
      const name = `gateway-${n}-agent${n === 1 ? '' : 's'}`;
      if (!wantedRow(s.only, name)) continue;
      s.log(`gateway: ${name}, ${inflight} connections`);
      const m = await measure(`http://${listen}/a${n}/x`, gateway.process.pid as number, agents.pids.slice(0, n), s);
      rows.push(row(name, workers, inflight, m, base));
    }
    return {
      scenario: 'gateway',
      rows,
      notes: [
        `autocannon, ${inflight} keep-alive connections, GET of a 20-byte answer; ` +
          'the upstream, the proxies and the agents are child processes',
        `zap gateway runs with --workers ${workers} (the pool default here); echo agents allow every request (request_headers only)`,
        'extra: addedP50Us / addedP99Us = latency over the undici proxy; mainThreadShare = the proxy main thread’s part of its process CPU',
      ],
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

export const gatewayScenario: Scenario = {
  name: 'gateway',
  summary: 'HTTP through zap gateway with 0, 1, 3 agents vs a plain undici proxy (autocannon)',
  run,
};
