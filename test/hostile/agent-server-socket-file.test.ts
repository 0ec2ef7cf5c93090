// Issue 11 item 6: the Unix socket files of an agent server. Shutdown removes only the socket this
// server bound, sockets are created 0600 unless `socketMode` says otherwise (with no window at a
// laxer mode), and a live socket of another process is never taken over.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentServer } from '../../src/agent/agent-server.js';
import { removeSocketFile } from '../../src/transport/socket-file.js';
import { RawProxyClient, tempSocketDir } from '../support/raw-proxy-client.js';
import { startAgentChild } from './agent-server-child.js';

const dir = tempSocketDir();
after(() => dir.remove());
let seq = 0;
const nextPath = () => dir.path(`sf-${seq++}.sock`);

/** A handshake on `path` succeeds: someone serves the protocol there. */
async function served(path: string): Promise<boolean> {
  const { client, handshake } = await RawProxyClient.open(path);
  await client.close();
  return handshake['success'] === true;
}

const modeOf = (path: string) => lstatSync(path).mode & 0o777;

test("socket file shutdown: a second agent process's live socket at the same path survives the first server's close", async () => {
  const path = nextPath();
  const first = new AgentServer({ agentId: 'first' });
  await first.listen(path);
  // The first server's file disappears (an operator, a tmp cleaner); a second agent binds the path.
  unlinkSync(path);
  const second = await startAgentChild(path);
  const secondInode = lstatSync(path).ino;
  await first.close();
  assert.equal(existsSync(path), true, "the second agent's socket file was removed by the first server's close");
  assert.equal(lstatSync(path).ino, secondInode);
  assert.equal(await served(path), true);
  assert.equal(await second.stop(), 0);
  assert.equal(existsSync(path), false, 'the second agent removes its own socket on shutdown');
});

test("socket file shutdown: two servers in one process, the first close leaves the second's socket", async () => {
  const path = nextPath();
  const first = new AgentServer({ agentId: 'first' });
  await first.listen(path);
  unlinkSync(path);
  const second = new AgentServer({ agentId: 'second' });
  await second.listen(path);
  await first.close();
  assert.equal(await served(path), true);
  await second.close();
  assert.equal(existsSync(path), false);
});

test('socket file mode: 0600 by default, socketMode honoured, no private bind directory left behind', async () => {
  const path = nextPath();
  const server = new AgentServer({ agentId: 'mode' });
  await server.listen(path);
  assert.equal(modeOf(path).toString(8), '600');
  const grouped = nextPath();
  const open = new AgentServer({ agentId: 'mode-660', socketMode: 0o660 });
  await open.listen(`unix:${grouped}`);
  assert.equal(modeOf(grouped).toString(8), '660');
  assert.equal(await served(grouped), true);
  assert.deepEqual(
    readdirSync(dirname(path)).filter((n) => n.startsWith('.zap-')),
    [],
  );
  await server.close();
  await open.close();
});

test('socket file mode: `zap agent` creates 0600 by default and honours --socket-mode', async () => {
  const path = nextPath();
  const agent = await startAgentChild(path);
  assert.equal(modeOf(path).toString(8), '600');
  assert.equal(await agent.stop(), 0);
  const grouped = nextPath();
  const open = await startAgentChild(grouped, ['--socket-mode', '660']);
  assert.equal(modeOf(grouped).toString(8), '660');
  assert.equal(await open.stop(), 0);
});

test('socket file mode: a socketMode outside 0…0o777 is refused with ZAP_INVALID_CONFIG', () => {
  for (const socketMode of [-1, 0o1000, 1.5, Number.NaN]) {
    assert.throws(() => new AgentServer({ agentId: 'bad', socketMode }), { code: 'ZAP_INVALID_CONFIG', message: /socketMode/ });
  }
});

test("socket file takeover: listening on another process's live socket fails (address in use) and leaves it serving", async () => {
  const path = nextPath();
  const owner = await startAgentChild(path);
  const inode = lstatSync(path).ino;
  const thief = new AgentServer({ agentId: 'thief' });
  await assert.rejects(thief.listen(path), { code: 'ZAP_INVALID_CONFIG', message: /address in use/ });
  await thief.close();
  assert.equal(lstatSync(path).ino, inode);
  assert.equal(await served(path), true);
  // The removal helper other listeners use keeps a live socket too.
  await removeSocketFile(path);
  assert.equal(await served(path), true);
  assert.equal(await owner.stop(), 0);
});
