// Scenario body: request bodies of 1 KiB, 64 KiB and 1 MiB streamed as RequestBodyChunk events
// (64 KiB chunks, one cid per body, each chunk sent after the previous one's reply) to one echo
// agent over UDS. Baseline: the raw one-socket client sending the same chunk frames in JSON. Then
// the AgentPool with `encoding: 'json'` and with `encoding: 'msgpack'` (the echo agent runs
// --encoding prefer-msgpack, so it accepts either; the negotiated encoding is checked). A row's
// "request" is a whole body: req/s = bodies/s, latency = first chunk sent → last reply.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { defaultWorkerCount } from '../../src/pool/pool-config.js';
import { ErrorCode, zapError } from '../../src/protocol/errors.js';
import { baselineFor, toBenchRow, wantedRow } from '../bench-row.js';
import { bodyChunkWire, chunkCount, KIB, MIB, sendBody } from '../body-chunks.js';
import { startEchoAgents } from '../echo-agents.js';
import { runClosedLoop, type ClosedLoopResult } from '../measure.js';
import { RawUdsClient } from '../raw-uds-client.js';
import type { BenchRow, Scenario, ScenarioResult, ScenarioSettings } from '../scenario.js';

const REQUEST_BODY_CHUNK = 0x11;
const CHUNK = 64 * KIB;
const SIZES = [KIB, 64 * KIB, MIB];
/** Bodies in flight (at most): 16 × a 64 KiB chunk keeps every socket busy without MiBs of frames queued. */
const BODY_INFLIGHT = 16;
const CONNECTIONS = 4;

type Client = 'raw-json' | 'pool-json' | 'pool-msgpack';
const CLIENTS: readonly Client[] = ['raw-json', 'pool-json', 'pool-msgpack'];

export const body: Scenario = {
  name: 'body',
  summary: 'request bodies 1 KiB / 64 KiB / 1 MiB in 64 KiB RequestBodyChunk events: raw JSON vs AgentPool JSON vs MessagePack',
  async run(settings: ScenarioSettings): Promise<ScenarioResult> {
    const inflight = Math.min(settings.inflight, BODY_INFLIGHT);
    const workers = defaultWorkerCount();
    const want = (client: Client) => SIZES.filter((size) => wantedRow(settings.only, rowName(client, size, inflight)));
    const notes = [
      `${inflight} bodies in flight (min of --inflight and ${BODY_INFLIGHT}); chunks of ${CHUNK / KIB} ` +
        `KiB (1 MiB = ${chunkCount(MIB, CHUNK)} chunks), each sent after the reply to the previous one; ` +
        `one echo agent process (--encoding prefer-msgpack)`,
      `AgentPool workers ${workers} (this machine's default), ${CONNECTIONS} connections; req/s counts ` +
        `bodies; MiB/s = body bytes per second (JSON sends base64, 4/3 of them)`,
      `warm-up ${settings.warmupMs} ms, window ${settings.durationMs} ms per row; baseline raw-json: ` +
        `one socket, hand-written client, same JSON chunk frames`,
    ];
    const dir = mkdtempSync(join(tmpdir(), 'zap-bench-body-'));
    const agents = await startEchoAgents(dir, 1);
    const [agentId, socket] = [agents.ids[0] as string, agents.sockets[0] as string];
    const rows: BenchRow[] = [];
    try {
      for (const client of CLIENTS) {
        const sizes = want(client);
        if (sizes.length === 0) continue;
        const sender = await openSender(client, agentId, socket, workers);
        try {
          if (sender.encoding !== undefined && sender.encoding !== client.slice('pool-'.length)) {
            throw zapError(ErrorCode.HandshakeFailed, `${client}: the pool negotiated '${sender.encoding}'`);
          }
          for (const size of sizes) {
            const name = rowName(client, size, inflight);
            settings.log(`${name}: ${client}, ${sizeLabel(size)} bodies`);
            const result = await runClosedLoop({
              inflight,
              warmupMs: settings.warmupMs,
              durationMs: settings.durationMs,
              peerPids: agents.pids,
              request: (seq) => sender.body(`b${seq}`, size),
            });
            const base = client === 'raw-json' ? undefined : baselineFor(rows, rowName('raw-json', size, inflight));
            rows.push(bodyRow(name, client, workers, inflight, size, result, base));
          }
        } finally {
          await sender.close();
        }
      }
    } finally {
      await agents.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    rows.sort((a, b) => Number(a.extra?.['body KiB']) - Number(b.extra?.['body KiB']) || clientOrder(a) - clientOrder(b));
    return { scenario: 'body', rows, notes };
  },
};

interface Sender {
  body(cid: string, size: number): Promise<void>;
  /** The encoding the pool negotiated (undefined for the raw client, always JSON). */
  readonly encoding: string | undefined;
  close(): Promise<void>;
}

async function openSender(client: Client, agentId: string, socket: string, workers: number): Promise<Sender> {
  if (client === 'raw-json') {
    const raw = await RawUdsClient.connect(socket);
    return {
      body: (cid, size) => sendBody(cid, size, CHUNK, (chunk) => raw.request(REQUEST_BODY_CHUNK, cid, bodyChunkWire(chunk))),
      encoding: undefined,
      close: async () => raw.close(),
    };
  }
  const pool = new AgentPool({ workers, connectionsPerAgent: CONNECTIONS, encoding: client === 'pool-json' ? 'json' : 'msgpack' });
  try {
    const { ready } = await pool.addAgent(agentId, `unix:${socket}`);
    if (ready !== CONNECTIONS) throw zapError(ErrorCode.ConnectFailed, `body: only ${ready} of ${CONNECTIONS} connections became ready`);
  } catch (err) {
    await pool.destroy();
    throw err;
  }
  const encodings = new Set(pool.agentStats(agentId).connections.map((c) => c.encoding));
  return {
    body: async (cid, size) => {
      // The body is over after its last chunk's reply: forget the cid's affinity, as a proxy would.
      await sendBody(cid, size, CHUNK, (chunk) => pool.sendRequestBodyChunk(agentId, cid, chunk));
      pool.endRequest(cid);
    },
    encoding: encodings.size === 1 ? [...encodings][0] : [...encodings].join('+'),
    close: () => pool.destroy(),
  };
}

function sizeLabel(size: number): string {
  return size >= MIB ? `${size / MIB}MiB` : `${size / KIB}KiB`;
}

function rowName(client: Client, size: number, inflight: number): string {
  return `${client}-${sizeLabel(size)}@${inflight}`;
}

function clientOrder(row: BenchRow): number {
  return CLIENTS.findIndex((c) => row.name.startsWith(`${c}-`));
}

function bodyRow(
  name: string,
  client: Client,
  workers: number,
  inflight: number,
  size: number,
  r: ClosedLoopResult,
  base: BenchRow | string | undefined,
): BenchRow {
  return toBenchRow(
    {
      name,
      transport: 'uds',
      workers: client === 'raw-json' ? 0 : workers,
      inflight,
      connectionsPerAgent: client === 'raw-json' ? 1 : CONNECTIONS,
      base,
      extra: {
        encoding: client === 'pool-msgpack' ? 'msgpack' : 'json',
        'body KiB': size / KIB,
        chunks: chunkCount(size, CHUNK),
        'MiB/s': (r.reqPerSec * size) / MIB,
      },
    },
    r,
  );
}
