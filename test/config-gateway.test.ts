// The gateway blocks of the KDL loader (listeners, upstreams, routes) and the route table built from
// them: both upstream target forms, refusals by name, `file:line` reference errors, priority order.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadConfig, type ZapConfig } from '../src/config/index.js';
import { RouteTable } from '../src/gateway/route-table.js';
import { UpstreamPicker } from '../src/gateway/upstream-picker.js';
import { rejects } from './support/config-rejects.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/gateway/${name}`, import.meta.url), 'utf8');

const gatewayOf = (c: ZapConfig) => {
  assert.ok(c.gateway !== undefined, 'no gateway part');
  return c.gateway;
};

/** A valid gateway document with `route` (lines 5 onwards) as the only route. */
const withRoute = (route: string): string =>
  `upstreams {\n  upstream "b" { target "127.0.0.1:1"; }\n}\nroutes {\n${route}\n}\n` +
  `agents {\n  agent "waf" { unix-socket "/tmp/w.sock"; }\n}\n`;

describe('KDL gateway blocks', () => {
  test('the short target form, with the listener defaults and timeouts', () => {
    const g = gatewayOf(loadConfig(fixture('short-targets.kdl'), 'short.kdl'));
    assert.deepEqual(g.listeners, [
      { id: 'web', address: '127.0.0.1:8080', protocol: 'http', requestTimeoutMs: 30_000, keepaliveTimeoutMs: 60_000 },
    ]);
    assert.deepEqual(g.upstreams, [{ id: 'app', targets: [{ address: '127.0.0.1:3000', weight: 1 }], loadBalancing: 'round_robin' }]);
    assert.deepEqual(g.routes, [
      { id: 'everything', priority: 0, matches: [{ kind: 'path-prefix', value: '/' }], upstream: 'app', agents: [], websocket: false },
    ]);
  });

  test('the long targets form, weights both ways, every matcher, agents in order', () => {
    const c = loadConfig(fixture('weighted-targets.kdl'), 'weighted.kdl');
    const g = gatewayOf(c);
    assert.deepEqual(
      g.upstreams.map((u) => [u.id, u.loadBalancing, u.targets.map((t) => `${t.address}*${t.weight}`)]),
      [
        ['shop', 'weighted', ['10.1.0.1:8080*3', '10.1.0.2:8080*2', '10.1.0.3:8080*1']],
        ['legacy', 'round_robin', ['10.2.0.1:8080*1', '10.2.0.2:8080*1']],
      ],
    );
    const orders = g.routes.find((r) => r.id === 'orders');
    assert.deepEqual(orders?.matches, [
      { kind: 'path-prefix', value: '/orders/' },
      { kind: 'method', values: ['GET', 'POST'] },
    ]);
    assert.deepEqual(orders?.agents, ['firewall', 'login']);
    assert.equal(orders?.websocket, false);
    assert.equal(g.routes.find((r) => r.id === 'tenant')?.websocket, true);
    assert.equal(g.listeners[0]?.defaultRoute, 'fallback');
    assert.deepEqual(
      c.agents.map((a) => a.id),
      ['firewall', 'login'],
    );
  });

  test('blocks the reference knows and zap does not serve are refused by name, at their line', () => {
    let text = fixture('reference-extras.kdl');
    const expected: Array<[string, number]> = [
      ['limits', 20],
      ['filters', 23],
      ['observability', 28],
      ['system', 33],
    ];
    // Each refusal is the first error; remove the refused block and the next one is found.
    for (const [name, line] of expected) {
      rejects(text, line, `'${name}' in the top level is not supported by zap gateway (refused rather than ignored)`);
      const start = text.indexOf(`\n${name} {`);
      const end = text.indexOf('\n}\n', start) + 2;
      text = text.slice(0, start) + '\n'.repeat(text.slice(start, end).split('\n').length - 1) + text.slice(end);
    }
    assert.equal(gatewayOf(loadConfig(text, 't.kdl')).routes.length, 1);
  });

  test('keys inside gateway blocks that zap does not serve are refused by name too', () => {
    rejects(
      withRoute('  route "r" {\n    upstream "b"\n    filters "cors"\n  }'),
      7,
      `'filters' in route "r" is not supported by zap gateway (refused rather than ignored)`,
    );
    rejects(
      'upstreams {\n  upstream "b" {\n    target "127.0.0.1:1"\n    health-check {\n    }\n  }\n}\n',
      4,
      `'health-check' in upstream "b" is not supported by zap gateway (refused rather than ignored)`,
    );
    rejects(
      'listeners {\n  listener "l" {\n    address "127.0.0.1:1"\n    protocol "https"\n  }\n}\n',
      4,
      /protocol "https" is not supported by zap gateway/,
    );
    rejects(
      withRoute('  route "r" {\n    upstream "b"\n    matches { header name="x"; }\n  }'),
      7,
      /'header' in matches of route "r" is not supported/,
    );
    rejects(
      'upstreams {\n  upstream "b" {\n    target "127.0.0.1:1"\n    load-balancing "maglev"\n  }\n}\n',
      4,
      /load-balancing "maglev" is not supported by zap gateway/,
    );
  });

  test('unknown upstreams, agents and default routes are file:line errors at the reference', () => {
    rejects(
      withRoute('  route "r" {\n    upstream "nope"\n  }'),
      6,
      'route "r" refers to upstream "nope", which is not declared in the upstreams block',
    );
    rejects(
      withRoute('  route "r" {\n    upstream "b"\n    agents "waf"\n    agents "auth"\n  }'),
      8,
      'route "r" refers to agent "auth", which is not declared in the agents block',
    );
    rejects(
      'listeners {\n  listener "l" {\n    address "127.0.0.1:1"\n    default-route "x"\n  }\n}\n',
      4,
      'listener "l" refers to route "x", which is not declared in the routes block',
    );
  });

  test('malformed gateway keys are errors', () => {
    rejects(withRoute('  route "r" {\n  }'), 5, 'route "r" needs an upstream ("<upstream id>")');
    rejects('upstreams {\n  upstream "b" {\n  }\n}\n', 2, 'upstream "b" needs at least one target ("<host>:<port>")');
    rejects('upstreams {\n  upstream "b" { target "nohost"; }\n}\n', 2, /key 'target' in upstream "b": expected "<host>:<port>"/);
    rejects(withRoute('  route "r" {\n    upstream "b"\n    matches { path-regex "(("; }\n  }'), 7, /not a valid regular expression/);
    rejects(withRoute('  route "r" { upstream "b"; }\n  route "r" { upstream "b"; }'), 6, 'duplicate route "r" (first at line 5)');
    rejects(
      withRoute('  route "r" {\n    upstream "b"\n    priority "high"\n  }'),
      7,
      `key 'priority' in route "r": expected an integer, got "high"`,
    );
  });

  test('examples/gateway.kdl, the sample for the README, loads', () => {
    const text = readFileSync(new URL('../examples/gateway.kdl', import.meta.url), 'utf8');
    const c = loadConfig(text, 'examples/gateway.kdl');
    assert.deepEqual(
      gatewayOf(c).routes.map((r) => [r.id, r.upstream, r.agents.join(' ')]),
      [
        ['api', 'backend', 'waf auth'],
        ['reports', 'reports', 'waf'],
        ['all', 'backend', 'waf'],
      ],
    );
    assert.equal(c.agents.find((a) => a.id === 'waf')?.requestBodyMode.mode, 'stream');
  });

  test('KDL 1 booleans stay refused with the hint to write #true', () => {
    rejects(
      'listeners {\n  listener "l" {\n    address "127.0.0.1:1"\n    enabled true\n  }\n}\n',
      4,
      /'true' is not a value in KDL 2.0: write #true/,
    );
  });
});

