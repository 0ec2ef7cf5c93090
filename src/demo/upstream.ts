// The demo's upstream: a tiny HTTP server on loopback that answers every request with 200 and
// echoes the headers the agents added (so the demo can show header operations took effect).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startUpstream(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const added = Object.entries(req.headers)
        .filter(([name]) => name.startsWith('x-agent-') || name === 'x-auth-subject')
        .map(([name, value]) => `${name}: ${String(value)}`);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`hello from upstream\n${added.join('\n')}\n`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
