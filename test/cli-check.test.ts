// `zap check` as a real child process of the compiled CLI (build first: npx tsc -p tsconfig.build.json).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'zap-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'check', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('zap check', () => {
  test('a valid file: exit 0 and a summary of agents and listener, without secrets', async () => {
    const r = await check(fixture('spec-example.kdl'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /spec-example\.kdl: OK, 3 agents, reverse listener\n/);
    const waf = [
      'agent "waf" (type waf)',
      '  transport  uds unix:/run/zentinel/waf.sock',
      '  events     request_headers request_body response_headers',
      '  timeouts   call 250 ms, body chunk 2000 ms',
      '  failure    fail-closed;',
    ];
    assert.ok(r.stdout.includes(waf.join('\n')), r.stdout);
    assert.ok(
      r.stdout.includes('agent "authz" (type auth)\n  transport  grpc https://authz.internal:50051 (TLS, ca-cert, client certificate)'),
      r.stdout,
    );
    assert.ok(r.stdout.includes('agent "llm-guard-1" (type guardrail)\n  transport  reverse reverse://llm-guard-1'), r.stdout);
    const listener = [
      'reverse-listener',
      '  listen     unix:/run/zentinel/agents.sock, tcp 0.0.0.0:9090 (TLS, client certificates required)',
      '  auth       required (2 tokens)',
    ];
    assert.ok(r.stdout.includes(listener.join('\n')), r.stdout);
    assert.doesNotMatch(r.stdout, /tok-llm-guard|tok-spare/);
    assert.ok(r.stdout.includes('config     keys paranoia-level, blocked-countries, audit-log, limits\n'), r.stdout);
  });

  test('--json prints the loaded config (tokens masked)', async () => {
    const r = await check(fixture('spec-example.kdl'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const expected = loadConfig(readFileSync(fixture('spec-example.kdl'), 'utf8'), fixture('spec-example.kdl'));
    expected.reverseListener!.authTokens = ['<redacted>', '<redacted>'];
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(expected)));
  });

  test('an invalid file: exit 1 and one ZAP_INVALID_CONFIG line naming file, line and key', async () => {
    const file = fixture('gv28-unknown-key.kdl');
    const r = await check(file);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `ZAP_INVALID_CONFIG: ${file}:6: unknown key 'max-retries' in agent "waf"\n`);
  });

  test('warnings go to stderr and the file still passes; a missing file fails', async () => {
    const file = join(dir, 'old.kdl');
    writeFileSync(file, 'agents {\n  agent "a" {\n    unix-socket "/tmp/a.sock"\n    protocol-version 2\n  }\n}\n');
    const r = await check(file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `warning: ${file}:4: 'protocol-version' in agent "a" is deprecated and ignored\n`);
    const missing = await check(join(dir, 'missing.kdl'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^ZAP_INVALID_CONFIG: .*missing\.kdl: cannot read the file \(ENOENT\)\n$/);
  });

  test('no file: usage, exit 2', async () => {
    const r = await check();
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^usage: zap check <file\.kdl>/);
  });
});
