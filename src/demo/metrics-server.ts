// /metrics (Prometheus text of the pool's registry) and /healthz on loopback, for `zap demo
// --serve` and `zap serve`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentPool } from '../pool/agent-pool.js';

export interface MetricsServer {
  readonly server: Server;
  readonly address: string;
  close(): Promise<void>;
}

/** `pool` may be a function: `zap serve` swaps pools on reload. */
export async function startMetricsServer(
  pool: AgentPool | (() => AgentPool),
  host = '127.0.0.1',
  port = 0,
  healthy: () => boolean = () => true,
): Promise<MetricsServer> {
  const current = typeof pool === 'function' ? pool : () => pool;
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      const pool = current();
      pool.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': pool.metricsContentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
    } else if (req.url === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'draining\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    server,
    address: `${a.address}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
