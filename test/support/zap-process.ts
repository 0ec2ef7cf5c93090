// The compiled `zap` CLI as a real child process for tests: its output collected as it comes, the
// process killed after the test if it is still running, and a bounded wait for a line of output.
import { spawn, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface ZapProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

export function zap(args: string[], env: NodeJS.ProcessEnv = process.env): ZapProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err };
}

/** Polls `read()` until `pattern` matches (its match), or throws with what was read after `timeoutMs`. */
export async function waitForOutput(read: () => string, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const start = Date.now();
  for (;;) {
    const m = pattern.exec(read());
    if (m !== null) return m;
    if (Date.now() - start > timeoutMs) throw new Error(`no ${pattern} in: ${read()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
