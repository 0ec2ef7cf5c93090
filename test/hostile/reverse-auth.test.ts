// Hostile clients against the reverse listener's admission (issue 11 item 3): fake agents with no
// token, a wrong token, a token bound to another id, malformed ids, an id declared with a forward
// endpoint (the attack: registering as `waf` to answer `allow` for it), undeclared ids without
// the opt-in, and more undeclared ids than the cap. Each is refused with its exact text while a
// registered agent (a child process) keeps serving pool calls, and the forward WAF keeps blocking.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AgentServer } from '../../src/agent/agent-server.js';
import { createExampleHandler } from '../../src/agent/examples/index.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { requestHeaders } from '../support/events.js';
import { callLoop, reverseAgent } from '../support/reverse-hostile.js';
import { expectAdmitted, expectRefusal, RawReverseClient, tcpTarget, waitUntil, type ReverseTarget } from '../support/reverse-raw-agent.js';
import { socketPath } from '../support/tmp.js';
import { killWorker } from '../../src/testing-entry.js';

const XSS = '/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E';
const TOKENS = [{ token: 'tok-edge', agents: ['edge-*'] }, { token: 'tok-waf', agents: ['waf'] }, 'tok-any'];

async function refusal(target: ReverseTarget, agentId: string, token?: string): Promise<string> {
  const client = await RawReverseClient.connect(target);
  client.register(agentId, token === undefined ? {} : { token });
  return expectRefusal(client);
}

async function setup(transport: 'uds' | 'tcp', workers: number) {
  const pool = new AgentPool({ workers, failureMode: 'closed' });
  after(() => pool.destroy());
  const reported: Array<[string | null, string]> = [];
  pool.on('reverse-refused', (agentId, error) => reported.push([agentId, error]));
  // The real WAF, declared with a forward (UDS) endpoint.
  const wafPath = socketPath('waf');
  const waf = new AgentServer({ agentId: 'waf', handler: createExampleHandler('waf') });
  await waf.listen(wafPath);
  after(() => waf.close());
  assert.deepEqual(await pool.addAgent('waf', `unix:${wafPath}`, { connectionsPerAgent: 2 }), { ready: 2, errors: [] });
  await pool.addAgent('edge-1', 'reverse://edge-1');
  const where = transport === 'uds' ? { path: socketPath('rev') } : { tcpAddress: '127.0.0.1:0' };
  const handle = await pool.listenReverse({ ...where, authTokens: TOKENS });
  const target: ReverseTarget = transport === 'uds' ? { path: handle.path as string } : tcpTarget(handle.tcpAddress as string);
  const endpoint = transport === 'uds' ? `unix:${handle.path}` : `tcp://${handle.tcpAddress}`;
  await reverseAgent(endpoint, 'edge-1', 2, 'tok-edge');
  await waitUntil(() => pool.agentStats('edge-1').healthyConnections === 2, 'edge-1 ready');
  return { pool, target, reported, where };
}

