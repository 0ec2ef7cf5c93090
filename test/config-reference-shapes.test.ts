// Configs written for the reference: its example configs give the agent type as a child node
// (`type "auth"`), and the public docs write `connections 4` in agent blocks. Both are accepted and
// honoured; the fixtures under fixtures/reference-shapes/ are shaped like those examples.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentServer } from '../src/agent/agent-server.js';
import { agentPoolOptions, endpointOf, loadConfig, type AgentConfig } from '../src/config/index.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { DEFAULT_AGENT_OPTIONS, resolveAgentOptions } from '../src/pool/pool-config.js';
import { rejects } from './support/config-rejects.js';
import { socketPath } from './support/tmp.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const SHAPES = new URL('./fixtures/reference-shapes/', import.meta.url);
const shapeFiles = readdirSync(SHAPES)
  .filter((f) => f.endsWith('.kdl'))
  .sort();
const shape = (name: string): string => readFileSync(new URL(name, SHAPES), 'utf8');

/** One UDS agent "a" (node line 2) whose block holds `body` from line 4 on. */
function agent(body: string, props = ''): string {
  return `agents {\n  agent "a"${props} {\n    unix-socket "/tmp/a.sock"\n${body}\n  }\n}\n`;
}

const only = (text: string): AgentConfig => {
  const agents = loadConfig(text, 't.kdl').agents;
  assert.equal(agents.length, 1);
  return agents[0]!;
};

function check(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'check', file], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('configs shaped like the reference examples', () => {
  test('there are fixtures to check', () => assert.ok(shapeFiles.length >= 4, shapeFiles.join(', ')));

  for (const name of shapeFiles) {
    test(`zap check accepts ${name} (a child process of the built CLI)`, async () => {
      const file = fileURLToPath(new URL(name, SHAPES));
      const r = await check(file);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const agents = loadConfig(shape(name), name).agents.length;
      assert.match(r.stdout, new RegExp(`${name.replace('.', '\\.')}: OK, ${agents} agents?\\b`));
    });
  }

  test('the type child is honoured, with the same spellings as type=', () => {
    const types = (name: string) => Object.fromEntries(loadConfig(shape(name), name).agents.map((a) => [a.id, a.type]));
    assert.deepEqual(types('edge-gateway.kdl'), { 'login-check': 'auth', throttle: 'rate_limit' });
    assert.deepEqual(types('main-site.kdl'), { sso: 'auth', quota: 'rate_limit', shield: 'waf' });
    assert.deepEqual(types('content-guards.kdl'), {
      'jailbreak-screen': 'guardrail',
      'secret-scrubber': 'guardrail',
      'tone-review': 'guardrail',
    });
    assert.deepEqual(types('socket-watch.kdl'), { 'frame-watch': 'websocket', 'ticket-check': 'auth' });
  });

  test('the rest of the block is read as written (gRPC address=, breaker, body limit)', () => {
    const [sso, , shield] = loadConfig(shape('main-site.kdl'), 'main-site.kdl').agents;
    assert.deepEqual(sso!.transport, { kind: 'grpc', url: 'http://127.0.0.1:61021', tls: false, tlsInsecure: false });
    assert.deepEqual(sso!.circuitBreaker, { failureThreshold: 2, successThreshold: 1, openDurationMs: 12_000, halfOpenMaxRequests: 1 });
    assert.equal(sso!.failureMode, 'closed');
    assert.deepEqual(shield!.events, ['request_headers', 'request_body_chunk']);
    assert.equal(shield!.maxRequestBodyBytes, 524_288);
  });

  test('connections in the agent block becomes connections per agent', () => {
    const [frames, tickets] = loadConfig(shape('socket-watch.kdl'), 'socket-watch.kdl').agents;
    assert.equal(frames!.pool.connectionsPerAgent, 4);
    assert.equal(tickets!.pool.connectionsPerAgent, 2);
    const resolved = resolveAgentOptions(DEFAULT_AGENT_OPTIONS, agentPoolOptions(tickets!), 'ticket-check');
    assert.equal(resolved.connectionsPerAgent, 2);
  });
});

describe('the type child', () => {
  test('without type= it sets the type; a custom name stays as written', () => {
    assert.equal(only(agent('    type "rate-limit"')).type, 'rate_limit');
    assert.equal(only(agent('    type "bot-score"')).type, 'bot-score');
  });

  test('agreeing with type= is fine, spelling variants included', () => {
    assert.equal(only(agent('    type "waf"', ' type="waf"')).type, 'waf');
    assert.equal(only(agent('    type "rate_limit"', ' type="rate-limit"')).type, 'rate_limit');
  });

  test('disagreeing with type= is an error at the child line', () =>
    rejects(agent('    type "auth"', ' type="waf"'), 4, 'agent "a": type "auth" disagrees with type="waf" on the agent node'));

  test('a value that is not one non-empty string, or a second type child, is an error', () => {
    rejects(agent('    type #true'), 4, `key 'type' in agent "a": expected a non-empty string, got #true`);
    rejects(agent('    type ""'), 4, `key 'type' in agent "a": expected a non-empty string, got ""`);
    rejects(agent('    type "waf" "auth"'), 4, `key 'type' in agent "a": expected one value (a string), got 2`);
    rejects(agent('    type "waf"\n    type "auth"'), 5, `duplicate key 'type' in agent "a" (first at line 4)`);
  });
});

describe('connections in an agent block', () => {
  test('sets pool.connectionsPerAgent, which the pool options carry', () => {
    const a = only(agent('    connections 3\n    type "waf"'));
    assert.deepEqual(a.pool, { connectionsPerAgent: 3 });
    // The loader's working fields do not leak into the typed result (nor into `zap check --json`).
    assert.deepEqual(
      Object.keys(a).filter((k) => k === 'connections' || k === 'typeChild'),
      [],
    );
    assert.equal(agentPoolOptions(a).connectionsPerAgent, 3);
  });

  test('agreeing with pool { connections-per-agent } is fine, before or after it', () => {
    assert.equal(only(agent('    connections 3\n    pool {\n      connections-per-agent 3\n    }')).pool.connectionsPerAgent, 3);
    assert.equal(only(agent('    pool {\n      connections-per-agent 3\n    }\n    connections 3')).pool.connectionsPerAgent, 3);
  });

  test('disagreeing with pool { connections-per-agent } is an error at the connections line', () => {
    const what = 'agent "a": connections 2 disagrees with pool { connections-per-agent 5 }';
    rejects(agent('    connections 2\n    pool {\n      connections-per-agent 5\n    }'), 4, what);
    rejects(agent('    pool {\n      connections-per-agent 5\n    }\n    connections 2'), 7, what);
  });

  test('it must be a positive integer', () => {
    rejects(agent('    connections 0'), 4, `key 'connections' in agent "a": expected an integer ≥ 1, got 0`);
    rejects(agent('    connections "4"'), 4, `key 'connections' in agent "a": expected an integer ≥ 1, got "4"`);
  });

  test('a pool built from the config opens that many connections to a real agent', async () => {
    const path = socketPath('conns');
    const server = new AgentServer({ agentId: 'conns', handler: {} });
    await server.listen(path);
    const pool = new AgentPool({ workers: 0 });
    after(async () => {
      await pool.close();
      await server.close();
    });
    const config = loadConfig(
      `agents {\n  agent "conns" {\n    type "auth"\n    unix-socket "${path}"\n    connections 3\n  }\n}\n`,
      'c.kdl',
    );
    const a = config.agents[0]!;
    const { ready } = await pool.addAgent(a.id, endpointOf(a), agentPoolOptions(a));
    assert.equal(ready, 3);
  });
});
