// A handler failure with no 'handlerError' listener is logged once, and the line names the proxy's
// correlation id. That id is the peer's text: before, it went into the line whole (JSON.stringify:
// a 1 MiB cid made a 1 MiB log line). Now it is bounded and escaped like every peer string.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { AgentServer } from '../../src/agent/agent-server.js';
import { HandlerErrorLog } from '../../src/agent/handler-error-log.js';
import { PEER_TEXT_MAX } from '../../src/protocol/peer-text.js';
import { RawProxyClient, json, sampleEvents } from '../support/raw-proxy-client.js';
import { socketPath } from '../support/tmp.js';

const HOSTILE_CID = `evil\n[zap agent forged] line\u202e${'x'.repeat(1024 * 1024)}`;
const AGENT_ERROR = { block: { status: 500, body: 'Agent error', headers: null } };

test('handler error log: a hostile cid is bounded and escaped; one line, later failures not logged', () => {
  const lines: string[] = [];
  const owner = new EventEmitter();
  const log = new HandlerErrorLog(owner, '[zap agent t]', (line) => lines.push(line));
  log.report(new Error('boom'), HOSTILE_CID);
  log.report(new Error('boom again'), 'second');
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.ok(line.length < PEER_TEXT_MAX + 200, `line of ${line.length} chars`);
  assert.ok(!/[\n\u202e]/.test(line), 'no newline or bidi override from the peer');
  const kept = HOSTILE_CID.slice(0, PEER_TEXT_MAX).replace('\n', '\\n').replace('\u202e', '\\u202e');
  assert.equal(
    line,
    `[zap agent t] handler failed for '${kept}…(+${HOSTILE_CID.length - PEER_TEXT_MAX} more)'; ` +
      `answered Block 500 "Agent error" (later failures are not logged):`,
  );
});

test('handler error log: with a handlerError listener every failure is emitted and nothing is logged', () => {
  const lines: string[] = [];
  const owner = new EventEmitter();
  const seen: string[] = [];
  owner.on('handlerError', (_err: unknown, cid: string) => seen.push(cid));
  const log = new HandlerErrorLog(owner, '[zap agent t]', (line) => lines.push(line));
  log.report(new Error('a'), 'c-1');
  log.report(new Error('b'), 'c-2');
  assert.deepEqual(seen, ['c-1', 'c-2']);
  assert.deepEqual(lines, []);
});

test('handler error log: an AgentServer over UDS logs a hostile cid bounded, answers Block 500 and keeps serving', async () => {
  const path = socketPath('handler-error-log');
  const server = new AgentServer({
    agentId: 'log-agent',
    handler: {
      onRequestHeaders() {
        throw new Error('boom');
      },
    },
  });
  await server.listen(path);
  const logged: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => logged.push(String(args[0]));
  try {
    const { client } = await RawProxyClient.open(path);
    const [type, event] = sampleEvents(HOSTILE_CID)[0]!;
    client.send(type, json(event));
    const reply = await client.nextJson();
    assert.equal(reply['correlation_id'], HOSTILE_CID, 'the reply still names the cid exactly');
    assert.deepEqual(reply['decision'], AGENT_ERROR);
    client.send(type, json(sampleEvents('after')[0]![1]));
    assert.deepEqual((await client.nextJson())['decision'], AGENT_ERROR);
    await client.close();
  } finally {
    console.error = consoleError;
    await server.close();
  }
  assert.equal(logged.length, 1, 'the first failure only');
  assert.ok(logged[0]!.length < PEER_TEXT_MAX + 200, `log line of ${logged[0]!.length} chars`);
  assert.ok(!logged[0]!.includes('\n'));
});
