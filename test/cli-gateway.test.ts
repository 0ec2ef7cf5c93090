// `zap gateway` as a child process of the compiled CLI, with real upstreams (node:http in this
// process) and a real agent process (the example WAF over a Unix socket): routing by priority and
// prefix over both upstream target forms, a WAF block, /metrics, a SIGHUP reload under a bounded
// load loop with no failed request, a refused reload, a SIGTERM that drains a held request, and a
// WebSocket relayed on a `websocket #true` route.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { rawExchange, upgradeRequest } from './support/raw-http.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';
import { zap, waitForOutput } from './support/zap-process.js';

/** An upstream that answers `<name> <method> <path>`; `/hold` waits until `release()`. */
async function upstream(name: string): Promise<{ address: string; release: () => void; held: () => number }> {
  const waiting: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/hold') waiting.push(res);
      else res.end(`${name} ${req.method} ${req.url}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    release: () => {
      for (const res of waiting.splice(0)) res.end(`${name} held`);
    },
    held: () => waiting.length,
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** Sends a WebSocket upgrade request on a raw socket; resolves with what the gateway answered. */
function rawUpgrade(address: string, path: string): Promise<string> {
  const at = address.lastIndexOf(':');
  return rawExchange(Number(address.slice(at + 1)), upgradeRequest(path, address), address.slice(0, at));
}

function gatewayConfig(a: string, b: string, waf: string, apiUpstream: string, secondListener = false): string {
  return `listeners {
    listener "http" {
        address "127.0.0.1:0"
        protocol "http"
    }${secondListener ? '\n    listener "second" { address "127.0.0.1:0"; }' : ''}
}
upstreams {
    upstream "a" { target "${a}"; }
    upstream "b" {
        targets {
            target { address "${b}"; }
        }
    }
}
routes {
    route "api" {
        priority 100
        matches { path-prefix "/api/"; }
        upstream "${apiUpstream}"
        agents "waf"
    }
    route "all" {
        matches { path-prefix "/"; }
        upstream "a"
        agents "waf"
    }
    route "special" {
        priority 200
        matches { path-prefix "/api/special"; }
        upstream "a"
    }
}
agents {
    agent "waf" type="waf" {
        unix-socket "${waf}"
        events "request_headers"
        failure-mode "closed"
    }
}
`;
}

test('zap gateway: routes by priority and prefix, reloads on SIGHUP without failing a request, drains on SIGTERM', async () => {
  const [a, b] = await Promise.all([upstream('A'), upstream('B')]);
  const wafPath = socketPath('gateway-waf');
  const agent = zap(['agent', '--listen', wafPath, '--example', 'waf']);
  await waitForOutput(agent.stdout, /listening on /);
  const config = join(tmpdir(), `zap-gateway-${process.pid}.kdl`);
  after(() => rmSync(config, { force: true }));
  writeFileSync(config, gatewayConfig(a.address, b.address, wafPath, 'b'));

  const gw = zap(['gateway', '--config', config, '--metrics', '127.0.0.1:0', '--workers', '0']);
  const [, listen] = await waitForOutput(gw.stdout, /listener "http" on http:\/\/([\d.]+:\d+)/);
  const [, admin] = await waitForOutput(gw.stdout, /metrics on http:\/\/([\d.]+:\d+)\/metrics/);
  const base = `http://${listen}`;

  // Priority beats order ("special" is written last), prefixes pick routes, both target forms serve.
  assert.deepEqual(await get(`${base}/api/x`), { status: 200, body: 'B GET /api/x' });
  assert.deepEqual(await get(`${base}/api/special/1`), { status: 200, body: 'A GET /api/special/1' });
  assert.deepEqual(await get(`${base}/other`), { status: 200, body: 'A GET /other' });
  assert.equal((await get(`${base}/search?q=%3Cscript%3E`)).status, 403, 'the WAF agent blocks');

  // A WebSocket upgrade on a route without `websocket #true` is refused, not relayed.
  assert.match(await rawUpgrade(listen as string, '/api/x'), /^HTTP\/1\.1 404 /);

  const metrics = await get(`http://${admin}/metrics`);
  assert.match(metrics.body, /^zap_gateway_requests_total\{route="api",status="200"\} 1$/m);
  assert.match(metrics.body, /^zap_gateway_requests_total\{route="all",status="403"\} 1$/m);
  assert.match(metrics.body, /^zap_gateway_request_duration_seconds_count\{route="special"\} 1$/m);
  assert.match(metrics.body, /^agent_connections_active\{agent="waf"\} \d+$/m);
  assert.match(metrics.body, /^process_cpu_user_seconds_total /m);

  // SIGHUP under load: four clients loop (bounded in count and time) while "api" moves to upstream a.
  const failures: string[] = [];
  const bodies = new Set<string>();
  let stop = false;
  let sent = 0;
  const deadline = Date.now() + 15_000;
  const client = async () => {
    while (!stop && sent < 4_000 && Date.now() < deadline) {
      sent++;
      try {
        const r = await get(`${base}/api/load`);
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
        else bodies.add(r.body);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const load = Promise.all([client(), client(), client(), client()]);
  await waitFor(() => sent >= 10, 10_000);
  writeFileSync(config, gatewayConfig(a.address, b.address, wafPath, 'a', true));
  gw.child.kill('SIGHUP');
  await waitForOutput(gw.stdout, /previous configuration drained/);
  const [, second] = await waitForOutput(gw.stdout, /listener "second" on http:\/\/([\d.]+:\d+)/);
  const afterReload = sent;
  await waitFor(() => sent - afterReload >= 10, 10_000);
  stop = true;
  await load;
  assert.deepEqual(failures, [], `failed requests during the reload (of ${sent})`);
  assert.deepEqual([...bodies].sort(), ['A GET /api/load', 'B GET /api/load'], 'both generations served');
  assert.deepEqual(await get(`${base}/api/x`), { status: 200, body: 'A GET /api/x' });
  assert.deepEqual(await get(`http://${second}/api/y`), { status: 200, body: 'A GET /api/y' }, 'the listener added by the reload');

  // A configuration that does not load is refused; the running one keeps serving.
  writeFileSync(config, gatewayConfig(a.address, b.address, wafPath, 'nowhere'));
  gw.child.kill('SIGHUP');
  await waitForOutput(gw.stdout, /reload refused, keeping the running configuration: .*refers to upstream "nowhere"/);
  assert.deepEqual(await get(`${base}/api/x`), { status: 200, body: 'A GET /api/x' });

  // SIGTERM with a request in flight: it completes, then the process exits 0.
  const held = get(`${base}/hold`);
  await waitFor(() => a.held() === 1, 20_000);
  gw.child.kill('SIGTERM');
  await waitForOutput(gw.stdout, /draining…/);
  assert.deepEqual(await get(`http://${admin}/healthz`), { status: 503, body: 'draining\n' });
  a.release();
  assert.deepEqual(await held, { status: 200, body: 'A held' });
  const [code] = (await once(gw.child, 'exit')) as [number];
  assert.equal(code, 0, gw.stderr());
  assert.match(gw.stdout(), /draining…[\s\S]*stopped$/m);
});

test('zap gateway refuses a block it does not serve, by name, before binding anything', async () => {
  const config = join(tmpdir(), `zap-gateway-refused-${process.pid}.kdl`);
  after(() => rmSync(config, { force: true }));
  writeFileSync(
    config,
    'listeners {\n  listener "h" { address "127.0.0.1:0"; }\n}\nupstreams {\n  upstream "u" { target "127.0.0.1:1"; }\n}\n' +
      'routes {\n  route "r" { upstream "u"; }\n}\nfilters {\n  filter "cors" { type "cors"; }\n}\n',
  );
  const gw = zap(['gateway', '--config', config, '--metrics', '127.0.0.1:0']);
  const [code] = (await once(gw.child, 'exit')) as [number];
  assert.equal(code, 1);
  assert.match(gw.stderr(), /^ZAP_INVALID_CONFIG: .*:10: 'filters' in the top level is not supported by zap gateway/m);
  assert.doesNotMatch(gw.stdout(), /listener "h" on/);
});

test('zap check summarises a gateway configuration and names an undeclared agent at its line', async () => {
  const config = join(tmpdir(), `zap-gateway-check-${process.pid}.kdl`);
  after(() => rmSync(config, { force: true }));
  writeFileSync(config, gatewayConfig('127.0.0.1:1', '127.0.0.1:2', '/tmp/zap-check-waf.sock', 'b'));
  const ok = zap(['check', config]);
  const [okCode] = (await once(ok.child, 'exit')) as [number];
  assert.equal(okCode, 0, ok.stderr());
  assert.match(ok.stdout(), /^upstream "b" round_robin: 127\.0\.0\.1:2$/m);
  assert.match(ok.stdout(), /^route "special" priority 200: path-prefix \/api\/special → upstream "a"$/m);
  assert.match(ok.stdout(), /^route "api" priority 100: path-prefix \/api\/ → upstream "b", agents waf$/m);
  writeFileSync(
    config,
    gatewayConfig('127.0.0.1:1', '127.0.0.1:2', '/tmp/zap-check-waf.sock', 'b').replace('agents "waf"', 'agents "waf" "auth"'),
  );
  const bad = zap(['check', config]);
  const [badCode] = (await once(bad.child, 'exit')) as [number];
  assert.equal(badCode, 1);
  assert.match(bad.stderr(), /^ZAP_INVALID_CONFIG: .*:20: route "api" refers to agent "auth", which is not declared in the agents block$/m);
});

test('a listener address in use fails with ZAP_INVALID_CONFIG and the process exits (the pool does not hold it)', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  after(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  const config = join(tmpdir(), `zap-gateway-busy-${process.pid}.kdl`);
  after(() => rmSync(config, { force: true }));
  writeFileSync(
    config,
    `listeners {\n  listener "h" { address "127.0.0.1:${port}"; }\n}\nupstreams {\n  upstream "u" { target "127.0.0.1:1"; }\n}\n` +
      'routes {\n  route "r" { upstream "u"; }\n}\n',
  );
  const gw = zap(['gateway', '--config', config, '--metrics', '127.0.0.1:0']);
  const [code] = (await once(gw.child, 'exit')) as [number];
  assert.equal(code, 1);
  assert.match(
    gw.stderr(),
    new RegExp(`^ZAP_INVALID_CONFIG: listener "h": cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)$`, 'm'),
  );
});

test('a reload that renames a listener at the same address keeps its socket instead of binding it again', async () => {
  const a = await upstream('A');
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const config = join(tmpdir(), `zap-gateway-rename-${process.pid}.kdl`);
  after(() => rmSync(config, { force: true }));
  const withListener = (id: string) =>
    `listeners {\n  listener "${id}" { address "127.0.0.1:${port}"; }\n}\nupstreams {\n  upstream "a" { target "${a.address}"; }\n}\n` +
    'routes {\n  route "r" { upstream "a"; }\n}\n';
  writeFileSync(config, withListener('before'));
  const gw = zap(['gateway', '--config', config, '--metrics', '127.0.0.1:0', '--workers', '0']);
  after(() => gw.child.kill('SIGKILL'));
  await waitForOutput(gw.stdout, new RegExp(`listener "before" on http://127\\.0\\.0\\.1:${port}`));
  assert.deepEqual(await get(`http://127.0.0.1:${port}/x`), { status: 200, body: 'A GET /x' });

  writeFileSync(config, withListener('after'));
  gw.child.kill('SIGHUP');
  await waitForOutput(gw.stdout, new RegExp(`listener "before" on http://127\\.0\\.0\\.1:${port} is now "after"`));
  await waitForOutput(gw.stdout, /previous configuration drained/);
  assert.doesNotMatch(gw.stdout(), /reload refused/);
  assert.deepEqual(await get(`http://127.0.0.1:${port}/y`), { status: 200, body: 'A GET /y' }, 'the same socket serves on');
});

test('a reload that fails after the reverse listener was handed over gives it back to the running pool', async () => {
  const reverse = socketPath('gateway-reverse');
  const config = join(tmpdir(), `zap-gateway-reverse-${process.pid}.kdl`);
  after(() => rmSync(config, { force: true }));
  const text = (path: string) =>
    'listeners {\n  listener "h" { address "127.0.0.1:0"; }\n}\nupstreams {\n  upstream "u" { target "127.0.0.1:1"; }\n}\n' +
    `routes {\n  route "r" { upstream "u"; }\n}\nreverse-listener {\n  path "${path}"\n  insecure-allow-unauthenticated #true\n}\n`;
  writeFileSync(config, text(reverse));
  const gw = zap(['gateway', '--config', config, '--metrics', '127.0.0.1:0']);
  await waitForOutput(gw.stdout, /listener "h" on /);
  // The new listener's directory does not exist: the new pool fails after the old one stopped listening.
  writeFileSync(config, text(join(reverse, 'no-such-dir', 'r.sock')));
  gw.child.kill('SIGHUP');
  await waitForOutput(gw.stdout, /reload refused, keeping the running configuration/);
  await waitForOutput(
    gw.stdout,
    new RegExp(`reload refused[\\s\\S]*reverse listener on ${reverse.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  await new Promise<void>((resolve, reject) => {
    const socket = connect(reverse, () => {
      socket.destroy();
      resolve();
    });
    socket.on('error', reject);
  });
  gw.child.kill('SIGTERM');
  const [code] = (await once(gw.child, 'exit')) as [number];
  assert.equal(code, 0, gw.stderr());
});

test('zap gateway relays a WebSocket on a `websocket #true` route after the agents allow the upgrade', async () => {
  const echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  echo.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await once(echo, 'listening');
  after(() => echo.close());
  const wafPath = socketPath('gateway-ws-waf');
  const agent = zap(['agent', '--listen', wafPath, '--example', 'waf']);
  await waitForOutput(agent.stdout, /listening on /);
  const config = join(tmpdir(), `zap-gateway-ws-${process.pid}.kdl`);
  after(() => rmSync(config, { force: true }));
  writeFileSync(
    config,
    `listeners {\n  listener "http" { address "127.0.0.1:0"; }\n}\n` +
      `upstreams {\n  upstream "echo" { target "127.0.0.1:${(echo.address() as AddressInfo).port}"; }\n}\n` +
      `routes {\n  route "ws" { upstream "echo"; agents "waf"; websocket #true; }\n}\n` +
      `agents {\n  agent "waf" type="waf" { unix-socket "${wafPath}"; events "request_headers"; failure-mode "closed"; }\n}\n`,
  );
  const gw = zap(['gateway', '--config', config, '--metrics', '127.0.0.1:0', '--workers', '0']);
  const [, listen] = await waitForOutput(gw.stdout, /listener "http" on http:\/\/([\d.]+:\d+)/);

  // The upgrade request goes through the WAF like any request: an attack in it is refused with 403.
  assert.match(await rawUpgrade(listen as string, '/chat?q=%3Cscript%3E'), /^HTTP\/1\.1 403 /);

  const client = new WebSocket(`ws://${listen}/chat`);
  await once(client, 'open');
  const replies: string[] = [];
  client.on('message', (data: Buffer) => replies.push(data.toString()));
  for (const text of ['one', 'two', 'three']) client.send(text);
  await waitForOutput(() => replies.join(' '), /^one two three$/, 10_000);
  client.close(1000, 'done');
  const [code] = (await once(client, 'close')) as [number];
  assert.equal(code, 1000);
  gw.child.kill('SIGTERM');
  assert.deepEqual(await once(gw.child, 'exit'), [0, null], gw.stderr());
});
