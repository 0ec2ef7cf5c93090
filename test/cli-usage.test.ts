// zap's command line as a user meets it: --help for every command, --version, usage errors (exit 2,
// one `usage:` line and a hint) versus runtime failures (exit 1, one ZAP_* line), and wrapped
// library messages. Real child processes of the compiled CLI (build first).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMAND_TABLE } from '../src/cli/command-table.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function zap(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

/** A usage error: exit 2, nothing on stdout, a `usage:` line and one hint line naming `--help`. */
function assertUsage(r: { code: number; stdout: string; stderr: string }, command: string, problem: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0]!, command === '' ? /^usage: zap <command>/ : new RegExp(`^usage: zap ${command} `));
  assert.match(lines[1]!, problem);
  assert.match(lines[1]!, new RegExp(`see 'zap ${command === '' ? '' : `${command} `}--help'$`));
}

describe('zap --help and --version', () => {
  test('--version and -v print the package version, exit 0', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await zap(flag);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${VERSION}\n`);
    }
  });

  test('zap --help lists every command', async () => {
    const r = await zap('--help');
    assert.equal(r.code, 0);
    for (const c of COMMAND_TABLE) assert.match(r.stdout, new RegExp(`^  ${c.name} `, 'm'));
  });

  test('every command accepts --help and -h: usage, every option, an example, exit 0', async () => {
    for (const c of COMMAND_TABLE) {
      for (const flag of ['--help', '-h']) {
        const r = await zap(c.name, flag);
        assert.equal(r.code, 0, `${c.name} ${flag}: ${r.stderr}`);
        assert.equal(r.stderr, '');
        assert.match(r.stdout, new RegExp(`^usage: zap ${c.name}`));
        for (const name of Object.keys(c.options)) assert.match(r.stdout, new RegExp(`^  --${name}\\b`, 'm'), `${c.name} --${name}`);
        assert.match(r.stdout, /^examples?:\n {2}\S/m);
        assert.ok(r.stdout.includes(`zap ${c.name} `), `${c.name}: an example of the command itself`);
      }
    }
  });

  test('--help wins over other flags, even bad ones', async () => {
    const r = await zap('call', '--bogus', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: zap call/);
  });
});

describe('usage errors exit 2 with one usage line and a hint', () => {
  test('unknown flag (regression: was Node parseArgs text, exit 1)', async () => {
    assertUsage(await zap('call', '/tmp/x.sock', '--bogus'), 'call', /^zap call: unknown option '--bogus'; /);
    assertUsage(await zap('agent', '--nope'), 'agent', /unknown option '--nope'/);
  });

  test('bad value', async () => {
    assertUsage(await zap('call', '/tmp/x.sock', '--type', 'nope'), 'call', /unknown --type 'nope' \(one of request-headers, /);
    assertUsage(await zap('call', '/tmp/x.sock', '--timeout=-5'), 'call', /--timeout must be a positive integer, got '-5'/);
    assertUsage(await zap('agent', '--listen', '/tmp/x.sock', '--example', 'nope'), 'agent', /unknown --example 'nope'/);
    assertUsage(await zap('demo', '--workers', 'two'), 'demo', /--workers must be an integer ≥ 0, got 'two'/);
    assertUsage(await zap('serve', '--config', 'x.kdl', '--workers', '-1'), 'serve', /option '--workers' argument is ambiguous/);
    assertUsage(await zap('serve', '--config', 'x.kdl', '--workers', '1.5'), 'serve', /--workers must be an integer ≥ 0, got '1\.5'/);
  });

  test('missing argument or value', async () => {
    assertUsage(await zap('call'), 'call', /missing the agent <endpoint>/);
    assertUsage(await zap('check'), 'check', /missing the <file\.kdl>/);
    assertUsage(await zap('agent', '--listen'), 'agent', /option '--listen <value>' argument missing/);
    assertUsage(await zap('completion'), 'completion', /missing the shell/);
  });

  test('stray argument and unknown command', async () => {
    assertUsage(await zap('demo', 'extra'), 'demo', /unexpected argument 'extra'/);
    assertUsage(await zap('nope'), '', /^zap: unknown command 'nope'; /);
  });

  test('--reverse-listen without --token or the opt-out is a usage error', async () => {
    assertUsage(await zap('call', '--reverse-listen', 'tcp://127.0.0.1:0'), 'call', /registrations must be authenticated/);
  });
});

describe('runtime failures exit 1 with one ZAP_* line, library text wrapped', () => {
  test('a missing --event file is ZAP_INVALID_ARGUMENT, not a bare ENOENT', async () => {
    const r = await zap('call', '/tmp/x.sock', '--event', '/nonexistent/event.json');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'ZAP_INVALID_ARGUMENT: cannot read event file /nonexistent/event.json (ENOENT)\n');
  });

  test('missing TLS files are named by their flag', async () => {
    const call = await zap('call', 'https://127.0.0.1:1', '--ca', '/nonexistent/ca.pem');
    assert.equal(call.code, 1);
    assert.equal(call.stderr, 'ZAP_INVALID_ARGUMENT: cannot read --ca file /nonexistent/ca.pem (ENOENT)\n');
    const agent = await zap('agent', '--listen', '127.0.0.1:0', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem');
    assert.equal(agent.code, 1);
    assert.equal(agent.stderr, 'ZAP_INVALID_ARGUMENT: cannot read --tls-cert file /nonexistent/c.pem (ENOENT)\n');
  });

  test('a socket in a missing directory: no syscall or private temporary path in the text', async () => {
    const r = await zap('agent', '--listen', '/nonexistent/dir/x.sock');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'ZAP_INVALID_CONFIG: cannot listen on /nonexistent/dir/x.sock: ENOENT: no such file or directory\n');
  });

  test('a refused gRPC port names the cause without grpc-js framing or a dangling "Resolution note"', async () => {
    const r = await zap('call', 'grpc://127.0.0.1:1', '--timeout', '3000');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ZAP_CONNECT_FAILED: Connect to 127\.0\.0\.1:1 failed: connect ECONNREFUSED 127\.0\.0\.1:1\n$/);
  });
});
