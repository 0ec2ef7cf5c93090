// Scenario open-loop: fixed arrival rates (10K, 50K, 100K req/s; --quick 5K and 20K) with latency
// from each request's intended send time (open-loop-driver.ts). The raw one-socket client at the
// same rate is the baseline; then the AgentPool (default workers for this machine, 4 connections)
// over UDS, gRPC and reverse UDS/TCP. A transport whose agent cannot be started is skipped with a
// note, so gRPC and reverse rows appear wherever those transports work. Above capacity, arrivals
// are dropped once 10 000 requests are open (under the pool's 4 × 100 in flight + 10 000 queued,
// so the pool never has to refuse one itself).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultWorkerCount } from '../../src/pool/pool-config.js';
import { baselineFor, toBenchRow, wantedRow } from '../bench-row.js';
import { startEchoAgents, type EchoAgents } from '../echo-agents.js';
import { LATE_AFTER_MS, runOpenLoop, type OpenLoopResult } from '../open-loop-driver.js';
import { startPoolTarget, type PoolTarget, type PoolTransport } from '../pool-targets.js';
import { RawUdsClient } from '../raw-uds-client.js';
import { sampleRequestHeaders, sampleRequestHeadersWire } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const REQUEST_HEADERS = 0x10;
const CONNECTIONS = 4;
const MAX_OUTSTANDING = 10_000;
const RATES = [10_000, 50_000, 100_000];
const QUICK_RATES = [5_000, 20_000];
const POOL_TRANSPORTS: readonly PoolTransport[] = ['uds', 'grpc', 'rev-uds', 'rev-tcp'];

type Target = 'raw' | PoolTransport;

export const openLoop: Scenario = {
  name: 'open-loop',
  summary: 'fixed arrival rates, latency from the intended send time: raw UDS vs AgentPool over UDS, gRPC, reverse',
  async run(settings: ScenarioSettings): Promise<ScenarioResult> {
    const rates = settings.quick ? QUICK_RATES : RATES;
    const workers = defaultWorkerCount();
    const want = (target: Target) => rates.filter((rate) => wantedRow(settings.only, rowName(target, workers, rate)));
    const notes = [
      `rates ${rates.map(rateLabel).join(', ')}; warm-up ${settings.warmupMs} ms and window ` +
        `${settings.durationMs} ms per row at the target rate; a 1 ms timer sends every due arrival, ` +
        `which adds up to ~1 ms (about 0.5 ms on average) to every row's latency alike`,
      `latency = completion − intended send time, over arrivals due in the window (including their ` +
        `completion after it); req/s = completions inside the window (achieved rate)`,
      `inflight = most requests open at once; an arrival finding ` +
        `${MAX_OUTSTANDING.toLocaleString('en-US')} open is dropped (not sent); late = sent more than ` +
        `${LATE_AFTER_MS} ms after its due time (the sender fell behind)`,
      `AgentPool workers ${workers} (this machine's default), ${CONNECTIONS} connections per agent, ` +
        `other options default; one echo agent process per transport (the raw client shares the ` +
        `forward-UDS one), all started before the first row`,
    ];
    const rows: BenchRow[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'zap-bench-open-'));
    const targets = new Map<PoolTransport, PoolTarget>();
    let rawAgents: EchoAgents | undefined;
    try {
      // Every agent starts up front, in parallel (start-up dominates short runs); the idle ones
      // only answer a ping now and then. The raw baseline shares the forward-UDS agent.
      const transports = POOL_TRANSPORTS.filter((t) => want(t).length > 0 || (t === 'uds' && want('raw').length > 0));
      const started = await Promise.allSettled(
        transports.map((t) => startPoolTarget(t, dir, { workers, connectionsPerAgent: CONNECTIONS })),
      );
      // Registered first, so that `finally` closes every started one whatever happens next.
      for (const [i, outcome] of started.entries())
        if (outcome.status === 'fulfilled') targets.set(transports[i] as PoolTransport, outcome.value);
      started.forEach((outcome, i) => {
        const transport = transports[i] as PoolTransport;
        if (outcome.status === 'fulfilled') return;
        // Forward UDS is the transport under test everywhere: its failure is an error, not a skip.
        if (transport === 'uds') throw outcome.reason;
        const why = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
        settings.log(`${transport}: skipped (${why})`);
        notes.push(`${transport} rows skipped: the agent could not be reached (${why.split('\n')[0] ?? ''})`);
      });

      const rawRates = want('raw');
      if (rawRates.length > 0) {
        const shared = targets.get('uds');
        if (shared?.socket === undefined) rawAgents = await startEchoAgents(dir, 1, 'raw-echo');
        const socket = shared?.socket ?? (rawAgents?.sockets[0] as string);
        const pids = shared?.pids ?? rawAgents?.pids ?? [];
        const client = await RawUdsClient.connect(socket);
        try {
          for (const rate of rawRates) {
            const name = rowName('raw', 0, rate);
            settings.log(`${name}: raw one-socket client at ${rateLabel(rate)}`);
            const result = await runOpenLoop({
              ratePerSec: rate,
              warmupMs: settings.warmupMs,
              durationMs: settings.durationMs,
              maxOutstanding: MAX_OUTSTANDING,
              peerPids: pids,
              request: (seq) => {
                const cid = `r${seq}`;
                return client.request(REQUEST_HEADERS, cid, sampleRequestHeadersWire(cid));
              },
            });
            rows.push(openRow(name, 'uds', 0, 1, result, undefined));
          }
        } finally {
          client.close();
        }
      }
      for (const [transport, target] of targets) {
        const { pool, agentId } = target;
        for (const rate of want(transport)) {
          const name = rowName(transport, workers, rate);
          settings.log(`${name}: AgentPool over ${transport} at ${rateLabel(rate)}`);
          const result = await runOpenLoop({
            ratePerSec: rate,
            warmupMs: settings.warmupMs,
            durationMs: settings.durationMs,
            maxOutstanding: MAX_OUTSTANDING,
            peerPids: target.pids,
            request: (seq) => {
              const cid = `o${seq}`;
              return pool.sendRequestHeaders(agentId, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
            },
          });
          rows.push(openRow(name, transport, workers, CONNECTIONS, result, baselineFor(rows, rowName('raw', 0, rate))));
        }
      }
    } finally {
      await Promise.all([...targets.values()].map((t) => t.close()));
      await rawAgents?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    const order = (r: BenchRow) => ['raw', ...POOL_TRANSPORTS].findIndex((t) => r.name.startsWith(`${t === 'raw' ? 'raw-uds' : t}-`));
    rows.sort((a, b) => Number(a.extra?.['target/s']) - Number(b.extra?.['target/s']) || order(a) - order(b));
    return { scenario: 'open-loop', rows, notes };
  },
};

function rateLabel(rate: number): string {
  return rate % 1_000 === 0 ? `${rate / 1_000}k/s` : `${rate}/s`;
}

function rowName(target: Target, workers: number, rate: number): string {
  return target === 'raw' ? `raw-uds@${rateLabel(rate)}` : `${target}-w${workers}@${rateLabel(rate)}`;
}

function openRow(
  name: string,
  transport: string,
  workers: number,
  connections: number,
  r: OpenLoopResult,
  base: BenchRow | string | undefined,
): BenchRow {
  return toBenchRow(
    {
      name,
      transport,
      workers,
      inflight: r.peakOutstanding,
      connectionsPerAgent: connections,
      base,
      extra: { 'target/s': r.targetRate, sent: r.sent, dropped: r.dropped, late: r.late },
    },
    r,
  );
}
