// `zap call --type configure` over gRPC printed a locally made Allow while the Configure was never
// sent (issue 11 item 9): without config_push the Configure is fire-and-forget, the call completed
// at once and the CLI cancelled the stream before grpc-js flushed the write. Now the Configure is
// flushed and the stream ended in order before the CLI exits, and the CLI prints the agent's real
// answer when it gives one. Plain gRPC peers (no project code) record what they got; the CLI is the
// compiled one, as a child process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { plainHandshakeOk, startPlainServer, type Msg } from './support/grpc-plain-peer.js';
import { waitFor } from './support/wait-for.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

async function call(args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'call', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

test(
  'zap call --type configure over gRPC prints a locally made allow: the Configure reaches an agent ' +
    'without config_push, no made-up answer',
  async () => {
    const got: Msg[] = [];
    const { address } = await startPlainServer({
      onStreamMessage(stream, msg) {
        got.push(msg);
        if (msg['message'] === 'handshake') stream.write(plainHandshakeOk('plain'));
      },
    });
    const r = await call(
      [`grpc://${address}`, '--type', 'configure', '--event', '-', '--timeout', '3000'],
      JSON.stringify({ correlation_id: 'cfg-1', config: { mode: 'strict' } }),
    );
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => got.some((m) => m['message'] === 'configure'));
    const configure = got.find((m) => m['message'] === 'configure')!['configure'] as Msg;
    assert.equal(configure['config_version'], 'cfg-1');
    assert.deepEqual(JSON.parse(configure['config_json'] as string), { mode: 'strict' });
    assert.equal(r.stdout, '', 'no Allow the agent never sent');
    assert.match(r.stderr, /Configure sent; the agent does not announce config_push/);
  },
);

test(
  'zap call --type configure over gRPC prints a locally made allow: an agent with config_push gets ' + 'it and its own answer is printed',
  async () => {
    const got: Msg[] = [];
    const { address } = await startPlainServer({
      onStreamMessage(stream, msg) {
        got.push(msg);
        if (msg['message'] === 'handshake') return void stream.write(plainHandshakeOk('plain', { config_push: true }));
        if (msg['message'] === 'configure') {
          const version = (msg['configure'] as Msg)['config_version'] as string;
          stream.write({ response: { correlation_id: version, block: { status: 409, body: 'stale config' } } });
        }
      },
    });
    const r = await call(
      [`grpc://${address}`, '--type', 'configure', '--event', '-', '--timeout', '3000'],
      JSON.stringify({ correlation_id: 'cfg-2', config: {} }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(got.filter((m) => m['message'] === 'configure').length, 1);
    const reply = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(reply['decision'], { block: { status: 409, body: 'stale config', headers: null } });
    assert.equal(reply['correlation_id'], 'cfg-2');
  },
);
