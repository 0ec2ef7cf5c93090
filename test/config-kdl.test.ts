// KDL configuration loader (spec §13): the §13.4 example, GV-28, and one test per error class.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { agentPoolOptions, endpointOf, loadConfig, type AgentConfig, type ZapConfig } from '../src/config/index.js';
import { DEFAULT_AGENT_OPTIONS, resolveAgentOptions } from '../src/pool/pool-config.js';
import { rejects } from './support/config-rejects.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** One UDS agent "a" whose block holds `body` (line 3 onwards). */
function agent(body: string): string {
  return `agents {\n  agent "a" {\n    unix-socket "/tmp/a.sock"\n${body}\n  }\n}\n`;
}

const load = (text: string): ZapConfig => loadConfig(text, 't.kdl');
const only = (text: string): AgentConfig => {
  const c = load(text);
  assert.equal(c.agents.length, 1);
  return c.agents[0]!;
};

const DEFAULTS = {
  events: ['request_headers'],
  timeoutMs: 1000,
  failureMode: 'open',
  circuitBreaker: { failureThreshold: 5, successThreshold: 2, openDurationMs: 30_000, halfOpenMaxRequests: 1 },
  maxRequestBodyBytes: 1_048_576,
  maxResponseBodyBytes: 1_048_576,
  requestBodyMode: { mode: 'buffer', hybridThreshold: 65_536 },
  responseBodyMode: { mode: 'buffer', hybridThreshold: 65_536 },
  chunkTimeoutMs: 5000,
  maxConcurrentCalls: 100,
  pool: {},
} as const;

describe('KDL config: the spec §13.4 example (GV-28)', () => {
  const config = loadConfig(fixture('spec-example.kdl'), 'spec-example.kdl');

  test('loads to the expected typed object', () => {
    const expected: ZapConfig = {
      file: 'spec-example.kdl',
      warnings: [],
      agents: [
        {
          ...structuredClone(DEFAULTS),
          id: 'waf',
          type: 'waf',
          transport: { kind: 'uds', path: '/run/zentinel/waf.sock' },
          events: ['request_headers', 'request_body_chunk', 'response_headers'],
          timeoutMs: 250,
          failureMode: 'closed',
          maxConcurrentCalls: 200,
          requestBodyMode: { mode: 'hybrid', hybridThreshold: 131_072 },
          maxRequestBodyBytes: 2_097_152,
          chunkTimeoutMs: 2000,
          pool: {
            connectionsPerAgent: 4,
            loadBalanceStrategy: 'least-connections',
            encoding: 'json',
            requestTimeoutMs: 30_000,
            flowControlMode: 'wait-and-retry',
          },
          config: { 'paranoia-level': 2, 'blocked-countries': ['RU', 'KP'], 'audit-log': true, limits: { rps: 100, burst: 20 } },
        },
        {
          ...structuredClone(DEFAULTS),
          id: 'authz',
          type: 'auth',
          transport: {
            kind: 'grpc',
            url: 'https://authz.internal:50051',
            tls: true,
            tlsInsecure: false,
            caCert: '/etc/zentinel/ca.pem',
            clientCert: '/etc/zentinel/proxy.pem',
            clientKey: '/etc/zentinel/proxy.key',
          },
          timeoutMs: 100,
        },
        {
          ...structuredClone(DEFAULTS),
          id: 'llm-guard-1',
          type: 'guardrail',
          transport: { kind: 'reverse' },
          events: ['guardrail_inspect'],
          timeoutMs: 2000,
          failureMode: 'closed',
        },
      ] as AgentConfig[],
      reverseListener: {
        path: '/run/zentinel/agents.sock',
        tcpAddress: '0.0.0.0:9090',
        maxConnectionsPerAgent: 4,
        handshakeTimeoutMs: 10_000,
        requireAuth: true,
        insecureAllowUnauthenticated: false,
        authTokens: ['tok-llm-guard', 'tok-spare'],
        allowedAgents: ['llm-guard-*', 'waf-edge'],
        maxRegistrationBytes: 65_536,
        maxPendingHandshakes: 64,
        allowUndeclaredAgents: false,
        maxUndeclaredAgents: 16,
        tls: { cert: '/etc/zentinel/listener.pem', key: '/etc/zentinel/listener.key', caCert: '/etc/zentinel/agents-ca.pem' },
      },
    };
    assert.deepEqual(config, expected);
  });

  test('the waf config block is delivered as the exact JSON of the spec', () => {
    assert.equal(
      JSON.stringify(config.agents[0]!.config),
      '{"paranoia-level":2,"blocked-countries":["RU","KP"],"audit-log":true,"limits":{"rps":100,"burst":20}}',
    );
  });

  test('endpointOf gives the pool endpoint of each transport', () => {
    assert.deepEqual(config.agents.map(endpointOf), [
      'unix:/run/zentinel/waf.sock',
      'https://authz.internal:50051',
      'reverse://llm-guard-1',
    ]);
  });

  test('agentPoolOptions: pool keys plus the agent-level settings the pool owns', () => {
    const [waf, authz, guard] = config.agents as [AgentConfig, AgentConfig, AgentConfig];
    const wafOptions = agentPoolOptions(waf);
    assert.deepEqual(wafOptions, { ...waf.pool, failureMode: 'closed', circuitBreaker: waf.circuitBreaker, config: waf.config });
    // The pool's own validation accepts what the loader produced.
    const resolved = resolveAgentOptions(DEFAULT_AGENT_OPTIONS, wafOptions, 'waf');
    assert.equal(resolved.loadBalanceStrategy, 'least-connections');
    assert.equal(resolved.failureMode, 'closed');
    assert.deepEqual(agentPoolOptions(authz).tls, {
      ca: '/etc/zentinel/ca.pem',
      cert: '/etc/zentinel/proxy.pem',
      key: '/etc/zentinel/proxy.key',
    });
    assert.equal(agentPoolOptions(authz).failureMode, 'open');
    assert.equal('tls' in agentPoolOptions(guard), false);
  });

  test('GV-28: an unknown key inside an agent names the file, the line and the key', () => {
    assert.throws(() => loadConfig(fixture('gv28-unknown-key.kdl'), 'waf.kdl'), {
      code: 'ZAP_INVALID_CONFIG',
      message: `waf.kdl:6: unknown key 'max-retries' in agent "waf"`,
    });
  });
});

