// Shared setup of the HTTP engine tests: one script-agent child process (agents "a" and "b" on Unix
// sockets), one AgentPool, one upstream node:http server, and the engine's routes by path prefix.
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AgentPool } from '../../../src/pool/agent-pool.js';
import type { EventKind } from '../../../src/protocol/types.js';
import { createUpstream, type HttpUpstream } from '../../../src/http/upstream.js';
import { routeAgent, type HttpRoute, type RouteAgent } from '../../../src/http/route.js';
import type { EnginePool, HttpEngineOptions } from '../../../src/http/engine-types.js';
import { socketPath } from '../../support/tmp.js';
import type { AgentRecord } from './script-agent.js';

const ALL: EventKind[] = ['request_headers', 'request_body_chunk', 'response_headers', 'response_body_chunk', 'request_complete'];
/** Short enough to keep the timeout cases quick, long enough for a loaded 2-core box to answer the others. */
export const SHORT_TIMEOUT_MS = 300;

/** What the upstream answers for a request it echoes. */
export interface Echo {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyLength: number;
  bodySha: string;
  body: string;
}

/**
 * The upstream: `/text/<size>[?chunked]` answers `size` bytes of text; `/early` answers before reading
 * the request body; anything else echoes the request.
 */
function upstreamServer(seen: Set<string>): http.Server {
  return http.createServer((req, res) => {
    const tag = req.headers['x-test-id'];
    if (typeof tag === 'string' && seen.size < 10_000) seen.add(tag);
    const text = /^\/r\/[^/]+\/text\/(\d+)/.exec(req.url ?? '');
    if (text) {
      const size = Number(text[1]);
      const body = Buffer.alloc(size, 'abcdefghij');
      const chunked = req.url?.includes('chunked') === true;
      res.writeHead(200, chunked ? { 'content-type': 'text/plain' } : { 'content-type': 'text/plain', 'content-length': String(size) });
      // Several writes: a streamed body reaches the agents as several chunks.
      for (let at = 0; at < size; at += 16_384) res.write(body.subarray(at, at + 16_384));
      res.end();
      req.resume();
      return;
    }
    if (req.url?.includes('/early')) {
      // Answers before reading the request body (then drains it).
      res.end('early');
      req.resume();
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const echo: Echo = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        bodyLength: body.length,
        bodySha: createHash('sha256').update(body).digest('hex'),
        body: body.subarray(0, 256).toString('latin1'),
      };
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-upstream': '1',
        connection: 'keep-alive, x-hop-resp',
        'x-hop-resp': '1',
      });
      res.end(JSON.stringify(echo));
    });
  });
}

export interface HttpRig {
  pool: AgentPool;
  engineOptions: HttpEngineOptions;
  upstream: HttpUpstream;
  /** The record agent `agent` sends at request_complete for the request tagged `testId`. */
  record(agent: string, testId: string): Promise<AgentRecord>;
  /** The x-test-id of every request the upstream received. */
  seenByUpstream: Set<string>;
  /** How many times the engine called endRequest for `cid`. */
  endRequests(cid: string): number;
  /** Resolves at the first endRequest for `cid`. */
  ended(cid: string): Promise<void>;
  close(): Promise<void>;
}

