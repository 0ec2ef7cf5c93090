// The HTTP peers of the gateway scenario, each run as a child process of the benchmark so that its
// CPU is its own: `upstream <port>` answers every request with a small 200; `undici-proxy <port>
// <upstream host:port>` is the baseline, a plain reverse proxy of node:http and one undici Pool
// (streamed both ways, hop-by-hop headers dropped, no agents). Each prints `listening on <addr>`.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);
const BODY = Buffer.from('hello from upstream\n');

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

function upstream(port: number) {
  return createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length) }).end(BODY));
  }).listen(port, '127.0.0.1');
}

function undiciProxy(port: number, target: string) {
  const pool = new Pool(`http://${target}`, { connections: 64 });
  return createServer((req, res) => {
    pool
      .request({
        method: req.method as 'GET',
        path: req.url ?? '/',
        headers: forwardable(req.headers),
        // A request without a body must not be sent as an empty chunked one.
        body: req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined ? req : null,
      })
      .then(async (up) => {
        res.writeHead(up.statusCode, forwardable(up.headers as IncomingHttpHeaders));
        await pipeline(up.body, res);
      })
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy error: ${err instanceof Error ? err.message : String(err)}\n`);
      });
  }).listen(port, '127.0.0.1');
}

const [role, port, target] = process.argv.slice(2);
const server =
  role === 'upstream'
    ? upstream(Number(port))
    : role === 'undici-proxy' && target !== undefined
      ? undiciProxy(Number(port), target)
      : undefined;
if (server === undefined) {
  process.stderr.write('usage: http-peer upstream <port> | undici-proxy <port> <host:port>\n');
  process.exit(2);
}
server.keepAliveTimeout = 30_000;
server.on('listening', () => process.stdout.write(`listening on 127.0.0.1:${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