describe('KDL config: unknown keys', () => {
  test('in an agent', () => rejects(agent('    max-retries 3'), 4, `unknown key 'max-retries' in agent "a"`));
  test('in pool', () => rejects(agent('    pool {\n      connections 4\n    }'), 5, `unknown key 'connections' in pool of agent "a"`));
  test('in circuit-breaker', () =>
    rejects(
      agent('    circuit-breaker {\n      reset-timeout-seconds 5\n    }'),
      5,
      `unknown key 'reset-timeout-seconds' in circuit-breaker of agent "a"`,
    ));
  test('in reverse-listener', () =>
    rejects('reverse-listener {\n  path "/tmp/l.sock"\n  backlog 128\n}\n', 3, `unknown key 'backlog' in reverse-listener`));
  test('in the listener tls block', () =>
    rejects(
      'reverse-listener {\n  tcp-address "127.0.0.1:9"\n  tls {\n    cert "c"\n    key "k"\n    ciphers "x"\n  }\n}\n',
      6,
      `unknown key 'ciphers' in tls of reverse-listener`,
    ));
  test('in grpc children', () =>
    rejects(
      'agents {\n  agent "g" {\n    grpc "127.0.0.1:50051" {\n      alpn "h2"\n    }\n  }\n}\n',
      4,
      `unknown key 'alpn' in grpc of agent "g"`,
    ));
  test('in agents and at the top level', () => {
    rejects('agents {\n  service "x"\n}\n', 2, `unknown key 'service' in agents`);
    rejects('\nlistener {\n}\n', 2, `unknown key 'listener' in the top level`);
  });
  test('an unknown property on the agent node', () =>
    rejects('agents {\n  agent "a" kind="waf" {\n  }\n}\n', 2, /unknown property 'kind=' on agent "a"/));
});

