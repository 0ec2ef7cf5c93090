// Header text from an agent on its way into HTTP, through the engine in this process with a real
// agent on a Unix socket, a real upstream and a real client: header ops, block headers and a
// redirect location carrying CR/LF or a non-token name never add a header line (no smuggling),
// never crash the process; each is dropped with one escaped warning (a bad redirect is a 502),
// and the request goes on. The same on the raw HTTP written for a refused WebSocket upgrade.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { AgentServer } from '../../src/agent/agent-server.js';
import type { Reply } from '../../src/agent/handler.js';
import { createHttpEngine } from '../../src/http/engine.js';
import { createHttpHandler } from '../../src/http/node-handler.js';
import { rawExchange } from '../support/raw-http.js';
import { routeAgent } from '../../src/http/route.js';
import { createUpstream } from '../../src/http/upstream.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { socketPath } from '../support/tmp.js';

const SMUGGLE = 'v\r\nset-cookie: smuggled=1';
const REPLIES: Record<string, Reply> = {
  ops: {
    requestHeaders: [
      { op: 'set', name: 'x-ok', value: '1' },
      { op: 'set', name: 'x-evil', value: SMUGGLE },
      { op: 'add', name: 'bad name', value: '1' },
    ],
    responseHeaders: [
      { op: 'set', name: 'x-resp', value: SMUGGLE },
      { op: 'set', name: 'x-resp-ok', value: '1' },
    ],
  },
  block: {
    decision: { type: 'block', status: 403, body: 'no', headers: { 'x-fine': '1', 'x-bad': SMUGGLE, 'bad\r\nset-cookie': 'smuggled=1' } },
  },
  redirect: { decision: { type: 'redirect', status: 302, url: `https://a.example/${SMUGGLE}` } },
};

const agentPath = socketPath('header-abuse');
const agent = new AgentServer({
  agentId: 'abuse',
  handler: { onRequestHeaders: (e) => REPLIES[e.headers['x-abuse']?.[0] ?? ''] ?? {} },
});
await agent.listen(agentPath);
const pool = new AgentPool({ workers: 0, connectionsPerAgent: 1 });
await pool.addAgent('abuse', agentPath, { requireReady: true });

const upstreamServer = http.createServer((req, res) => res.end(JSON.stringify(req.headers)));
upstreamServer.listen(0, '127.0.0.1');
await once(upstreamServer, 'listening');
const upstream = createUpstream({ id: 'echo', target: `127.0.0.1:${(upstreamServer.address() as AddressInfo).port}` });

const warnings: string[] = [];
const engine = createHttpEngine({
  pool,
  route: { id: 'r', agents: [routeAgent('abuse', { events: ['request_headers'], failureMode: 'closed' })], upstream },
  log: (level, message) => warnings.push(`${level}: ${message}`),
});
const server = http.createServer(createHttpHandler(engine));
server.on('upgrade', (req, socket, head: Buffer) => engine.upgrade(req, socket, head));
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as AddressInfo).port;

after(async () => {
  server.closeAllConnections();
  server.close();
  await pool.close();
  await upstream.close();
  upstreamServer.close();
  await agent.close();
});

/** Everything the engine sent back on a raw connection for a request carrying `x-abuse: kind`. */
function raw(kind: string, extra = ''): Promise<string> {
  return rawExchange(port, `GET /x HTTP/1.1\r\nhost: a\r\nconnection: close\r\nx-abuse: ${kind}\r\n${extra}\r\n`);
}

const headLines = (answer: string): string[] => answer.slice(0, answer.indexOf('\r\n\r\n')).split('\r\n');

/** Every new warning, checked for the escaped quote and no raw control character. */
function takeWarnings(): string[] {
  const out = warnings.splice(0);
  for (const w of out) assert.doesNotMatch(w, /[\r\n]/, 'a warning line carries no raw CR/LF');
  return out;
}

test('invalid header ops are dropped with a warning; the valid ones apply, nothing is smuggled', async () => {
  const answer = await raw('ops');
  assert.match(answer, /^HTTP\/1\.1 200 /);
  const head = headLines(answer);
  assert.ok(head.includes('x-resp-ok: 1'), head.join(' | '));
  assert.ok(!head.some((l) => /^set-cookie|^x-resp:/i.test(l)), head.join(' | '));
  const seen = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
  assert.equal(seen['x-ok'], '1');
  assert.equal(seen['x-evil'], undefined);
  assert.equal(seen['set-cookie'], undefined);
  const logged = takeWarnings();
  assert.equal(logged.length, 3, logged.join('\n'));
  assert.ok(
    logged.every((w) => /^warn: .*agent abuse: header op (set|add) '.*' dropped/.test(w)),
    logged.join('\n'),
  );
});

test('a block keeps its valid headers only; a redirect to a location with CR/LF is a 502', async () => {
  const blocked = await raw('block');
  assert.match(blocked, /^HTTP\/1\.1 403 /);
  assert.ok(headLines(blocked).includes('x-fine: 1'));
  assert.doesNotMatch(blocked, /set-cookie|x-bad/i);
  assert.equal(takeWarnings().length, 2);

  const redirected = await raw('redirect');
  assert.match(redirected, /^HTTP\/1\.1 502 /);
  assert.doesNotMatch(redirected, /set-cookie|location/i);
  assert.match(takeWarnings().join('\n'), /redirect to 'https:\/\/a\.example\/v\\r\\nset-cookie.*' refused/);
});

test('a refused WebSocket upgrade writes only valid block headers', async () => {
  const upgrade = 'upgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  const answer = (await raw('block', upgrade)).replace('connection: close\r\n', '');
  assert.match(answer, /^HTTP\/1\.1 403 /);
  assert.ok(headLines(answer).includes('x-fine: 1'), answer);
  assert.doesNotMatch(answer, /set-cookie|x-bad/i);
  assert.equal(takeWarnings().length, 2);
  assert.equal((await raw('none')).slice(0, 12), 'HTTP/1.1 200');
});