export async function startRig(): Promise<HttpRig> {
  const paths = { a: socketPath('http-a'), b: socketPath('http-b') };
  const child: ChildProcess = fork(fileURLToPath(new URL('./script-agent.ts', import.meta.url)), [`a=${paths.a}`, `b=${paths.b}`], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const records = new Map<string, AgentRecord>();
  const waiters = new Map<string, (r: AgentRecord) => void>();
  child.on('message', (message: AgentRecord) => {
    const key = `${message.agent}/${message.testId}`;
    const waiter = waiters.get(key);
    if (waiter) {
      waiters.delete(key);
      waiter(message);
    } else records.set(key, message);
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`script agent exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
  });

  const seenByUpstream = new Set<string>();
  const server = upstreamServer(seenByUpstream);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const upstream = createUpstream({ id: 'echo', target: `127.0.0.1:${(server.address() as AddressInfo).port}`, connections: 8 });
  const pool = new AgentPool({ workers: 0, connectionsPerAgent: 2 });
  await pool.addAgent('a', paths.a, { requireReady: true });
  await pool.addAgent('b', paths.b, { requireReady: true });

  const a = (settings: Partial<Omit<RouteAgent, 'id'>> = {}): RouteAgent =>
    routeAgent('a', { events: ALL, failureMode: 'closed', timeoutMs: 5_000, ...settings });
  const mode = (m: 'buffer' | 'stream' | 'hybrid') => ({ mode: m, hybridThreshold: 1_024 });
  const short = { timeoutMs: SHORT_TIMEOUT_MS, chunkTimeoutMs: SHORT_TIMEOUT_MS };
  const routes: Record<string, RouteAgent[]> = {
    basic: [a()],
    two: [
      a({ events: ['request_headers', 'request_complete'] }),
      routeAgent('b', { events: ['request_headers', 'request_complete'], failureMode: 'closed' }),
    ],
    stream: [a({ requestBodyMode: mode('stream'), responseBodyMode: mode('stream') })],
    hybrid: [a({ requestBodyMode: mode('hybrid'), responseBodyMode: mode('hybrid') })],
    tclosed: [a(short)],
    topen: [a({ ...short, failureMode: 'open' })],
    small: [a({ maxRequestBodyBytes: 1_000, maxResponseBodyBytes: 1_000 })],
    smallopen: [a({ maxRequestBodyBytes: 1_000, maxResponseBodyBytes: 1_000, failureMode: 'open' })],
    chain: [
      a({ events: ['request_headers', 'request_body_chunk', 'request_complete'] }),
      routeAgent('b', { events: ['request_headers', 'request_body_chunk'], failureMode: 'closed', requestBodyMode: mode('stream') }),
    ],
  };
  const table = new Map<string, HttpRoute>(Object.entries(routes).map(([id, agents]) => [id, { id, agents, upstream }]));
  // Nothing listens on port 1 of loopback: connections are refused.
  const down = createUpstream({ id: 'down', target: '127.0.0.1:1' });
  table.set('down', { id: 'down', agents: [a()], upstream: down });

  // endRequest calls per correlation id, and who waits for one.
  const ends = new Map<string, number>();
  const endWaiters = new Map<string, () => void>();
  const counted: EnginePool = {
    sendRequestHeaders: pool.sendRequestHeaders.bind(pool),
    sendRequestBodyChunk: pool.sendRequestBodyChunk.bind(pool),
    sendResponseHeaders: pool.sendResponseHeaders.bind(pool),
    sendResponseBodyChunk: pool.sendResponseBodyChunk.bind(pool),
    sendRequestComplete: pool.sendRequestComplete.bind(pool),
    sendWebSocketFrame: pool.sendWebSocketFrame.bind(pool),
    cancelRequest: pool.cancelRequest.bind(pool),
    endRequest(cid) {
      ends.set(cid, (ends.get(cid) ?? 0) + 1);
      endWaiters.get(cid)?.();
      pool.endRequest(cid);
    },
  };
  const engineOptions: HttpEngineOptions = {
    pool: counted,
    route: (req) => table.get(/^\/r\/([^/]+)\//.exec(req.url ?? '')?.[1] ?? ''),
    log: () => {},
  };

  return {
    pool,
    engineOptions,
    upstream,
    seenByUpstream,
    endRequests: (cid) => ends.get(cid) ?? 0,
    ended(cid) {
      if (ends.has(cid)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no endRequest for ${cid}`)), 10_000);
        endWaiters.set(cid, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    record(agent, testId) {
      const key = `${agent}/${testId}`;
      const ready = records.get(key);
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no record from ${key}`)), 10_000);
        waiters.set(key, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
      });
    },
    async close() {
      await pool.close();
      await upstream.close();
      await down.close();
      server.close();
      child.disconnect();
      await once(child, 'exit');
    },
  };
}

export interface ClientResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request over a fresh connection; `body` is written in pieces of `piece` bytes. */
export async function send(
  port: number,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer; piece?: number } = {},
): Promise<ClientResponse> {
  const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false });
  const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
  const body = options.body;
  if (body !== undefined) {
    const piece = options.piece ?? body.length;
    for (let at = 0; at < body.length; at += piece) req.write(body.subarray(at, at + piece));
  }
  req.end();
  const [res] = await response;
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) };
}
