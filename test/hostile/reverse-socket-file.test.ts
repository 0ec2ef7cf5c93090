// Issue 11 item 6 on the reverse listener: its Unix socket is created 0600 unless `socketMode` says
// otherwise, and closing the listener removes only the socket it bound, never a second listener's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { AgentPool, type ReverseListenOptions } from '../../src/pool/agent-pool.js';
import { AgentPoolError } from '../../src/protocol/errors.js';
import { expectAdmitted, RawReverseClient } from '../support/reverse-raw-agent.js';
import { socketPath } from '../support/tmp.js';

const OPEN: ReverseListenOptions = { insecureAllowUnauthenticated: true, allowUndeclaredAgents: true };

const modeOf = (path: string) => (lstatSync(path).mode & 0o777).toString(8);

async function admits(path: string, agentId: string): Promise<void> {
  const client = await RawReverseClient.connect({ path });
  client.register(agentId);
  await expectAdmitted(client, agentId);
  client.close();
}

for (const workers of [0, 1]) {
  test(`reverse socket file (workers ${workers}): 0600 by default, socketMode honoured, a bad mode refused`, async () => {
    const pool = new AgentPool({ workers });
    after(() => pool.destroy());
    const path = socketPath('rev-mode');
    const handle = await pool.listenReverse({ path, ...OPEN });
    assert.equal(modeOf(path), '600');
    const grouped = socketPath('rev-mode');
    const open = await pool.listenReverse({ path: grouped, socketMode: 0o660, ...OPEN });
    assert.equal(modeOf(grouped), '660');
    await admits(grouped, 'grouped-1');
    await assert.rejects(
      pool.listenReverse({ path: socketPath('rev-mode'), socketMode: 0o1777, ...OPEN }),
      (err: unknown) => err instanceof AgentPoolError && err.code === 'ZAP_INVALID_CONFIG' && /socketMode/.test(err.message),
    );
    await handle.close();
    await open.close();
    assert.equal(existsSync(path), false);
  });

  test(`reverse socket file (workers ${workers}): closing a listener leaves a second listener's live socket at its path`, async () => {
    const pool = new AgentPool({ workers });
    after(() => pool.destroy());
    const path = socketPath('rev-shared');
    const first = await pool.listenReverse({ path, ...OPEN });
    unlinkSync(path); // the first listener's file disappears; a second one binds the same path
    const second = await pool.listenReverse({ path, ...OPEN });
    const inode = lstatSync(path).ino;
    await first.close();
    assert.equal(existsSync(path), true, "the first listener's close removed the second listener's socket");
    assert.equal(lstatSync(path).ino, inode);
    await admits(path, 'still-served');
    await second.close();
    assert.equal(existsSync(path), false);
  });
}
