// Log injection (issue 11 item 4): a peer's strings — metric names, gRPC log lines, handshake refusal
// reasons, refused agent ids — reach our logs and error messages escaped and cut, never raw. Each
// test drives a real peer (raw Unix-socket agent, plain gRPC peer, `zap serve` child process) with a
// string holding a newline that forges a log line, an ANSI escape and 100 000 characters of tail.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { reportFailure } from '../../src/cli/cli-error.js';
import { connectGrpcAgent } from '../../src/connection/grpc-agent-client.js';
import { formatAgentLog } from '../../src/connection/grpc-log.js';
import { connectUdsAgent } from '../../src/connection/uds-agent-client.js';
import { PoolMetrics } from '../../src/metrics/pool-metrics.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { agentResponseFromWire } from '../../src/protocol/agent-response.js';
import { configUpdateRequestFromWire } from '../../src/protocol/config-update.js';
import { AgentPoolError, zapError } from '../../src/protocol/errors.js';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import { MessageType } from '../../src/protocol/message-type.js';
import { plainHandshakeOk, startPlainServer } from '../support/grpc-plain-peer.js';
import { RawReverseClient, expectRefusal } from '../support/reverse-raw-agent.js';
import { rawUdsAgent } from '../support/raw-uds-agent.js';
import { socketPath } from '../support/tmp.js';
import { waitFor } from '../support/wait-for.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** A newline that forges a second log line, an ANSI "clear screen", a bidi override, a huge tail. */
const HOSTILE = `evil\n[zap] FORGED LINE \u001b[2J\u202e${'x'.repeat(100_000)}`;