describe('KDL config: bad values', () => {
  test('wrong types and ranges name the key and the value', () => {
    rejects(agent('    timeout-ms "250"'), 4, `key 'timeout-ms' in agent "a": expected an integer ≥ 1, got "250"`);
    rejects(agent('    timeout-ms 0'), 4, `key 'timeout-ms' in agent "a": expected an integer ≥ 1, got 0`);
    rejects(agent('    timeout-ms 1.5'), 4, /expected an integer ≥ 1, got 1.5/);
    rejects(agent('    timeout-ms 1 2'), 4, `key 'timeout-ms' in agent "a": expected one value (an integer), got 2`);
    rejects(agent('    timeout-ms'), 4, /expected one value/);
    rejects(agent('    timeout-ms value=3'), 4, /unexpected property 'value='/);
    rejects(agent('    max-concurrent-calls #true'), 4, /expected an integer ≥ 1, got #true/);
    rejects(
      agent('    pool {\n      drain-timeout-ms -1\n    }'),
      5,
      /key 'drain-timeout-ms' in pool of agent "a": expected a non-negative integer, got -1/,
    );
    rejects(agent('    pool {\n      encoding "cbor"\n    }'), 5, /expected one of json, msgpack, prefer-msgpack, got "cbor"/);
    rejects(agent('    circuit-breaker {\n      failure-threshold 0\n    }'), 5, /failure-threshold.*expected an integer ≥ 1, got 0/);
    rejects(
      'reverse-listener {\n  path "/tmp/l.sock"\n  require-auth "yes"\n}\n',
      3,
      /key 'require-auth' in reverse-listener: expected #true or #false, got "yes"/,
    );
    rejects('reverse-listener {\n  path "/tmp/l.sock"\n  handshake-timeout "10 s"\n}\n', 3, /expected a duration/);
    rejects('reverse-listener {\n  tcp-address "localhost"\n}\n', 2, /expected "<host>:<port>"/);
    rejects('reverse-listener {\n  path "/tmp/l.sock"\n  max-connections-per-agent 0\n}\n', 3, /expected an integer ≥ 1, got 0/);
  });

  test('a key given twice', () =>
    rejects(agent('    timeout-ms 5\n    timeout-ms 6'), 5, `duplicate key 'timeout-ms' in agent "a" (first at line 4)`));

  test('a block key given a value', () =>
    rejects(agent('    pool 4'), 4, `key 'pool' in agent "a": takes a children block, not the value 4`));

  test('an unknown event name (bare `websocket` is not a reference spelling)', () =>
    rejects(
      agent('    events "request_headers" "websocket"'),
      4,
      /key 'events' in agent "a": unknown event 'websocket' \(expected one of /,
    ));

  test('event aliases and kebab-case map to event kinds, without duplicates', () => {
    const a = only(agent('    events "request-body" "log" "web-socket-frame" "request_complete" "response_body" "guardrail"'));
    assert.deepEqual(a.events, ['request_body_chunk', 'request_complete', 'websocket_frame', 'response_body_chunk', 'guardrail_inspect']);
  });

  test('failure modes: every spelling, and an unknown one', () => {
    for (const [written, mode] of [
      ['open', 'open'],
      ['fail-open', 'open'],
      ['fail_open', 'open'],
      ['closed', 'closed'],
      ['fail-closed', 'closed'],
      ['fail_closed', 'closed'],
    ]) {
      assert.equal(only(agent(`    failure-mode "${written}"`)).failureMode, mode);
    }
    rejects(
      agent('    failure-mode "half-open"'),
      4,
      /key 'failure-mode' in agent "a": expected one of open, fail-open, fail_open, closed, fail-closed, fail_closed, got "half-open"/,
    );
  });

  test('body modes: buffer, stream, hybrid, hybrid:<bytes>, and bad ones', () => {
    const a = only(agent('    request-body-mode "stream"\n    response-body-mode "hybrid"'));
    assert.deepEqual(a.requestBodyMode, { mode: 'stream', hybridThreshold: 65_536 });
    assert.deepEqual(a.responseBodyMode, { mode: 'hybrid', hybridThreshold: 65_536 });
    assert.deepEqual(only(agent('    response-body-mode "hybrid:4096"')).responseBodyMode, { mode: 'hybrid', hybridThreshold: 4096 });
    rejects(
      agent('    request-body-mode "chunked"'),
      4,
      /key 'request-body-mode' in agent "a": expected buffer, stream, hybrid or hybrid:<bytes ≥ 1>, got "chunked"/,
    );
    rejects(agent('    request-body-mode "hybrid:0"'), 4, /hybrid:<bytes ≥ 1>, got "hybrid:0"/);
    rejects(agent('    request-body-mode "hybrid:1k"'), 4, /got "hybrid:1k"/);
  });
});

describe('KDL config: transports', () => {
  test('`http` is rejected with the spec text', () =>
    rejects(
      'agents {\n  agent "h" {\n    http "http://127.0.0.1:8080"\n  }\n}\n',
      3,
      `HTTP transport not supported for v2 protocol (key 'http' in agent "h")`,
    ));

  test('two transports', () =>
    rejects(
      'agents {\n  agent "two" {\n    unix-socket "/tmp/a.sock"\n    grpc "127.0.0.1:50051"\n  }\n}\n',
      4,
      `agent "two" has more than one transport: 'unix-socket' (line 3) and 'grpc'`,
    ));

  test('no transport', () =>
    rejects(
      'agents {\n  agent "none" {\n    timeout-ms 5\n  }\n}\n',
      2,
      `agent "none" has no transport: one of unix-socket, grpc or reverse is required`,
    ));

  test('unix-socket: argument or path= property', () => {
    assert.deepEqual(only('agents {\n  agent "p" {\n    unix-socket path="/tmp/p.sock"\n  }\n}\n').transport, {
      kind: 'uds',
      path: '/tmp/p.sock',
    });
    rejects('agents {\n  agent "p" {\n    unix-socket ""\n  }\n}\n', 3, /expected a non-empty string, got ""/);
    rejects('agents {\n  agent "p" {\n    unix-socket file="/x"\n  }\n}\n', 3, /unexpected property 'file='/);
  });

  test('grpc: address=, TLS children, and what is refused', () => {
    const g = only('agents {\n  agent "g" {\n    grpc address="grpc://10.0.0.1:50051" {\n      tls-insecure\n    }\n  }\n}\n');
    assert.deepEqual(g.transport, { kind: 'grpc', url: 'grpc://10.0.0.1:50051', tls: true, tlsInsecure: true });
    assert.equal(endpointOf(g), 'grpc://10.0.0.1:50051');
    const plain = only('agents {\n  agent "g" {\n    grpc "127.0.0.1:50051"\n  }\n}\n');
    assert.deepEqual(plain.transport, { kind: 'grpc', url: '127.0.0.1:50051', tls: false, tlsInsecure: false });
    rejects('agents {\n  agent "g" {\n    grpc "unix:/tmp/x.sock"\n  }\n}\n', 3, /expected a gRPC address/);
    rejects(
      'agents {\n  agent "g" {\n    grpc "h:1" {\n      client-cert "c.pem"\n    }\n  }\n}\n',
      3,
      /client-cert and client-key must be given together/,
    );
    rejects(
      'agents {\n  agent "g" {\n    grpc "h:1" {\n      tls #false\n    }\n  }\n}\n',
      4,
      /key 'tls' in grpc of agent "g": expected no value or #true, got #false/,
    );
  });

  test('reverse needs a reverse-listener block', () =>
    rejects(
      'agents {\n  agent "r" {\n    reverse\n  }\n}\n',
      3,
      `agent "r" uses the reverse transport but there is no reverse-listener block`,
    ));
});

describe('KDL config: agents', () => {
  test('duplicate agent id', () =>
    rejects(
      'agents {\n  agent "a" {\n    unix-socket "/a"\n  }\n  agent "a" {\n    unix-socket "/b"\n  }\n}\n',
      5,
      `duplicate agent id "a" (first at line 2)`,
    ));

  test('type: absent = the id, rate-limit = rate_limit, custom kept', () => {
    const c = load(
      'agents {\n  agent "x" {\n    reverse\n  }\n  agent "y" type="rate-limit" {\n    reverse\n  }\n  ' +
        'agent "z" type="bot-score" {\n    reverse #true\n  }\n}\nreverse-listener {\n  path ' +
        '"/tmp/l.sock"\n  auth-token "t"\n}\n',
    );
    assert.deepEqual(
      c.agents.map((a) => a.type),
      ['x', 'rate_limit', 'bot-score'],
    );
  });

  test('agent without an id', () => rejects('agents {\n  agent {\n  }\n}\n', 2, /agent needs exactly one id string/));

  test('defaults fill every agent-level setting; no config block = no config key', () => {
    const a = only(agent(''));
    assert.deepEqual(a, { id: 'a', type: 'a', transport: { kind: 'uds', path: '/tmp/a.sock' }, ...DEFAULTS });
    assert.equal('config' in a, false);
  });

  test('pool: every §11 key maps to its TS name; backoff bounds are checked', () => {
    const a = only(
      agent(`    pool {
      connections-per-agent 2
      load-balance-strategy "health-based"
      encoding "prefer-msgpack"
      connect-timeout-ms 1
      handshake-timeout-ms 2
      request-timeout-ms 3
      drain-timeout-ms 0
      max-concurrent-per-connection 5
      max-queued-per-agent 6
      health-check-interval-ms 7
      ping-timeout-ms 8
      channel-buffer-size 9
      flow-control-mode "fail-open"
      flow-control-wait-timeout-ms 10
      sticky-session-timeout-ms 0
      correlation-affinity-ttl-ms 11
      max-correlation-affinities 12
      reconnect-initial-backoff-ms 13
      reconnect-max-backoff-ms 14
      grpc-keepalive-time-ms 15
      grpc-keepalive-timeout-ms 16
      grpc-max-send-bytes 17
      grpc-max-receive-bytes 18
    }`),
    );
    assert.deepEqual(a.pool, {
      connectionsPerAgent: 2,
      loadBalanceStrategy: 'health-based',
      encoding: 'prefer-msgpack',
      connectTimeoutMs: 1,
      handshakeTimeoutMs: 2,
      requestTimeoutMs: 3,
      drainTimeoutMs: 0,
      maxConcurrentPerConnection: 5,
      maxQueuedPerAgent: 6,
      healthCheckIntervalMs: 7,
      pingTimeoutMs: 8,
      channelBufferSize: 9,
      flowControlMode: 'fail-open',
      flowControlWaitTimeoutMs: 10,
      stickySessionTimeoutMs: 0,
      correlationAffinityTtlMs: 11,
      maxCorrelationAffinities: 12,
      reconnectInitialBackoffMs: 13,
      reconnectMaxBackoffMs: 14,
      grpcKeepaliveTimeMs: 15,
      grpcKeepaliveTimeoutMs: 16,
      grpcMaxSendBytes: 17,
      grpcMaxReceiveBytes: 18,
    });
    rejects(
      agent('    pool {\n      reconnect-initial-backoff-ms 50000\n    }'),
      4,
      /reconnect-max-backoff-ms \(30000\) is below reconnect-initial-backoff-ms \(50000\)/,
    );
  });

  test('circuit-breaker: timeout-seconds is stored in milliseconds', () => {
    const a = only(agent('    circuit-breaker {\n      timeout-seconds 7\n      half-open-max-requests 3\n    }'));
    assert.deepEqual(a.circuitBreaker, { failureThreshold: 5, successThreshold: 2, openDurationMs: 7000, halfOpenMaxRequests: 3 });
  });

  test('protocol-version is accepted with a warning and ignored', () => {
    const c = load(agent('    protocol-version 2'));
    assert.deepEqual(c.warnings, [`t.kdl:4: 'protocol-version' in agent "a" is deprecated and ignored`]);
    assert.deepEqual(c.agents[0], { id: 'a', type: 'a', transport: { kind: 'uds', path: '/tmp/a.sock' }, ...DEFAULTS });
  });
});

describe('KDL config: config { } → JSON (§13.3)', () => {
  test('scalars, arrays, #null, nested objects, properties with children, empty blocks', () => {
    const a = only(
      agent(`    config {
      name "x"
      ratio 0.5
      off #false
      nothing #null
      list 1 "two" #true
      nested {
        deep {
          leaf 1
        }
      }
      both a=1 {
        b 2
      }
      empty {
      }
      flag
    }`),
    );
    assert.equal(
      JSON.stringify(a.config),
      '{"name":"x","ratio":0.5,"off":false,"nothing":null,"list":[1,"two",true],' +
        '"nested":{"deep":{"leaf":1}},"both":{"a":1,"b":2},"empty":{},"flag":true}',
    );
    assert.deepEqual(only(agent('    config {\n    }')).config, {});
  });

  test('a node mixing arguments with properties or children is an error', () => {
    rejects(
      agent('    config {\n      limits 5 rps=100\n    }'),
      5,
      `node 'limits' in config of agent "a" mixes arguments with properties (the arguments would be lost)`,
    );
    rejects(
      agent('    config {\n      limits 5 {\n        rps 100\n      }\n    }'),
      5,
      /node 'limits' in config of agent "a" mixes arguments with children/,
    );
  });

  test('a key given twice, and values JSON cannot hold', () => {
    rejects(agent('    config {\n      a 1\n      a 2\n    }'), 6, `duplicate key 'a' in config of agent "a"`);
    rejects(agent('    config {\n      o x=1 {\n        x 2\n      }\n    }'), 6, /duplicate key 'x'/);
    rejects(agent('    config {\n      big #inf\n    }'), 5, /#inf, #-inf and #nan have no JSON form/);
  });

  test('config takes a block, not a value', () => rejects(agent('    config "x"'), 4, /key 'config' in agent "a": takes a children block/));
});

describe('KDL config: reverse-listener', () => {
  const listener = (body: string) => `reverse-listener {\n${body}\n}\n`;

  test('require-auth without tokens, tokens without require-auth', () => {
    const noToken =
      'reverse-listener: require-auth #true (the default) needs at least one auth-token or auth-tokens;' +
      ' to admit agents without a token, set insecure-allow-unauthenticated #true';
    rejects(listener('  path "/tmp/l.sock"\n  require-auth #true'), 3, noToken);
    // Insecure defaults: require-auth is #true unless written otherwise, and a listener without a token is refused.
    rejects(listener('  path "/tmp/l.sock"'), 1, noToken);
    rejects(
      listener('  path "/tmp/l.sock"\n  require-auth #false'),
      3,
      'reverse-listener: require-auth #false needs the explicit opt-out insecure-allow-unauthenticated #true',
    );
    rejects(
      listener('  path "/tmp/l.sock"\n  require-auth #false\n  insecure-allow-unauthenticated #true\n  auth-token "t"'),
      5,
      'reverse-listener: auth tokens are set but require-auth is not #true',
    );
    rejects(
      listener('  path "/tmp/l.sock"\n  require-auth #false\n  insecure-allow-unauthenticated #true\n  auth-tokens "t1" "t2"'),
      5,
      /require-auth is not #true/,
    );
  });

  test('auth-token repeats and merges with auth-tokens; allowed-agents accumulate', () => {
    const l = load(
      listener(
        '  path "/tmp/l.sock"\n  require-auth #true\n  auth-token "a"\n  auth-token "b"\n  auth-tokens ' +
          '"b" "c"\n  allowed-agents "x-*"\n  allowed-agents "y"',
      ),
    ).reverseListener;
    assert.deepEqual(l?.authTokens, ['a', 'b', 'c']);
    assert.deepEqual(l?.allowedAgents, ['x-*', 'y']);
  });

  test('handshake-timeout durations', () => {
    for (const [written, ms] of [
      ['"500ms"', 500],
      ['"10s"', 10_000],
      ['"1.5s"', 1500],
      ['"2m"', 120_000],
      ['750', 750],
    ] as const) {
      assert.equal(
        load(listener(`  path "/p"\n  auth-token "t"\n  handshake-timeout ${written}`)).reverseListener?.handshakeTimeoutMs,
        ms,
        written,
      );
    }
    rejects(listener('  path "/p"\n  handshake-timeout "0s"'), 3, /expected a duration/);
  });

  test('a reverse agent outside allowed-agents gets a warning (it would be refused)', () => {
    const text =
      'agents {\n  agent "edge-1" {\n    reverse\n  }\n  agent "guard-1" {\n    reverse\n  }\n}\n' +
      listener('  path "/p"\n  auth-token "t"\n  allowed-agents "guard-*"');
    assert.deepEqual(load(text).warnings, [
      't.kdl:3: reverse agent "edge-1" does not match reverse-listener allowed-agents, so its registrations will be refused',
    ]);
  });

  test('needs path or tcp-address; tls needs tcp-address, cert and key', () => {
    rejects(listener('  max-connections-per-agent 2'), 1, 'reverse-listener needs `path` or `tcp-address` (or both)');
    rejects(
      listener('  path "/p"\n  tls {\n    cert "c"\n    key "k"\n  }'),
      3,
      'reverse-listener: tls applies to tcp-address only, and no tcp-address is set',
    );
    rejects(listener('  tcp-address "[::1]:9090"\n  tls {\n    cert "c"\n  }'), 3, 'reverse-listener: tls needs both cert and key');
    const l = load(
      listener('  tcp-address "[::1]:9090"\n  insecure-allow-unauthenticated #true\n  tls {\n    cert "c"\n    key "k"\n  }'),
    ).reverseListener;
    assert.deepEqual(l, {
      tcpAddress: '[::1]:9090',
      maxConnectionsPerAgent: 4,
      handshakeTimeoutMs: 10_000,
      requireAuth: false,
      insecureAllowUnauthenticated: true,
      authTokens: [],
      allowedAgents: [],
      maxRegistrationBytes: 65_536,
      maxPendingHandshakes: 64,
      allowUndeclaredAgents: false,
      maxUndeclaredAgents: 16,
      tls: { cert: 'c', key: 'k' },
    });
  });
});

describe('KDL config: syntax and line numbers', () => {
  test('KDL 2.0 only: a KDL 1 bare `true` is a syntax error with a hint', () =>
    rejects(
      'reverse-listener {\n  path "/p"\n  require-auth true\n}\n',
      3,
      `KDL syntax error: 'true' is not a value in KDL 2.0: write #true`,
    ));

  test('an unclosed block is reported at the end of the input', () =>
    rejects('agents {\n  agent "a" {\n', 3, /KDL syntax error: unexpected end of input/));

  test('a stray `}` and an unclosed string name their line', () => {
    rejects('agents {\n}\n}\n', 3, `KDL syntax error: expected end of input, found '}'`);
    rejects('agents {\n  agent "a\n}\n', 2, 'KDL syntax error: line break inside a quoted string (an unclosed `"`?)');
  });

  test('an empty document has no agents', () => assert.deepEqual(load(''), { file: 't.kdl', agents: [], warnings: [] }));

  test('lines stay right after comments, slashdashes, multi-line strings, raw strings, escaped lines and semicolons', () => {
    const text = [
      '/* a block comment',
      '   over { two } lines */', //              2
      '/- agent "gone" {', //                     3: slashdashed node with children
      '  unix-socket "/x"',
      '}',
      'agents {', //                              6
      '  agent "a" { unix-socket "/a"; timeout-ms 5; }', // 7
      '  agent "b" {',
      '    unix-socket #"/b"# // raw string, a comment {',
      '    /- events "x" {', //                 10: slashdashed node
      '      nested 1',
      '    }',
      '    config {',
      '      text """',
      '        multi { line',
      '        """', //                           16
      '      a 1 /- {',
      '        hidden 2',
      '      }', //                               19
      '      b \\',
      '        2', //                             21
      '      c 3 /-', //                          22: slashdash, then line space
      '        { hidden 4 }',
      '    }',
      '    timeout-ms 1 /* inline */ ; bogus 1', // 25
      '  }',
      '}',
    ].join('\n');
    rejects(text, 25, `unknown key 'bogus' in agent "b"`);
    const fixed = text.replace('; bogus 1', '');
    const b = load(fixed).agents[1]!;
    assert.deepEqual(b.config, { text: 'multi { line', a: 1, b: 2, c: 3 });
    assert.equal(b.transport.kind === 'uds' && b.transport.path, '/b');
    rejects(fixed.replace('      b \\', '      b 1 c=2 \\'), 20, /node 'b' in config of agent "b" mixes arguments with properties/);
  });
});
