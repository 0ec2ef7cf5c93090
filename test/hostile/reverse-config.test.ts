// Insecure reverse-listener defaults (issue 11 item 3): a listener without authentication refuses to
// start — API, KDL and CLI alike — unless the loudly named opt-out is given; token bindings, the
// registration-frame limit and the entry options are validated; bound tokens match only their ids.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isPermanentRefusal } from '../../src/agent/reverse-refusal.js';
import { runCall } from '../../src/cli/call.js';
import { UsageError } from '../../src/cli/cli-error.js';
import { loadConfig } from '../../src/config/index.js';
import { AgentPool, type ReverseListenOptions } from '../../src/pool/agent-pool.js';
import { AgentPoolError } from '../../src/protocol/errors.js';
import { encodeRegistrationRequest, tokenMatches, validateRegistration } from '../../src/protocol/registration.js';
import { defaultCapabilities } from '../../src/protocol/capabilities.js';
import { socketPath } from '../support/tmp.js';

const invalidConfig = (message: RegExp) => (err: unknown) =>
  err instanceof AgentPoolError && err.code === 'ZAP_INVALID_CONFIG' && message.test(err.message);

describe('insecure reverse defaults: listenReverse', () => {
  const pool = new AgentPool({ workers: 0 });
  after(() => pool.destroy());
  const listen = (o: Omit<ReverseListenOptions, 'path'>) => pool.listenReverse({ path: socketPath('cfg'), ...o });

  test('no token and no opt-out: refused with ZAP_INVALID_CONFIG naming the fix', async () => {
    await assert.rejects(
      listen({}),
      invalidConfig(/^listenReverse: registrations must be authenticated: give authTokens .*insecureAllowUnauthenticated: true/),
    );
    await assert.rejects(listen({ requireAuth: true }), invalidConfig(/registrations must be authenticated/));
    await assert.rejects(
      listen({ requireAuth: false }),
      invalidConfig(/^listenReverse: requireAuth: false needs the explicit opt-out insecureAllowUnauthenticated: true$/),
    );
    await assert.rejects(listen({ authTokens: [] }), invalidConfig(/registrations must be authenticated/));
    await assert.rejects(
      listen({ requireAuth: true, insecureAllowUnauthenticated: true }),
      invalidConfig(/registrations must be authenticated/),
    );
  });

  test('the opt-out starts an unauthenticated listener; tokens with requireAuth: false are a contradiction', async () => {
    const open = await listen({ insecureAllowUnauthenticated: true });
    await open.close();
    await assert.rejects(
      listen({ insecureAllowUnauthenticated: true, requireAuth: false, authTokens: 't' }),
      invalidConfig(/auth tokens given with requireAuth: false/),
    );
  });

  test('token shapes, bindings and limits are validated', async () => {
    const bad: Array<[ReverseListenOptions['authTokens'] | undefined, Partial<ReverseListenOptions>, RegExp]> = [
      [[''], {}, /authTokens\[0\] is empty/],
      [[{ token: 't', agents: [] }], {}, /authTokens\[0\]\.agents must be a non-empty array/],
      [[{ token: '', agents: ['x'] }], {}, /authTokens\[0\] must be a non-empty string or \{ token, agents \}/],
      [[{ token: 't', agents: [''] }], {}, /authTokens\[0\]\.agents/],
      [['t'], { maxRegistrationBytes: 16_777_217 }, /'maxRegistrationBytes' must be an integer from 1 to 16777216/],
      [['t'], { maxRegistrationBytes: 0 }, /'maxRegistrationBytes'/],
      [['t'], { maxPendingHandshakes: 0 }, /'maxPendingHandshakes'/],
      [['t'], { maxUndeclaredAgents: 1.5 }, /'maxUndeclaredAgents'/],
      [['t'], { allowedAgents: [''] }, /'allowedAgents' must be an array of non-empty strings/],
    ];
    for (const [authTokens, extra, message] of bad) {
      await assert.rejects(
        listen({ ...(authTokens === undefined ? {} : { authTokens }), ...extra }),
        invalidConfig(message),
        String(message),
      );
    }
    const ok = await listen({ authTokens: ['plain', { token: 'bound', agents: ['edge-*'] }], maxRegistrationBytes: 4_096 });
    await ok.close();
  });
});

