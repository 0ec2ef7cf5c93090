// Reverse-connection scenarios: the same echo agent reached by an AgentPool (4 connections) forward
// over a Unix socket (the baseline) and reverse — the agent process dials the pool's listener and
// registers — over a Unix socket and/or TCP. Closed loops of RequestHeaders events. For each
// worker count every target is up at once and, per concurrency, the forward row runs right before
// the reverse rows it is compared with. Target: reverse ≥ 0.9× forward UDS.
//
// `reverse` (workers 0; the configured in-flight count and 1) is the overview; `reverse-uds` and
// `reverse-tcp` (reverse-uds.ts, reverse-tcp.ts) are issue 8's sweeps over workers and concurrency.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBenchRow, wantedRow } from '../bench-row.js';
import { runClosedLoop } from '../measure.js';
import { startPoolTarget, type PoolTarget } from '../pool-targets.js';
import { sampleRequestHeaders } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const CONNECTIONS = 4;

export type ReverseTransport = 'rev-uds' | 'rev-tcp';
type Transport = 'uds' | ReverseTransport;

/** The `transport` field of the rows (kept from the first version of this scenario). */
const TRANSPORT_LABEL: Readonly<Record<Transport, string>> = { uds: 'uds', 'rev-uds': 'reverse-uds', 'rev-tcp': 'reverse-tcp' };

export interface ReverseScenarioSpec {
  name: string;
  summary: string;
  reverse: readonly ReverseTransport[];
  /** Connection-host worker counts, one pass (fresh targets) each. */
  workers(settings: ScenarioSettings): number[];
  /** In-flight counts, measured in this order within a pass. */
  loads(settings: ScenarioSettings): number[];
}

/** 0, 1, 2, then doubling up to the core count (at least 0, 1, 2). */
export function workerSweep(settings?: ScenarioSettings): number[] {
  // --quick keeps the whole `zap bench --quick` under a minute: workers 0 and 1 only.
  if (settings?.quick === true) return [0, 1];
  const cores = availableParallelism();
  const out = [0, 1, 2];
  for (let w = 4; w <= cores; w *= 2) out.push(w);
  return out;
}

/** The configured in-flight count, 16 and 1 (issue 8), largest first, without repeats. */
export function reverseLoads(settings: ScenarioSettings): number[] {
  const levels = settings.quick ? [settings.inflight, 1] : [settings.inflight, 16, 1];
  return [...new Set(levels)].sort((a, b) => b - a);
}

export function reverseScenario(spec: ReverseScenarioSpec): Scenario {
  return {
    name: spec.name,
    summary: spec.summary,
    async run(settings: ScenarioSettings): Promise<ScenarioResult> {
      const workerCounts = spec.workers(settings);
      const loads = spec.loads(settings);
      const transports: Transport[] = ['uds', ...spec.reverse];
      const notes = [
        `AgentPool ${CONNECTIONS} connections per agent, workers ${workerCounts.join('/')}; fwd-uds ` +
          `dials \`zap agent --listen\`, rev-* rows are dialled by \`zap agent --reverse --connections ` +
          `${CONNECTIONS}\` (one echo agent process per transport and worker count, no handler threads)`,
        `warm-up ${settings.warmupMs} ms, window ${settings.durationMs} ms per row, in flight ` +
          `${loads.join('/')}; target: reverse rows ≥ 0.9× the fwd-uds row of the same workers and ` +
          `in-flight count`,
      ];
      const rows: BenchRow[] = [];
      const dir = mkdtempSync(join(tmpdir(), 'zap-bench-rev-'));
      try {
        for (const workers of workerCounts) {
          const needed = transports.filter((t) => loads.some((n) => wantedRow(settings.only, rowName(t, workers, n))));
          if (needed.length === 0) continue;
          const targets = new Map<Transport, PoolTarget>();
          try {
            for (const t of needed) {
              targets.set(t, await startPoolTarget(t, dir, { workers, connectionsPerAgent: CONNECTIONS }));
              settings.log(`${spec.name}: ${TRANSPORT_LABEL[t]} target up (workers ${workers}, ${CONNECTIONS} connections)`);
            }
            for (const inflight of loads) {
              for (const [t, target] of targets) {
                const name = rowName(t, workers, inflight);
                if (!wantedRow(settings.only, name)) continue;
                settings.log(`${name}: ${TRANSPORT_LABEL[t]}, workers ${workers}, ${inflight} in flight`);
                rows.push(await measure(name, t, workers, inflight, target, settings, rows));
              }
            }
          } finally {
            for (const target of targets.values()) await target.close();
          }
        }
        return { scenario: spec.name, rows, notes };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function rowName(t: Transport, workers: number, inflight: number): string {
  return `${t === 'uds' ? 'fwd-uds' : t}-w${workers}@${inflight}`;
}

async function measure(
  name: string,
  t: Transport,
  workers: number,
  inflight: number,
  target: PoolTarget,
  s: ScenarioSettings,
  rows: readonly BenchRow[],
): Promise<BenchRow> {
  const { pool, agentId } = target;
  const result = await runClosedLoop({
    inflight,
    warmupMs: s.warmupMs,
    durationMs: s.durationMs,
    peerPids: target.pids,
    request: (seq) => {
      const cid = `v${seq}`;
      return pool.sendRequestHeaders(agentId, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
    },
  });
  const baseName = rowName('uds', workers, inflight);
  const base = t === 'uds' ? undefined : (rows.find((r) => r.name === baseName) ?? baseName);
  return toBenchRow({ name, transport: TRANSPORT_LABEL[t], workers, inflight, connectionsPerAgent: CONNECTIONS, base }, result);
}

export const reverse: Scenario = reverseScenario({
  name: 'reverse',
  summary: 'AgentPool (workers 0) to an echo agent: forward UDS vs reverse UDS vs reverse TCP, closed loop',
  reverse: ['rev-uds', 'rev-tcp'],
  workers: () => [0],
  loads: (s) => (s.inflight === 1 ? [1] : [s.inflight, 1]),
});