for (const [transport, workers] of [
  ['uds', 0],
  ['tcp', 1],
] as const) {
  describe(`reverse auth bypass over ${transport} (workers: ${workers})`, () => {
    test(
      'no token, wrong token, token bound to another id, bad ids, forward-declared and undeclared ids: ' +
        'refused with exact texts while edge-1 serves',
      async () => {
        const { pool, target, reported } = await setup(transport, workers);
        let attacksDone!: () => void;
        const attacking = new Promise<void>((resolve) => (attacksDone = resolve));
        const calls = callLoop(pool, 'edge-1', attacking);

        const cases: Array<[agentId: string, token: string | undefined, text: string]> = [
          ['edge-2', undefined, 'Invalid message format: Authentication required but no token provided'],
          ['edge-2', 'tok-wrong', 'Invalid message format: Authentication failed'],
          // A token bound to edge-* is no token for another id (the same text: nothing learned).
          ['core-1', 'tok-edge', 'Invalid message format: Authentication failed'],
          ['waf', 'tok-edge', 'Invalid message format: Authentication failed'],
          [
            'a'.repeat(129),
            'tok-any',
            `Invalid message format: Agent ID '${'a'.repeat(64)}…(+65 more)' must be at most 128 characters of [A-Za-z0-9._:-]`,
          ],
          [
            'evil\u001b[2J\nINFO forged',
            'tok-any',
            "Invalid message format: Agent ID 'evil\\x1b[2J\\nINFO forged' must be at most 128 characters of [A-Za-z0-9._:-]",
          ],
          [
            '../../etc/passwd',
            'tok-any',
            "Invalid message format: Agent ID '../../etc/passwd' must be at most 128 characters of [A-Za-z0-9._:-]",
          ],
          ["it's", 'tok-any', "Invalid message format: Agent ID 'it\\'s' must be at most 128 characters of [A-Za-z0-9._:-]"],
          // The attack: a valid token (even one bound to `waf`) cannot join the forward WAF.
          ['waf', 'tok-waf', "Connection failed: Agent 'waf' is declared with a forward endpoint"],
          ['waf', 'tok-any', "Connection failed: Agent 'waf' is declared with a forward endpoint"],
          // Undeclared ids need allowUndeclaredAgents.
          ['edge-9', 'tok-edge', "Connection failed: Agent 'edge-9' is not declared as a reverse agent"],
        ];
        for (const [agentId, token, text] of cases) assert.equal(await refusal(target, agentId, token), text, agentId);
        // The forward WAF still answers every attack itself.
        const blocked = await Promise.all(
          Array.from({ length: 20 }, (_, i) => pool.sendRequestHeaders('waf', `xss-${i}`, requestHeaders(`xss-${i}`, XSS))),
        );
        attacksDone();
        const tally = await calls;

        assert.equal(blocked.filter((r) => r.decision.type === 'block').length, 20);
        assert.deepEqual(
          reported.map(([, e]) => e),
          cases.map(([, , t]) => t),
        );
        // Reported ids are escaped and bounded too: no raw control character reaches a log.
        // eslint-disable-next-line no-control-regex -- looking for control characters is the point
        for (const [id] of reported) assert.ok(id === null || !/[\u0000-\u001f]/.test(id), JSON.stringify(id));
        assert.deepEqual(pool.agentIds().sort(), ['edge-1', 'waf']);
        assert.match(pool.agentStats('waf').endpoint, /^unix:/);
        assert.equal(pool.agentStats('waf').healthyConnections, 2);
        assert.ok(tally.ok > 0);
        assert.deepEqual(tally.errors, []);
        assert.equal(tally.doubleSettled, 0);
      },
    );

    test('undeclared ids with the opt-in: capped, entries go with their last connection', async () => {
      const { pool, reported, where } = await setup(transport, workers);
      const second = await pool.listenReverse({
        ...(transport === 'uds' ? { path: socketPath('open') } : where),
        authTokens: TOKENS,
        allowUndeclaredAgents: true,
        maxUndeclaredAgents: 2,
      });
      const target: ReverseTarget = transport === 'uds' ? { path: second.path as string } : tcpTarget(second.tcpAddress as string);
      let attacksDone!: () => void;
      const calls = callLoop(pool, 'edge-1', new Promise<void>((resolve) => (attacksDone = resolve)));

      const admitted: RawReverseClient[] = [];
      for (const id of ['u-1', 'u-2']) {
        const client = await RawReverseClient.connect(target);
        client.register(id, { token: 'tok-any' });
        await expectAdmitted(client, id);
        admitted.push(client);
      }
      // A second connection of an admitted id is no new id.
      const again = await RawReverseClient.connect(target);
      again.register('u-1', { token: 'tok-any' });
      await expectAdmitted(again, 'u-1');
      assert.equal(await refusal(target, 'u-3', 'tok-any'), 'Connection failed: too many undeclared agents (2)');
      // Still no way into a forward agent, or past a token binding.
      assert.equal(await refusal(target, 'waf', 'tok-waf'), "Connection failed: Agent 'waf' is declared with a forward endpoint");
      assert.equal(await refusal(target, 'u-3', 'tok-edge'), 'Invalid message format: Authentication failed');
      await waitUntil(() => pool.agentIds().includes('u-1') && pool.agentIds().includes('u-2'), 'the undeclared entries');

      // u-1's last connection closes: its entry goes, and its slot under the cap is free again.
      admitted[0]!.close();
      again.close();
      await waitUntil(() => !pool.agentIds().includes('u-1'), 'the u-1 entry to go');
      const third = await RawReverseClient.connect(target);
      third.register('u-3', { token: 'tok-any' });
      await expectAdmitted(third, 'u-3');
      attacksDone();
      const tally = await calls;

      assert.deepEqual(pool.agentIds().sort(), ['edge-1', 'u-2', 'u-3', 'waf']);
      assert.deepEqual(
        reported.map(([, e]) => e),
        [
          'Connection failed: too many undeclared agents (2)',
          "Connection failed: Agent 'waf' is declared with a forward endpoint",
          'Invalid message format: Authentication failed',
        ],
      );
      assert.ok(tally.ok > 0);
      assert.deepEqual(tally.errors, []);
      assert.equal(tally.doubleSettled, 0);
      for (const c of [...admitted, third]) c.close();
    });
  });
}

test('reverse undeclared entries: one whose connections died with their worker is removed too', async () => {
  const pool = new AgentPool({ workers: 1 });
  after(() => pool.destroy());
  const handle = await pool.listenReverse({ path: socketPath('lost'), authTokens: 'tok', allowUndeclaredAgents: true });
  const client = await RawReverseClient.connect({ path: handle.path as string });
  client.register('u-lost', { token: 'tok' });
  await expectAdmitted(client, 'u-lost');
  await waitUntil(() => pool.agentIds().includes('u-lost'), 'the undeclared entry');
  const lost = new Promise((resolve) => pool.once('worker-lost', resolve));
  await killWorker(pool, 0);
  await lost;
  assert.deepEqual(pool.agentIds(), []);
  client.close();
});
