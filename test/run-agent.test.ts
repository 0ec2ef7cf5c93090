// runAgent() and the flag parser it shares with `zap agent` (src/agent/agent-flags.ts,
// agent-program.ts, run-agent.ts). In-process: stop requests come from the `signal` option or from
// process.emit('SIGTERM' | 'SIGINT'), which runs the runner's listeners without signalling anyone.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { AGENT_FLAGS, agentFlagsHelp, parseAgentFlags } from '../src/agent/agent-flags.js';
import { EXAMPLES } from '../src/agent/examples/index.js';
import type { AgentHandler } from '../src/agent/handler.js';
import { allow } from '../src/agent/reply.js';
import { runAgent } from '../src/agent/run-agent.js';
import { runAgent as zapAgent } from '../src/cli/agent.js';
import { UsageError } from '../src/cli/cli-error.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { AgentPoolError } from '../src/protocol/errors.js';
import { requestHeaders } from './support/events.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

/** runAgent sets process.exitCode; the test process must not inherit it. */
afterEach(() => {
  process.exitCode = 0;
});

function invalid(re: RegExp) {
  return (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_INVALID_ARGUMENT' && re.test(err.message);
}

describe('parseAgentFlags', () => {
  test('defaults', () => {
    const { flags } = parseAgentFlags(['--listen', 'unix:/tmp/a.sock']);
    assert.deepEqual(flags, {
      listen: 'unix:/tmp/a.sock',
      connections: 1,
      threads: 0,
      encoding: 'prefer-msgpack',
      limits: {},
      drainTimeoutMs: 10_000,
      logLevel: 'info',
      help: false,
    });
  });

  test('every flag parsed', () => {
    const { flags } = parseAgentFlags(
      [
        '--listen',
        '127.0.0.1:0',
        '--id',
        'w',
        '--threads',
        '2',
        '--encoding',
        'json',
        '--max-connections',
        '7',
        '--handshake-timeout-ms',
        '100',
      ] //
        .concat(['--frame-timeout-ms', '200', '--socket-mode', '660', '--drain-timeout-ms', '0', '--log-level', 'debug'])
        .concat(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'ca.pem']),
    );
    assert.deepEqual(flags, {
      listen: '127.0.0.1:0',
      id: 'w',
      connections: 1,
      threads: 2,
      encoding: 'json',
      limits: { maxConnections: 7, handshakeTimeoutMs: 100, frameTimeoutMs: 200, socketMode: 0o660 },
      drainTimeoutMs: 0,
      logLevel: 'debug',
      tls: { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' },
      help: false,
    });
    const reverse = parseAgentFlags([
      '--reverse',
      'tls://p:9090',
      '--id',
      'e1',
      '--token',
      't',
      '--connections',
      '3',
      '--tls-ca',
      'ca.pem',
    ]).flags;
    assert.deepEqual(
      [reverse.reverse, reverse.id, reverse.token, reverse.connections, reverse.tls],
      ['tls://p:9090', 'e1', 't', 3, { ca: 'ca.pem' }],
    );
  });

  test('usage problems are ZAP_INVALID_ARGUMENT with a short message', () => {
    assert.throws(() => parseAgentFlags([]), invalid(/^give one of --listen <endpoint> or --reverse <endpoint>$/));
    assert.throws(
      () => parseAgentFlags(['--listen', 'a.sock', '--reverse', 'b.sock']),
      invalid(/give one of --listen <endpoint> or --reverse <endpoint>/),
    );
    assert.throws(() => parseAgentFlags(['--reverse', 'b.sock']), invalid(/^--reverse needs --id <id>$/));
    assert.throws(() => parseAgentFlags(['--listen', 'a.sock', '--bogus']), invalid(/^unknown option '--bogus'$/));
    assert.throws(() => parseAgentFlags(['--listen']), invalid(/^option '--listen <value>' argument missing$/));
    assert.throws(() => parseAgentFlags(['--listen', 'a.sock', 'stray']), invalid(/^unexpected argument 'stray'$/));
    assert.throws(() => parseAgentFlags(['--listen', 'a.sock', '--threads', '1.5']), invalid(/--threads must be a non-negative integer/));
    assert.throws(
      () => parseAgentFlags(['--reverse', 'b.sock', '--id', 'x', '--connections', '0']),
      invalid(/--connections must be a positive integer/),
    );
    assert.throws(() => parseAgentFlags(['--listen', 'a.sock', '--encoding', 'xml']), invalid(/unknown --encoding 'xml'/));
    assert.throws(() => parseAgentFlags(['--listen', 'a.sock', '--log-level', 'loud']), invalid(/unknown --log-level 'loud'/));
    assert.throws(
      () => parseAgentFlags(['--listen', 'a.sock', '--max-connections', '0']),
      invalid(/--max-connections must be a positive integer/),
    );
    assert.throws(() => parseAgentFlags(['--listen', 'a.sock', '--socket-mode', '999']), invalid(/--socket-mode must be octal/));
    assert.throws(() => parseAgentFlags(['--reverse', 'b.sock', '--id', 'x', '--max-connections', '5']), invalid(/apply to --listen only/));
    assert.throws(() => parseAgentFlags(['--listen', 'a.sock', '--tls-cert', 'c.pem']), invalid(/--tls-cert and --tls-key go together/));
    assert.throws(() => parseAgentFlags(['--listen', '127.0.0.1:0', '--tls-ca', 'ca.pem']), invalid(/--tls-ca with --listen needs/));
  });

  test('--help skips the other checks, but not an unknown flag', () => {
    assert.equal(parseAgentFlags(['--help']).flags.help, true);
    assert.equal(parseAgentFlags(['-h', '--threads', 'x']).flags.help, true);
    assert.throws(() => parseAgentFlags(['--help', '--bogus']), invalid(/unknown option '--bogus'/));
  });

  test('the help text lists every flag, program flags first', () => {
    const text = agentFlagsHelp({ example: { type: 'string', value: 'NAME', help: 'which one' } });
    const lines = text.split('\n');
    assert.match(lines[0]!, /^ {2}--example NAME +which one$/);
    assert.equal(lines.length, Object.keys(AGENT_FLAGS).length + 1);
    for (const name of Object.keys(AGENT_FLAGS)) assert.ok(text.includes(`--${name}`), name);
    const { extra } = parseAgentFlags(['--listen', 'a.sock', '--example', 'waf'], { example: { type: 'string', help: '' } });
    assert.deepEqual(extra, { example: 'waf' });
  });
});

/** Records what runAgent writes (and still passes it on: the test runner's own output shares stdout). */
function capture(): { out: () => string; err: () => string; restore: () => void } {
  let out = '';
  let err = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    out += String(chunk);
    return (write.out as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    err += String(chunk);
    return (write.err as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  return {
    out: () => out,
    err: () => err,
    restore: () => {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
    },
  };
}

/** A handler whose '/slow' requests wait until released. */
function gatedHandler(): { handler: AgentHandler; entered: Promise<void>; release: () => void } {
  let release!: () => void;
  let enter!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const handler: AgentHandler = {
    async onRequestHeaders(e) {
      if (e.uri !== '/slow') return allow();
      enter();
      await gate;
      return allow().setRequestHeader('x-drained', 'yes');
    },
  };
  return { handler, entered, release };
}

async function poolWith(endpoint: string): Promise<AgentPool> {
  const pool = new AgentPool({ workers: 0, connectionsPerAgent: 1, reconnectInitialBackoffMs: 5_000 });
  const added = await pool.addAgent('r', endpoint);
  assert.equal(added.ready, 1, String(added.errors[0]));
  return pool;
}

describe('runAgent', () => {
  test('--help prints usage with every flag and an example, exit 0; a usage error exits 2 with one usage line', async () => {
    const io = capture();
    try {
      assert.equal(await runAgent({ agentId: 'h', handler: {}, argv: ['--help'], description: 'my agent' }), 0);
      assert.equal(process.exitCode, 0);
      assert.match(io.out(), /^my agent\n\nusage: .* --listen ENDPOINT \[options\]/);
      assert.match(io.out(), /--drain-timeout-ms MS/);
      assert.match(io.out(), /example:\n {2}.* --listen unix:\/tmp\/h\.sock/);
      assert.equal(await runAgent({ agentId: 'h', handler: {}, argv: ['--listen', 'a.sock', '--bogus'] }), 2);
      assert.equal(process.exitCode, 2);
      assert.equal(await runAgent({ agentId: 'h', handler: {}, argv: ['--listen', 'a.sock', '--threads', '2'] }), 2);
    } finally {
      io.restore();
    }
    assert.deepEqual(io.err().split('\n').filter(Boolean), [
      "usage: unknown option '--bogus' (--help lists the options)",
      'usage: --threads needs a handler module; this agent runs in one thread',
    ]);
  });

  test('a failure to serve exits 1 with one ZAP_ line', async () => {
    const io = capture();
    let code;
    try {
      code = await runAgent({ agentId: 'f', handler: {}, argv: ['--listen', 'no-such-scheme'] });
    } finally {
      io.restore();
    }
    assert.equal(code, 1);
    assert.match(io.err(), /^ZAP_INVALID_CONFIG: AgentServer cannot listen on 'no-such-scheme'/);
  });

  test('a listen that fails after the handler threads started exits 1 with one ZAP_ line', async () => {
    const path = socketPath('runner-busy');
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(path, resolve));
    const io = capture();
    let code;
    try {
      code = await runAgent({ agentId: 'busy', module: EXAMPLES.echo, argv: ['--listen', `unix:${path}`, '--threads', '1'] });
    } finally {
      io.restore();
      other.close();
    }
    assert.equal(code, 1);
    assert.match(io.err(), /^ZAP_\w+: .*in use/);
  });

  test('an unreadable TLS file is named by its flag, exit 1', async () => {
    const io = capture();
    let code;
    try {
      code = await runAgent({
        agentId: 't',
        handler: {},
        argv: ['--listen', '127.0.0.1:0', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem'],
      });
    } finally {
      io.restore();
    }
    assert.equal(code, 1);
    assert.equal(io.err(), 'ZAP_INVALID_ARGUMENT: cannot read --tls-cert file /nonexistent/c.pem (ENOENT)\n');
  });

  test('SIGTERM drains: draining health, the in-flight event is answered, then the socket file goes; exit 0', async () => {
    const path = socketPath('runner');
    const { handler, entered, release } = gatedHandler();
    const before = process.listenerCount('SIGTERM');
    let settled = false;
    const io = capture();
    const running = runAgent({ agentId: 'r', handler, argv: ['--listen', `unix:${path}`] }).finally(() => (settled = true));
    let pool: AgentPool | undefined;
    try {
      await waitFor(() => existsSync(path));
      pool = await poolWith(`unix:${path}`);
      const slow = pool.sendRequestHeaders('r', 's1', requestHeaders('s1', '/slow'));
      await entered;
      process.emit('SIGTERM');
      await waitFor(() => pool!.agentStats('r').connections[0]?.health === 'draining');
      assert.equal(settled, false, 'the runner waits for the in-flight event');
      assert.ok(existsSync(path), 'still listening while draining');
      release();
      const reply = await slow;
      assert.deepEqual(reply.requestHeaders, [{ op: 'set', name: 'x-drained', value: 'yes' }]);
      assert.equal(await running, 0);
      assert.equal(existsSync(path), false);
      assert.equal(process.listenerCount('SIGTERM'), before, 'signal listeners are removed');
    } finally {
      io.restore();
      release();
      await pool?.close();
    }
    assert.match(io.out(), /agent 'r' listening on unix:.*\n.*agent 'r' draining: 1 event\(s\) in flight, up to 10000 ms\n/);
  });

  test('a second stop request closes at once; --drain-timeout-ms bounds the wait', async () => {
    for (const [argv, secondSignal] of [
      [['--drain-timeout-ms', '60000'], true],
      [['--drain-timeout-ms', '50'], false],
    ] as const) {
      const path = socketPath('runner-stop');
      const { handler, entered, release } = gatedHandler();
      const io = capture();
      const ac = new AbortController();
      const running = runAgent({ agentId: 'r', handler, argv: ['--listen', `unix:${path}`, ...argv], signal: ac.signal });
      let pool: AgentPool | undefined;
      try {
        await waitFor(() => existsSync(path));
        pool = await poolWith(`unix:${path}`);
        // Settles while the runner closes: caught now, checked below.
        const slow = pool.sendRequestHeaders('r', 's1', requestHeaders('s1', '/slow')).then(
          () => null,
          (err: unknown) => err,
        );
        await entered;
        ac.abort();
        if (secondSignal) {
          await waitFor(() => io.out().includes('draining:'));
          process.emit('SIGINT');
        }
        assert.equal(await running, 0);
        assert.equal(((await slow) as AgentPoolError | null)?.code, 'ZAP_CONNECTION_LOST');
      } finally {
        io.restore();
        release();
        await pool?.close();
      }
      assert.match(
        io.err(),
        secondSignal ? /second stop signal: closing with 1 event\(s\) unanswered/ : /drain timeout: closing with 1 event\(s\) unanswered/,
      );
    }
  });

  test('--reverse with a token registers with the pool; --threads runs a handler module; --log-level warn hides info', async () => {
    const pool = new AgentPool({ workers: 0 });
    const io = capture();
    const ac = new AbortController();
    try {
      await pool.addAgent('edge-1', 'reverse://edge-1');
      const path = socketPath('runner-rev');
      await pool.listenReverse({ path, authTokens: ['t1'] });
      const running = runAgent({
        agentId: 'ignored',
        module: EXAMPLES.waf,
        argv: ['--reverse', `unix:${path}`, '--id', 'edge-1', '--token', 't1', '--threads', '1', '--log-level', 'warn'],
        signal: ac.signal,
      });
      await waitFor(() => pool.isAgentHealthy('edge-1'), 20_000);
      const r = await pool.sendRequestHeaders('edge-1', 'x1', requestHeaders('x1', '/search?q=%3Cscript%3E'));
      assert.equal(r.decision.type === 'block' && r.decision.status, 403);
      ac.abort();
      assert.equal(await running, 0);
    } finally {
      io.restore();
      await pool.close();
    }
    assert.doesNotMatch(io.out(), /registered with|dialling/);
  });
});

describe('zap agent takes the same flags', () => {
  test('--help lists the shared flags and --example; a bad flag is a UsageError with the usage', async () => {
    const io = capture();
    try {
      assert.equal(await zapAgent(['--help']), 0);
    } finally {
      io.restore();
    }
    assert.match(io.out(), /--example NAME/);
    for (const name of Object.keys(AGENT_FLAGS)) assert.ok(io.out().includes(`--${name}`), name);
    await assert.rejects(
      zapAgent(['--listen', 'a.sock', '--bogus']),
      (err: unknown) => err instanceof UsageError && /^unknown option '--bogus'$/.test(err.message),
    );
    await assert.rejects(
      zapAgent(['--listen', 'a.sock', '--example', 'nope']),
      (err: unknown) => err instanceof UsageError && /unknown --example 'nope'/.test(err.message),
    );
    await assert.rejects(
      zapAgent(['--listen', 'a.sock', '--example', 'auth']),
      (err: unknown) => err instanceof UsageError && /--example auth needs --token/.test(err.message),
    );
  });
});
