// An agent process (ReverseConnector in a child) killed with calls in flight and started again:
// the calls settle with a typed error, the agent's entry has no connections meanwhile, and the
// restarted agent dials back in and is routed to again.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentPoolError } from '../src/protocol/errors.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { requestHeaders } from './support/events.js';
import { waitUntil } from './support/reverse-raw-agent.js';
import { socketPath } from './support/tmp.js';

const CHILD = fileURLToPath(new URL('./support/reverse-agent-child.ts', import.meta.url));
const TOKEN = 'tok-phoenix';

function startChild(
  endpoint: string,
  agentId: string,
  connections: number,
): { child: ChildProcess; seen: (text: string) => Promise<void> } {
  const child = fork(CHILD, [endpoint, agentId, String(connections), TOKEN], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const seen = (text: string) => waitUntil(() => out.includes(text), `child output '${text}'`, 20_000);
  return { child, seen };
}

// The listener, and so the agent's sockets, live in a connection-host worker thread.
const workers = 1;

test(`agent killed and restarted (workers: ${workers}): typed errors, then routed to again`, async () => {
  const pool = new AgentPool({ workers });
  after(() => pool.destroy());
  await pool.addAgent('phoenix', 'reverse://phoenix');
  const handle = await pool.listenReverse({ path: socketPath('restart'), authTokens: [{ token: TOKEN, agents: ['phoenix'] }] });
  const endpoint = `unix:${handle.path}`;
  const stats = () => (pool.agentIds().includes('phoenix') ? pool.agentStats('phoenix') : undefined);

  const first = startChild(endpoint, 'phoenix', 2);
  await first.seen('registered 2');
  await waitUntil(() => stats()?.healthyConnections === 2, 'two ready connections');
  const before = await pool.sendRequestHeaders('phoenix', 'p-0', requestHeaders('p-0'));
  const firstPid = before.requestHeaders[0] && 'value' in before.requestHeaders[0] ? before.requestHeaders[0].value : undefined;
  assert.equal(firstPid, String(first.child.pid));

  const inFlight = Promise.allSettled(
    Array.from({ length: 20 }, (_, i) =>
      pool.sendRequestHeaders('phoenix', `h-${i}`, requestHeaders(`h-${i}`, `/hang/${i}`), { timeoutMs: 60_000 }),
    ),
  );
  await first.seen('got 20');
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  const settled = await inFlight;
  for (const s of settled) {
    assert.equal(s.status, 'rejected');
    assert.ok(s.reason instanceof AgentPoolError, String(s.reason));
    assert.equal(s.reason.code, 'ZAP_CONNECTION_LOST');
  }
  await waitUntil(() => stats()?.activeConnections === 0, 'no connections left');
  // 20 connection losses opened the agent's breaker; this test is about the connections.
  pool.resetCircuit('phoenix');
  await assert.rejects(
    pool.sendRequestHeaders('phoenix', 'p-1', requestHeaders('p-1')),
    (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_NO_HEALTHY_CONNECTION',
  );

  const second = startChild(endpoint, 'phoenix', 2);
  await second.seen('registered 2');
  await waitUntil(() => stats()?.healthyConnections === 2, 'the restarted agent ready');
  const after2 = await pool.sendRequestHeaders('phoenix', 'p-2', requestHeaders('p-2'));
  assert.deepEqual(after2.requestHeaders, [{ op: 'set', name: 'x-pid', value: String(second.child.pid) }]);
  second.child.kill('SIGTERM');
  await once(second.child, 'exit');
});
