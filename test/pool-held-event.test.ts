// A call in flight holds its encoded frame, not the caller's event: once dispatched, the event
// (header record and value arrays, built fresh per request by a gateway) can be collected while the
// agent still thinks. This is most of the pool's heap per call in flight (bench `memory`, held rows).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { forceGc } from '../bench/gc.js';
import { AgentServer } from '../src/agent/agent-server.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import type { AgentResponse } from '../src/protocol/types.js';
import { requestHeaders } from './support/events.js';
import { socketPath } from './support/tmp.js';
import { waitFor } from './support/wait-for.js';

test('a dispatched call no longer references the caller event', async () => {
  let got = 0;
  const server = new AgentServer({
    agentId: 'holder',
    handler: {
      onRequestHeaders: () => {
        got++;
        return new Promise(() => {}); // held until the pool goes away
      },
    },
  });
  const path = socketPath('held');
  await server.listen(path);
  after(() => server.close());
  const pool = new AgentPool({ workers: 0 });
  after(() => pool.destroy());
  await pool.addAgent('holder', `unix:${path}`);

  // Built and sent in a scope of its own, so only the pool could keep the event alive.
  const send = (): { ref: WeakRef<object>; reply: Promise<AgentResponse> } => {
    const event = requestHeaders('held-1', '/', { cookie: ['a=1'], 'x-big': ['x'.repeat(4096)] });
    return { ref: new WeakRef(event), reply: pool.sendRequestHeaders('holder', 'held-1', event) };
  };
  const { ref, reply } = send();
  const settled = reply.then(
    () => 'answered',
    () => 'failed',
  );
  await waitFor(() => got === 1, 10_000);
  assert.equal(pool.stats().inFlight, 1, 'the call is still in flight');
  // WeakRef targets stay alive until the current job ends: collect from a later turn.
  await new Promise((resolve) => setImmediate(resolve));
  forceGc();
  assert.equal(ref.deref(), undefined, 'the event was collected while its call was in flight');
  await pool.destroy();
  assert.equal(await settled, 'failed');
});
