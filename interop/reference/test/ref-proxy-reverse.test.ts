// The reference crate's reverse-connection listener (ref-proxy --reverse-listen: its
// ReverseConnectionListener feeding its AgentPool) with zap's ReverseConnector dialling it: the
// registration (token required), then the same check as forward UDS, in the crate's JSON encoding.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { ReverseConnector } from '../../../src/agent/reverse-connector.js';
import { createExampleHandler } from '../../../src/agent/examples/index.js';
import { socketPath } from '../../../test/support/tmp.js';
import { refProcess } from './support/ref-peers.js';
import { refCancelled, refUri, type RefCheckReport } from './support/ref-report.js';

const TOKEN = 'reverse-s3cret';
const REQUESTS = 20;

function connector(endpoint: string, authToken: string): ReverseConnector {
  return new ReverseConnector({
    endpoint,
    agentId: 'agent',
    authToken,
    connections: 1,
    handler: createExampleHandler('echo'),
    backoff: { initialMs: 20, maxMs: 200 },
  });
}

describe('reference reverse listener (ref-proxy --reverse-listen) ← zap ReverseConnector', () => {
  test('reference interop: reverse uds: registration with a token, then every answer read by the crate', async () => {
    const proxy = refProcess('ref-proxy', [
      '--reverse-listen',
      socketPath('ref-reverse'),
      '--token',
      TOKEN,
      '--requests',
      String(REQUESTS),
    ]);
    const agent = connector(await proxy.ready(), TOKEN);
    try {
      const registered = once(agent, 'registered');
      await agent.start();
      const [info] = await registered;
      assert.match(info.connectionId, /^agent-/);
      const report = (await proxy.result()) as unknown as RefCheckReport;
      assert.equal(report.transport, 'reverse');
      assert.equal(report.capabilities?.agent_id, 'agent');
      report.requests.forEach((r, i) => {
        assert.equal(r.uri, refUri(i));
        assert.equal(r.headers.response?.decision, 'allow', `${r.cid}: ${JSON.stringify(r.headers)}`);
        assert.deepEqual(r.headers.response?.request_headers, [{ set: { name: 'x-agent-echo', value: `POST ${refUri(i)}` } }], r.cid);
        if (refCancelled(i)) assert.deepEqual(r.cancel, { ok: true, error: null }, r.cid);
        else {
          assert.equal(r.body_chunk?.response?.decision, 'allow', `${r.cid}: ${JSON.stringify(r.body_chunk)}`);
          assert.equal(r.response_headers?.response?.decision, 'allow', `${r.cid}: ${JSON.stringify(r.response_headers)}`);
        }
      });
      assert.equal(report.after_cancels.response?.decision, 'allow');
    } finally {
      await agent.close();
      await proxy.stop();
    }
  });

  test('reference interop: reverse uds: a wrong token is refused by the crate and never served', async () => {
    const proxy = refProcess('ref-proxy', ['--reverse-listen', socketPath('ref-reverse'), '--token', TOKEN, '--requests', '1']);
    const agent = connector(await proxy.ready(), 'not-the-token');
    try {
      const refused = once(agent, 'refused');
      await agent.start();
      const [{ error }] = await refused;
      // The crate's text is deliberately vague (it does not say whether the id or the token was wrong).
      assert.match(error, /Registration rejected/);
      await assert.rejects(proxy.result(), /reverse registration failed/);
    } finally {
      await agent.close();
      await proxy.stop();
    }
  });
});
