// The demo gateway: an HTTP reverse proxy on loopback that consults the agents for every request
// the way a Zentinel proxy does (spec §10.2): request headers to every agent in parallel, the first
// non-allow decision in configured order wins; request bodies (buffer mode: one chunk) to the agents
// that inspect bodies, one after another; allowed requests go upstream with the header operations
// applied. Agent failures follow each agent's failure mode, configured in the pool.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyHeaderOps } from '../protocol/header-ops.js';
import type { AgentResponse, HeaderMap, RequestHeadersEvent } from '../protocol/types.js';
import type { AgentPool } from '../pool/agent-pool.js';
import { failClosedResponse } from '../pool/failure-mode.js';
import { DemoStats } from './demo-stats.js';

export interface GatewayAgent {
  id: string;
  /** Also sent request body chunks. */
  inspectsBody: boolean;
  timeoutMs: number;
}

export interface Gateway {
  readonly server: Server;
  readonly port: number;
  readonly stats: DemoStats;
  close(): Promise<void>;
}

const MAX_BODY = 1_048_576;

export async function startGateway(pool: AgentPool, agents: GatewayAgent[], upstreamPort: number): Promise<Gateway> {
  const stats = new DemoStats(agents.map((a) => a.id));
  let next = 0;
  const server = createServer((req, res) => {
    const cid = `gw-${++next}`;
    handle(pool, agents, upstreamPort, stats, cid, req, res).catch((err: unknown) => {
      stats.gatewayErrors++;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`gateway error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  pool: AgentPool,
  agents: GatewayAgent[],
  upstreamPort: number,
  stats: DemoStats,
  cid: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = performance.now();
  const body = await readBody(req);
  const event = headersEvent(req, cid);
  let verdict: { agent: string; response: AgentResponse } | undefined;
  let headerOps: AgentResponse['requestHeaders'] = [];
  try {
    const replies = await Promise.all(
      agents.map((a) => consult(pool, a, () => pool.sendRequestHeaders(a.id, cid, event, { timeoutMs: a.timeoutMs }))),
    );
    for (const [i, reply] of replies.entries()) {
      const agent = agents[i] as GatewayAgent;
      stats.record(agent.id, reply);
      if (verdict === undefined && reply.decision.type !== 'allow') verdict = { agent: agent.id, response: reply };
      headerOps = headerOps.concat(reply.requestHeaders);
    }
    if (verdict === undefined && body.length > 0) {
      for (const agent of agents.filter((a) => a.inspectsBody)) {
        const chunk = { correlationId: cid, data: body, isLast: true, totalSize: body.length, chunkIndex: 0, bytesReceived: body.length };
        const reply = await consult(pool, agent, () => pool.sendRequestBodyChunk(agent.id, cid, chunk, { timeoutMs: agent.timeoutMs }));
        stats.record(agent.id, reply);
        if (reply.decision.type !== 'allow') {
          verdict = { agent: agent.id, response: reply };
          break;
        }
      }
    }
  } finally {
    pool.endRequest(cid);
  }
  stats.agentLatency.recordValue(Math.max(1, Math.round((performance.now() - started) * 1000)));
  if (verdict !== undefined) return answerDecision(res, verdict.response);
  await forward(req, res, upstreamPort, applyHeaderOps(event.headers, headerOps), body);
}

/** One agent call; an error here means fail-closed (fail-open agents already yield a synthetic Allow). */
async function consult(_pool: AgentPool, _agent: GatewayAgent, call: () => Promise<AgentResponse>): Promise<AgentResponse> {
  try {
    return await call();
  } catch (err) {
    return failClosedResponse(err);
  }
}

function answerDecision(res: ServerResponse, response: AgentResponse): void {
  const d = response.decision;
  if (d.type === 'block') {
    res.writeHead(d.status, { 'content-type': 'text/plain', ...(d.headers ?? {}) });
    res.end(`${d.body ?? 'Blocked'}\n`);
  } else if (d.type === 'redirect') {
    res.writeHead(d.status, { location: d.url });
    res.end();
  } else if (d.type === 'challenge') {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify({ challenge: d.challengeType, params: d.params })}\n`);
  }
}

function headersEvent(req: IncomingMessage, cid: string): RequestHeadersEvent {
  const headers: HeaderMap = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    (headers[name] ??= []).push(req.rawHeaders[i + 1] as string);
  }
  return {
    metadata: {
      correlationId: cid,
      requestId: cid,
      clientIp: req.socket.remoteAddress ?? '127.0.0.1',
      clientPort: req.socket.remotePort ?? 0,
      serverName: null,
      protocol: `HTTP/${req.httpVersion}`,
      tlsVersion: null,
      tlsCipher: null,
      routeId: 'demo',
      upstreamId: 'demo-upstream',
      timestamp: new Date().toISOString(),
    },
    method: req.method ?? 'GET',
    uri: req.url ?? '/',
    headers,
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(req: IncomingMessage, res: ServerResponse, port: number, headers: HeaderMap, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    // Node wants a plain string for single-valued headers (host must be one).
    const out: Record<string, string | string[]> = {};
    for (const [name, values] of Object.entries(headers)) {
      if (name !== 'content-length' && name !== 'connection' && values.length > 0)
        out[name] = values.length === 1 ? (values[0] as string) : values;
    }
    const upstream = httpRequest(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: { ...out, 'content-length': String(body.length) } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('end', resolve);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}
