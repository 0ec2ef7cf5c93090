// `zap completion bash|zsh`: generated from the command table, so it completes exactly the commands
// and flags that --help lists. bash checks the script's syntax and runs it; zsh is checked when
// installed, and by content always.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMMAND_TABLE } from '../src/cli/command-table.js';

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

function zap(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

/** Runs the bash completion for the words typed so far; returns what it offers. */
function bashComplete(script: string, words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const program = `${script}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _zap; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

describe('zap completion', () => {
  test('bash: the script passes bash -n', async () => {
    const r = await zap('completion', 'bash');
    assert.equal(r.code, 0, r.stderr);
    const check = spawnSync('bash', ['-n'], { input: r.stdout, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });

  test('bash: offers every command, then every flag of each command', async () => {
    const script = (await zap('completion', 'bash')).stdout;
    assert.deepEqual(bashComplete(script, ['zap', '']).sort(), [...COMMAND_TABLE.map((c) => c.name), '--help', '--version'].sort());
    for (const c of COMMAND_TABLE) {
      const offered = bashComplete(script, ['zap', c.name, '--']);
      const expected = [...Object.keys(c.options).map((n) => `--${n}`), '--help'];
      assert.deepEqual(offered.sort(), expected.sort(), c.name);
    }
  });

  test('bash: option values and positionals come from the table', async () => {
    const script = (await zap('completion', 'bash')).stdout;
    assert.deepEqual(bashComplete(script, ['zap', 'call', '/x.sock', '--type', 'request-b']), ['request-body-chunk']);
    assert.deepEqual(bashComplete(script, ['zap', 'agent', '--example', '']).sort(), ['auth', 'echo', 'waf']);
    assert.deepEqual(bashComplete(script, ['zap', 'completion', '']).sort(), ['bash', 'zsh']);
  });

  test('zsh: names every command and flag (and passes zsh -n where zsh is installed)', async (t) => {
    const r = await zap('completion', 'zsh');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^#compdef zap\n/);
    for (const c of COMMAND_TABLE) {
      assert.match(r.stdout, new RegExp(`^    '${c.name}:`, 'm'));
      for (const [name, o] of Object.entries(c.options)) {
        assert.ok(r.stdout.includes(`'${o.multiple === true ? '*' : ''}--${name}[`), `${c.name} --${name}`);
      }
    }
    if (!hasZsh) {
      t.diagnostic('zsh is not installed: syntax not checked');
      return;
    }
    const check = spawnSync('zsh', ['-n'], { input: r.stdout, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  });

  test('an unknown shell is a usage error', async () => {
    const r = await zap('completion', 'fish');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^usage: zap completion bash\|zsh\nzap completion: unknown shell 'fish'/);
  });
});
