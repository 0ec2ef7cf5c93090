// Scenario uds: the pool over Unix sockets across the whole grid — closed loop at 1, 16 and
// --inflight (256) requests in flight, connection workers 0, 1, … up to the core count — against
// the raw one-socket client at each concurrency. One echo agent process for every row. pool-uds
// is the short fixed version of this; uds is the full sweep.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { baselineFor, toBenchRow, wantedRow } from '../bench-row.js';
import { startEchoAgents } from '../echo-agents.js';
import { runClosedLoop } from '../measure.js';
import { RawUdsClient } from '../raw-uds-client.js';
import { sampleRequestHeaders, sampleRequestHeadersWire } from '../sample-request.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const REQUEST_HEADERS = 0x10;
const CONNECTIONS = 4;

export const uds: Scenario = {
  name: 'uds',
  summary: 'AgentPool over UDS, workers 0…cores × 1/16/256 in flight, vs the raw one-socket client (closed loop)',
  async run(settings: ScenarioSettings): Promise<ScenarioResult> {
    // --quick keeps the whole `zap bench --quick` under a minute: 256 and 1 in flight, workers 0 and 1.
    const levels = settings.quick ? [...new Set([settings.inflight, 1])] : inflightLevels(settings.inflight);
    const workerCounts = settings.quick ? [0, 1] : Array.from({ length: availableParallelism() + 1 }, (_, k) => k);
    const want = (name: string) => wantedRow(settings.only, name);
    const notes = [
      `in flight ${levels.join(', ')} (the largest is --inflight); workers ` +
        `0…${workerCounts.length - 1} (os.availableParallelism() = ${availableParallelism()}); pool ` +
        `defaults otherwise: ${CONNECTIONS} connections, cap 100 per connection, channel buffer 64`,
      `warm-up ${settings.warmupMs} ms, window ${settings.durationMs} ms per row; one echo agent ` +
        `process (no handler threads) for all rows; baseline: raw-uds@N (one socket, hand-written client)`,
    ];
    if (availableParallelism() <= 2)
      notes.push('2 cores or fewer: worker rows compete with the agent for the same cores; compare main CPU µs/req, not req/s');

    const dir = mkdtempSync(join(tmpdir(), 'zap-bench-uds-'));
    const agents = await startEchoAgents(dir, 1);
    const [agentId, socket] = [agents.ids[0] as string, agents.sockets[0] as string];
    const rows: BenchRow[] = [];
    try {
      // Baselines first (ratios need them), all on one raw socket.
      const rawLevels = levels.filter((n) => want(rawName(n)));
      if (rawLevels.length > 0) {
        const client = await RawUdsClient.connect(socket);
        try {
          for (const inflight of rawLevels) {
            settings.log(`${rawName(inflight)}: one socket, hand-written client`);
            const result = await runClosedLoop({
              inflight,
              warmupMs: settings.warmupMs,
              durationMs: settings.durationMs,
              peerPids: agents.pids,
              request: (seq) => {
                const cid = `r${seq}`;
                return client.request(REQUEST_HEADERS, cid, sampleRequestHeadersWire(cid));
              },
            });
            rows.push(
              toBenchRow(
                { name: rawName(inflight), transport: 'uds', workers: 0, inflight, connectionsPerAgent: 1, base: undefined },
                result,
              ),
            );
          }
        } finally {
          client.close();
        }
      }
      // One pool per worker count, measured at every concurrency.
      for (const workers of workerCounts) {
        const wanted = levels.filter((n) => want(poolName(workers, n)));
        if (wanted.length === 0) continue;
        const pool = new AgentPool({ workers, connectionsPerAgent: CONNECTIONS });
        try {
          const { ready } = await pool.addAgent(agentId, `unix:${socket}`);
          if (ready !== CONNECTIONS)
            throw zapError(ErrorCode.ConnectFailed, `uds: only ${ready} of ${CONNECTIONS} connections became ready`);
          for (const inflight of wanted) {
            const name = poolName(workers, inflight);
            settings.log(`${name}: AgentPool workers ${workers}, ${CONNECTIONS} connections`);
            const result = await runClosedLoop({
              inflight,
              warmupMs: settings.warmupMs,
              durationMs: settings.durationMs,
              peerPids: agents.pids,
              request: (seq) => {
                const cid = `p${seq}`;
                return pool.sendRequestHeaders(agentId, cid, sampleRequestHeaders(cid)).then(() => pool.endRequest(cid));
              },
            });
            const base = baselineFor(rows, rawName(inflight));
            rows.push(toBenchRow({ name, transport: 'uds', workers, inflight, connectionsPerAgent: CONNECTIONS, base }, result));
          }
        } finally {
          await pool.destroy();
        }
      }
    } finally {
      await agents.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    // Present by concurrency (largest first), baseline first, then by worker count.
    rows.sort(
      (a, b) => b.inflight - a.inflight || (a.baseline === a.name ? -1 : 0) - (b.baseline === b.name ? -1 : 0) || a.workers - b.workers,
    );
    return { scenario: 'uds', rows, notes };
  },
};

/** 1, 16 and the configured concurrency, largest first, without repeats. */
export function inflightLevels(inflight: number): number[] {
  return [...new Set([inflight, 16, 1])].sort((a, b) => b - a);
}

function rawName(inflight: number): string {
  return `raw-uds@${inflight}`;
}

function poolName(workers: number, inflight: number): string {
  return `uds-w${workers}@${inflight}`;
}
