// Scenario open-loop: fixed arrival rates (10K, 50K, 100K req/s; --quick 5K and 20K) with latency
// from each request's intended send time (open-loop-driver.ts). The raw one-socket client at the
// same rate is the baseline; then the AgentPool (default workers for this machine, 4 connections)
// over UDS, gRPC and reverse UDS/TCP — a transport whose agent cannot be started is skipped with
// a note. Above capacity, arrivals are dropped once 10 000 requests are open (under the pool's
// 4 × 100 in flight + 10 000 queued, so the pool never has to refuse one itself).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultWorkerCount } from '../../src/pool/pool-config.js';
import { baselineFor, toBenchRow, wantedRow } from '../bench-row.js';
import { startEchoAgents } from '../echo-agents.js';
import { LATE_AFTER_MS, runOpenLoop, type OpenLoopResult } from '../open-loop-driver.js';
import { startPoolTarget, type PoolTransport } from '../pool-targets.js';
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
      `rates ${rates.map(rateLabel).join(', ')}; warm-up ${settings.warmupMs} ms and window ${settings.durationMs} ms per row at the target rate; a 1 ms timer sends every due arrival`,
      `latency = completion − intended send time, over arrivals due in the window (including their completion after it); req/s = completions inside the window (achieved rate)`,
      `inflight = most requests open at once; an arrival finding ${MAX_OUTSTANDING.toLocaleString('en-US')} open is dropped (not sent); late = sent more than ${LATE_AFTER_MS} ms after its due time (the sender fell behind)`,
      `AgentPool workers ${workers} (this machine's default), ${CONNECTIONS} connections per agent, other options default; one echo agent process per transport`,
    ];
    const rows: BenchRow[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'zap-bench-open-'));
    try {
      const rawRates = want('raw');
      if (rawRates.length > 0) {
        const agents = await startEchoAgents(dir, 1, 'raw-echo');
        try {
          const client = await RawUdsClient.connect(agents.sockets[0] as string);
          try {
            for (const rate of rawRates) {
              const name = rowName('raw', 0, rate);
              settings.log(`${name}: raw one-socket client at ${rateLabel(rate)}`);
              const result = await runOpenLoop({
                ratePerSec: rate,
                warmupMs: settings.warmupMs,
                durationMs: settings.durationMs,
                maxOutstanding: MAX_OUTSTANDING,
                peerPids: agents.pids,
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
        } finally {
          await agents.stop();
        }
      }
      for (const transport of POOL_TRANSPORTS) {
        const poolRates = want(transport);
        if (poolRates.length === 0) continue;
        let target;
        try {
          target = await startPoolTarget(transport, dir, { workers, connectionsPerAgent: CONNECTIONS });
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          settings.log(`${transport}: skipped (${why})`);
          notes.push(`${transport} rows skipped: the agent could not be reached (${why.split('\n')[0] ?? ''})`);
          continue;
        }
        try {
          for (const rate of poolRates) {
            const name = rowName(transport, workers, rate);
            settings.log(`${name}: AgentPool over ${transport} at ${rateLabel(rate)}`);
            const { pool, agentId } = target;
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
        } finally {
          await target.close();
        }
      }
    } finally {
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

function openRow(name: string, transport: string, workers: number, connections: number, r: OpenLoopResult, base: BenchRow | string | undefined): BenchRow {
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