describe('insecure reverse defaults: KDL reverse-listener', () => {
  const listener = (body: string) => loadConfig(`reverse-listener {\n  path "/tmp/l.sock"\n${body}\n}\n`, 't.kdl').reverseListener;
  const rejects = (body: string, message: RegExp) => assert.throws(() => listener(body), invalidConfig(message));

  test('require-auth defaults to #true: no token is an error; #false needs insecure-allow-unauthenticated', () => {
    rejects(
      '',
      new RegExp(
        String.raw`^t\.kdl:1: reverse-listener: require-auth #true \(the default\) needs at least one auth-token or auth-tokens; ` +
          String.raw`to admit agents without a token, set insecure-allow-unauthenticated #true$`,
      ),
    );
    rejects(
      '  require-auth #false',
      /^t\.kdl:3: reverse-listener: require-auth #false needs the explicit opt-out insecure-allow-unauthenticated #true$/,
    );
    assert.equal(listener('  require-auth #false\n  insecure-allow-unauthenticated #true')?.requireAuth, false);
    assert.equal(listener('  insecure-allow-unauthenticated #true')?.requireAuth, false);
    assert.equal(listener('  auth-token "t"')?.requireAuth, true);
  });

  test('auth-token binds to agent ids with an `agents` child; plain tokens stay valid for any id', () => {
    const l = listener('  auth-token "tok-edge" {\n    agents "edge-*" "edge2-*"\n  }\n  auth-token "tok-plain"\n  auth-tokens "t1" "t2"');
    assert.deepEqual(l?.authTokens, [{ token: 'tok-edge', agents: ['edge-*', 'edge2-*'] }, 'tok-plain', 't1', 't2']);
    rejects('  auth-token "t" {\n  }', /auth-token' in reverse-listener: a children block needs `agents "<pattern>" …`/);
    rejects('  auth-token "t" {\n    agent "x"\n  }', /^t\.kdl:4: unknown key 'agent' in auth-token of reverse-listener$/);
    rejects('  auth-token "t" agents="x"', /unexpected property 'agents='/);
    rejects('  auth-token ""', /expected a non-empty string/);
  });

  test('max-registration-bytes, max-pending-handshakes, allow-undeclared-agents, max-undeclared-agents', () => {
    const d = listener('  auth-token "t"');
    assert.deepEqual(
      [d?.maxRegistrationBytes, d?.maxPendingHandshakes, d?.allowUndeclaredAgents, d?.maxUndeclaredAgents],
      [65_536, 64, false, 16],
    );
    const l = listener(
      '  auth-token "t"\n  max-registration-bytes 8192\n  max-pending-handshakes 8\n  ' +
        'allow-undeclared-agents #true\n  max-undeclared-agents 2',
    );
    assert.deepEqual(
      [l?.maxRegistrationBytes, l?.maxPendingHandshakes, l?.allowUndeclaredAgents, l?.maxUndeclaredAgents],
      [8_192, 8, true, 2],
    );
    rejects('  auth-token "t"\n  max-registration-bytes 16777217', /expected an integer from 1 to 16777216, got 16777217/);
    rejects('  auth-token "t"\n  max-undeclared-agents 0', /expected an integer ≥ 1, got 0/);
  });
});

describe('insecure reverse defaults: zap call --reverse-listen', () => {
  test('no --token and no --insecure-allow-unauthenticated: refused before listening, as a usage error', async () => {
    const path = socketPath('cli');
    await assert.rejects(
      runCall(['--reverse-listen', `unix:${path}`, '--wait', '100']),
      (err: unknown) =>
        err instanceof UsageError &&
        /^--reverse-listen: registrations must be authenticated: give --token T .*or --insecure-allow-unauthenticated/.test(err.message),
    );
    // With a token it listens (and, with nobody registering, times out as usual).
    await assert.rejects(
      runCall(['--reverse-listen', `unix:${socketPath('cli')}`, '--token', 't', '--wait', '100']),
      (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_TIMEOUT',
    );
  });
});

describe('registration: token bindings and agent ids (spec §9.4, ours)', () => {
  const payload = (agentId: string, authToken: string | null) =>
    encodeRegistrationRequest({ protocolVersion: 2, agentId, capabilities: defaultCapabilities({ agentId }), authToken, metadata: null });
  const policy = { requireAuth: true, authTokens: [{ token: 'tok-edge', agents: ['edge-*'] }, 'tok-any'], allowedAgents: [] };

  test('a bound token matches only ids its patterns match; a plain one any id', () => {
    assert.equal(tokenMatches('tok-edge', policy.authTokens, 'edge-1'), true);
    assert.equal(tokenMatches('tok-edge', policy.authTokens, 'waf'), false);
    assert.equal(tokenMatches('tok-edge', policy.authTokens), false);
    assert.equal(tokenMatches('tok-any', policy.authTokens, 'waf'), true);
    // The same token may be listed with several bindings: any matching one admits.
    assert.equal(
      tokenMatches(
        't',
        [
          { token: 't', agents: ['a'] },
          { token: 't', agents: ['b'] },
        ],
        'b',
      ),
      true,
    );
    assert.deepEqual(validateRegistration(0x01, payload('waf', 'tok-edge'), policy), {
      ok: false,
      error: 'Invalid message format: Authentication failed',
      permanent: true,
    });
    assert.equal(validateRegistration(0x01, payload('edge-7', 'tok-edge'), policy).ok, true);
  });

  test('agent ids: 128 bytes of [A-Za-z0-9._:-] at most, checked before the allow-list and the token; a bad id is permanent', () => {
    assert.equal(validateRegistration(0x01, payload('a'.repeat(128), 'tok-any'), policy).ok, true);
    assert.equal(validateRegistration(0x01, payload('Aa0._:-', 'tok-any'), policy).ok, true);
    for (const id of ['a'.repeat(129), 'a b', 'a/b', 'é', 'x\u0000', '*']) {
      const v = validateRegistration(0x01, payload(id, null), { ...policy, allowedAgents: ['nobody'] });
      assert.equal(v.ok, false, id);
      assert.match(v.ok ? '' : v.error, /^Invalid message format: Agent ID '.*' must be at most 128 characters of \[A-Za-z0-9._:-\]$/s, id);
      assert.equal(isPermanentRefusal(v.ok ? null : v.error), true, id);
    }
  });

  test('a payload that is not JSON is described escaped and bounded', () => {
    const v = validateRegistration(0x01, Buffer.from(`{"x":"${'\u001b'.repeat(400)}`), policy);
    assert.equal(v.ok, false);
    const error = v.ok ? '' : v.error;
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    assert.ok(!/[\u0000-\u001f]/.test(error), error);
    assert.ok(error.length < 400, `${error.length} characters`);
  });
});