/** The text holds the hostile string only in escaped, truncated form. */
function assertEscaped(text: string, maxLength: number): void {
  assert.ok(!text.includes('\n'), `raw newline in ${JSON.stringify(text.slice(0, 200))}`);
  assert.ok(!text.includes('\u001b'), 'raw ESC');
  assert.ok(!text.includes('\u202e'), 'raw bidi override');
  assert.ok(text.includes('evil\\n[zap] FORGED LINE \\x1b[2J\\u202e'), `escaped form missing in ${text.slice(0, 300)}`);
  assert.match(text, /…\(\+\d+ more\)/);
  assert.ok(text.length <= maxLength, `${text.length} characters`);
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

const HANDSHAKE_OK = {
  protocol_version: 2,
  capabilities: { agent_id: 'raw', name: 'raw', version: '0', supported_events: [1] },
  success: true,
  error: null,
  encoding: 'json',
};

const rawAgent = (answer: () => Buffer) => rawUdsAgent('raw-log', answer);

test('log injection: a metric name with a newline, ANSI and 100 kB reaches the metrics warning escaped and cut', async () => {
  const warnings: string[] = [];
  const metrics = new PoolMetrics({ onWarning: (m) => warnings.push(m) });
  metrics.agentReported(
    'waf',
    {
      agentId: 'waf',
      timestampMs: 0,
      counters: [
        { name: HOSTILE, help: undefined, labels: {}, value: 1 },
        { name: 'ok_total', help: undefined, labels: { [HOSTILE]: 'v' }, value: 1 },
      ],
      gauges: [],
      histograms: [],
    } as never,
    Date.now(),
  );
  assert.equal(warnings.length, 2, warnings.join('\n'));
  for (const w of warnings) assertEscaped(w, 600);
  assert.match(warnings[0]!, /^agent 'waf' reported metric 'evil\\n/);
  assert.match(warnings[1]!, /invalid label name 'evil\\n/);
});

test('log injection: a MetricsReport from a real UDS agent warns through the pool escaped and cut', async () => {
  const report = { counters: [{ name: HOSTILE, value: 1 }], gauges: [], histograms: [] };
  const { path, sockets } = await rawAgent(() => encodeFrame(MessageType.HandshakeResponse, json(HANDSHAKE_OK)));
  const warnings: string[] = [];
  // The pool's metrics warnings go to console.warn.
  const warn = mock.method(console, 'warn', (line: string) => void warnings.push(line));
  after(() => warn.mock.restore());
  const pool = new AgentPool({ workers: 0 });
  after(() => pool.close());
  // The report comes later, on the ready connection: this test is about the text, not the timing.
  const { ready } = await pool.addAgent('raw', `unix:${path}`, { connectionsPerAgent: 1 });
  assert.equal(ready, 1);
  assert.equal(sockets.size, 1);
  for (const s of sockets) s.write(encodeFrame(MessageType.MetricsReport, json(report)));
  await waitFor(() => warnings.length > 0);
  warn.mock.restore();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^\[zap metrics\] agent 'raw' reported metric 'evil\\n/);
  assertEscaped(warnings[0]!, 620);
});

test('log injection: a gRPC agent LogMessage is re-logged as one escaped, cut line', async () => {
  const { address } = await startPlainServer({
    onStreamMessage(call, msg) {
      if (msg['message'] !== 'handshake') return;
      call.write(plainHandshakeOk('plain'));
      call.write({
        log: { level: 3, message: HOSTILE, correlation_id: HOSTILE, fields: { [HOSTILE]: HOSTILE, __proto__x: 'y' }, timestamp_ms: 1 },
      });
    },
  });
  const lines: string[] = [];
  const warn = mock.method(console, 'warn', (line: string) => void lines.push(line));
  after(() => warn.mock.restore());
  const conn = await connectGrpcAgent(`grpc://${address}`, { agentId: 'plain' });
  after(() => conn.close());
  await waitFor(() => lines.length > 0);
  warn.mock.restore();
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assertEscaped(line, 1024 + 4 * 200 + 200);
  assert.match(line, /^\[zap agent plain\] evil\\n\[zap\] FORGED LINE/);
  const extra = JSON.parse(line.slice(line.indexOf(' {"') + 1)) as { correlation_id: string; fields: Record<string, string> };
  assert.ok(extra.correlation_id.length < 200);
  assert.equal(Object.keys(extra.fields).length, 2);
});

test('log injection: a field named __proto__ and 10 000 fields stay bounded, plain fields in the formatted agent log', () => {
  const fields: Record<string, string> = Object.fromEntries([
    ['__proto__', 'p'],
    ...Array.from({ length: 10_000 }, (_, i) => [`f${i}`, 'v']),
  ]);
  const line = formatAgentLog('a', { level: 2, message: 'm', fields, timestampMs: 0 });
  const extra = JSON.parse(line.slice(line.indexOf(' {"') + 1)) as { fields: Record<string, string> };
  assert.equal(Object.getOwnPropertyDescriptor(extra.fields, '__proto__')?.value, 'p');
  assert.equal(extra.fields['…'], '9969 more fields');
  assert.ok(line.length < 2_000, `${line.length}`);
});

test('log injection: a UDS handshake refusal reason arrives escaped and cut in ZAP_HANDSHAKE_FAILED', async () => {
  const { path } = await rawAgent(() =>
    encodeFrame(MessageType.HandshakeResponse, json({ ...HANDSHAKE_OK, protocol_version: 0, success: false, error: HOSTILE })),
  );
  const err = await connectUdsAgent(path, { handshakeTimeoutMs: 5_000 }).then(
    () => assert.fail('handshake accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AgentPoolError);
  assert.equal(err.code, 'ZAP_HANDSHAKE_FAILED');
  assertEscaped(err.message, 300);
});

test('log injection: a gRPC handshake refusal reason arrives escaped and cut in ZAP_HANDSHAKE_FAILED', async () => {
  const { address } = await startPlainServer({
    onStreamMessage(call, msg) {
      if (msg['message'] === 'handshake') call.write({ handshake: { protocol_version: 2, success: false, error: HOSTILE } });
    },
  });
  const err = await connectGrpcAgent(`grpc://${address}`, { handshakeTimeoutMs: 5_000 }).then(
    () => assert.fail('handshake accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AgentPoolError);
  assert.equal(err.code, 'ZAP_HANDSHAKE_FAILED');
  assert.match(err.message, /^Handshake failed: evil\\n/);
  assertEscaped(err.message, 300);
});

test("log injection: zap serve logs a refused reverse agent's id as one escaped, cut line", async () => {
  const listen = socketPath('serve-rev');
  const config = join(tmpdir(), `zap-small-serve-${process.pid}.kdl`);
  writeFileSync(
    config,
    `reverse-listener {\n  path "${listen}"\n  allowed-agents "good-*"\n  auth-token "t1"\n  max-registration-bytes 1048576\n}\n`,
  );
  after(() => rmSync(config, { force: true }));
  const child = spawn(process.execPath, [CLI, 'serve', '--config', config, '--metrics', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => out.includes('reverse listener on'), 20_000).catch(() => assert.fail(`serve did not listen: ${out} ${err}`));
  const client = await RawReverseClient.connect({ path: listen });
  client.register(HOSTILE);
  await expectRefusal(client);
  await waitFor(() => out.includes('reverse registration refused'), 10_000);
  child.kill('SIGTERM');
  await once(child, 'exit');
  const lines = out.split('\n');
  const refused = lines.filter((l) => l.includes('reverse registration refused'));
  assert.equal(refused.length, 1, out.slice(0, 2_000));
  assert.ok(!lines.some((l) => l.startsWith('[zap] FORGED')), 'a forged line reached the log');
  assertEscaped(refused[0]!, 1_000);
});

test('log injection: unknown tags and header names from a peer are escaped and cut in ZAP_PROTOCOL_ERROR texts', () => {
  const bad: Array<() => unknown> = [
    () => agentResponseFromWire({ version: 2, decision: HOSTILE }),
    () => agentResponseFromWire({ version: 2, decision: 'allow', request_headers: [{ [HOSTILE]: {} }] }),
    () => agentResponseFromWire({ version: 2, decision: 'allow', websocket_decision: HOSTILE }),
    () => configUpdateRequestFromWire({ update_type: { type: HOSTILE }, request_id: 'r' }),
  ];
  for (const decode of bad) {
    const err = (() => {
      try {
        decode();
      } catch (e) {
        return e;
      }
      return assert.fail('decoded');
    })();
    assert.ok(err instanceof AgentPoolError, String(err));
    assert.equal(err.code, 'ZAP_PROTOCOL_ERROR');
    assertEscaped(err.message, 400);
  }
});

test("log injection: the CLI's failure line stays one line with control characters escaped, however the message was built", () => {
  const lines: string[] = [];
  const write = mock.method(process.stderr, 'write', (chunk: string) => {
    lines.push(chunk);
    return true;
  });
  try {
    assert.equal(reportFailure(zapError('ZAP_HANDSHAKE_FAILED', `Registration refused by the proxy: ${HOSTILE}`)), 1);
    assert.equal(reportFailure(new Error(`boom ${HOSTILE}`)), 1);
  } finally {
    write.mock.restore();
  }
  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, 'exactly one line');
    assert.ok(!line.includes('\u001b') && !line.includes('\u202e'));
    assert.ok(line.length < 4_200, `${line.length}`);
  }
  assert.match(lines[0]!, /^ZAP_HANDSHAKE_FAILED: Registration refused by the proxy: evil \[zap\] FORGED LINE \\x1b\[2J\\u202e/);
});
