// README "Body chunks and needsMore": a request body sent chunk by chunk as Uint8Array, and the agent's
// provisional (needsMore) replies. Runs on its own: node --import tsx examples/embedding-body.ts
import { startLocalAgent } from './local-agent.js';
import { requestHeadersEvent } from './request-event.js';

const stopAgent = await startLocalAgent();
// readme:start
import { AgentPool, type AgentResponse } from '../src/index.js';

// `data` is a Uint8Array (a Buffer is one); chunkIndex counts from 0, bytesReceived includes this chunk.
async function inspectBody(pool: AgentPool, cid: string, chunks: readonly Uint8Array[]): Promise<AgentResponse | undefined> {
  let bytesReceived = 0;
  let reply: AgentResponse | undefined;
  for (const [chunkIndex, data] of chunks.entries()) {
    bytesReceived += data.length;
    const isLast = chunkIndex === chunks.length - 1;
    reply = await pool.sendRequestBodyChunk('waf', cid, { correlationId: cid, data, isLast, totalSize: null, chunkIndex, bytesReceived });
    // needsMore: the decision is provisional; keep streaming, and act on it only once needsMore is false.
    if (!reply.needsMore && reply.decision.type !== 'allow') return reply;
  }
  return reply;
}
// readme:end

const pool = new AgentPool({ workers: 0, connectionsPerAgent: 1 });
try {
  await pool.addAgent('waf', process.env.WAF_ENDPOINT ?? '', { requireReady: true });
  await pool.sendRequestHeaders('waf', 'req-8', requestHeadersEvent('req-8', '/upload'));
  const first = await pool.sendRequestBodyChunk('waf', 'req-8', {
    correlationId: 'req-8',
    data: new TextEncoder().encode('abc'),
    isLast: false,
    totalSize: null,
    chunkIndex: 0,
    bytesReceived: 3,
  });
  console.log(`needsMore after a first chunk: ${first.needsMore}`);
  await pool.sendRequestHeaders('waf', 'req-9', requestHeadersEvent('req-9', '/upload'));
  const last = await inspectBody(pool, 'req-9', [Buffer.from('hello '), new TextEncoder().encode('world')]);
  console.log(`needsMore after the last chunk: ${last?.needsMore}, tags ${JSON.stringify(last?.audit.tags)}`);
} finally {
  await pool.close();
  await stopAgent();
}