describe('route table', () => {
  const { routes } = gatewayOf(loadConfig(fixture('weighted-targets.kdl'), 'weighted.kdl'));
  const table = new RouteTable(routes, (r) => r.upstream);
  const pick = (method: string, url: string, host?: string) => table.pick({ method, url, host }, { defaultRoute: 'fallback' })?.route.id;

  test('tries routes by priority, then in the order written', () => {
    assert.deepEqual(table.order, ['status', 'orders', 'tenant', 'fallback']);
    const same = new RouteTable(
      [
        { id: 'first', priority: 5, matches: [], upstream: 'u', agents: [], websocket: false },
        { id: 'second', priority: 5, matches: [], upstream: 'u', agents: [], websocket: false },
      ],
      () => 0,
    );
    assert.equal(same.pick({ method: 'GET', url: '/', host: undefined })?.route.id, 'first');
  });

  test('every condition must hold; the default route catches the rest', () => {
    assert.equal(pick('GET', '/status'), 'status');
    assert.equal(pick('GET', '/status/deep'), 'fallback');
    assert.equal(pick('post', '/orders/7?x=1'), 'orders');
    assert.equal(pick('DELETE', '/orders/7'), 'fallback');
    assert.equal(pick('GET', '/v2/items', 'Shop.Example.TEST:8080'), 'tenant');
    assert.equal(pick('GET', '/v2/items', 'other.test'), 'fallback');
    assert.equal(pick('GET', '/orders?/v2/'), 'fallback');
    const statusOnly = new RouteTable(
      routes.filter((r) => r.id === 'status'),
      () => 0,
    );
    assert.equal(statusOnly.pick({ method: 'GET', url: '/nothing', host: undefined }), undefined);
  });

  test('weighted targets are spread smoothly by weight', () => {
    const picker = new UpstreamPicker({
      id: 'u',
      targets: [
        { address: 'a:1', weight: 3 },
        { address: 'b:1', weight: 1 },
      ],
    });
    const seen = Array.from({ length: 8 }, () => picker.next().slice('http://'.length, -2));
    assert.deepEqual(seen, ['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
  });
});
