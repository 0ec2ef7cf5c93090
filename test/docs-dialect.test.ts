// Peers that speak another dialect, as raw sockets sending exactly their shapes: the Go SDK's
// docs-dialect handshake answer ({"accepted":false,"agent_name":…}) and registration (type 0x03),
// and the TypeScript SDK's UDS framing (a length, then JSON, no type byte). Each error names the
// dialect and keeps its typed code; look-alikes that are ours keep their own texts.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { connectUdsAgent } from '../src/connection/uds-agent-client.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import { requestHeaders } from './support/events.js';
import { rawUdsAgent } from './support/raw-uds-agent.js';
import { socketPath } from './support/tmp.js';

const GO_REFUSAL = {
  protocol_version: 2,
  agent_name: 'go-agent',
  capabilities: null,
  error: 'unsupported protocol version',
  accepted: false,
};

function typedFrame(type: number, body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  const head = Buffer.alloc(5);
  head.writeUInt32BE(json.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, json]);
}

/** The TypeScript SDK's framing: a 4-byte length and the JSON, with no type byte. */
function untypedFrame(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(json.length, 0);
  return Buffer.concat([head, json]);
}

/** A raw agent answering the HandshakeRequest of every connection with `reply`. */
async function rawAgent(reply: Buffer): Promise<string> {
  return (await rawUdsAgent('dialect', () => reply)).path;
}

async function handshakeError(reply: Buffer): Promise<AgentPoolError> {
  const path = await rawAgent(reply);
  try {
    const c = await connectUdsAgent(path, { agentId: 'peer', handshakeTimeoutMs: 5_000 });
    c.close();
  } catch (err) {
    assert.ok(err instanceof AgentPoolError, String(err));
    return err;
  }
  assert.fail('the handshake succeeded');
}

describe('docs-dialect and un-typed peers are named', () => {
  test('Go SDK handshake answer {"accepted":false,…} → ZAP_HANDSHAKE_FAILED naming the docs dialect', async () => {
    const err = await handshakeError(typedFrame(0x02, GO_REFUSAL));
    assert.equal(err.code, ErrorCode.HandshakeFailed);
    assert.equal(
      err.message,
      "Handshake with agent 'peer' failed: the agent speaks the docs-dialect handshake (e.g. the Go SDK), " +
        'which Zentinel v2 proxies do not accept (it said: unsupported protocol version)',
    );
  });

  test('an accepting Go SDK answer {"accepted":true} is named too (it would read as an unknown error)', async () => {
    const err = await handshakeError(typedFrame(0x02, { ...GO_REFUSAL, accepted: true, error: undefined }));
    assert.equal(err.code, ErrorCode.HandshakeFailed);
    assert.match(err.message, /docs-dialect handshake \(e\.g\. the Go SDK\), which Zentinel v2 proxies do not accept$/);
  });

  test('our own refusal keeps its text (look-alike: success false, no accepted key)', async () => {
    const err = await handshakeError(typedFrame(0x02, { protocol_version: 0, success: false, error: 'unsupported protocol version' }));
    assert.equal(err.code, ErrorCode.HandshakeFailed);
    assert.equal(err.message, 'unsupported protocol version');
  });

  test('TypeScript SDK UDS framing (length + JSON, no type byte) → named, ZAP_HANDSHAKE_FAILED', async () => {
    const err = await handshakeError(untypedFrame({ success: true, protocol_version: 2 }));
    assert.equal(err.code, ErrorCode.HandshakeFailed);
    assert.ok(
      err.message.endsWith(
        "Unknown message type: 0x7b: the peer frames JSON without a type byte (e.g. the TypeScript SDK's UDS framing), " +
          'which Zentinel v2 proxies do not accept',
      ),
      err.message,
    );
  });

  test('another unknown type byte keeps the plain §2.2 text', async () => {
    const bad = typedFrame(0x02, {});
    bad[4] = 0x7c;
    const err = await handshakeError(bad);
    assert.match(err.message, /Unknown message type: 0x7c$/);
  });

  test('reverse: a registration with frame type 0x03 is refused naming the docs dialect (ZAP_PROTOCOL_ERROR text)', async () => {
    const pool = new AgentPool({ workers: 0 });
    after(() => pool.destroy());
    const path = socketPath('dialect-rev');
    const refused = new Promise<string>((resolve) => pool.on('reverse-refused', (_id, error) => resolve(error)));
    await pool.listenReverse({ path, insecureAllowUnauthenticated: true });
    const s = connect(path);
    s.on('error', () => {});
    after(() => s.destroy());
    s.write(typedFrame(0x03, { protocol_version: 2, agent_id: 'go-edge', capabilities: null, metadata: {} }));
    assert.equal(
      await refused,
      'Invalid message format: Unknown message type: 0x03: the agent registers with the docs-dialect frame type 0x03 (e.g. the Go SDK), ' +
        'which Zentinel v2 proxies do not accept; the v2 registration is type 0x01',
    );
  });
});

describe('the pool names the cause of ZAP_NO_HEALTHY_CONNECTION', () => {
  for (const workers of [0, 1]) {
    const name = `the last connection error is in the message; connections without a transport report no health (workers: ${workers})`;
    test(name, async () => {
      const path = await rawAgent(typedFrame(0x02, GO_REFUSAL));
      const pool = new AgentPool({ workers });
      after(() => pool.destroy());
      const added = await pool.addAgent('go', `unix:${path}`, { connectionsPerAgent: 2 });
      assert.equal(added.ready, 0);
      await assert.rejects(pool.sendRequestHeaders('go', 'c-1', requestHeaders('c-1')), (err: unknown) => {
        assert.ok(err instanceof AgentPoolError);
        assert.equal(err.code, ErrorCode.NoHealthyConnection);
        assert.match(
          err.message,
          /^No healthy connections for agent go: last connection error: .*docs-dialect handshake \(e\.g\. the Go SDK\)/,
        );
        return true;
      });
      const stats = pool.agentStats('go');
      assert.equal(stats.connections.length, 2);
      for (const c of stats.connections) {
        assert.notEqual(c.state, 'ready');
        // Regression: a connection in backoff showed "health":"healthy".
        assert.equal(c.health, 'not-connected', `${c.state}`);
      }
    });
  }
});
