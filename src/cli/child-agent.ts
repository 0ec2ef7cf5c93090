// Starts `zap …` (usually `zap agent`) as a child process and waits until it prints a line that
// says it is ready. Used by the demo and the benchmarks; the child runs the same CLI file as this
// process (tsx sources or the compiled build).
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const CLI_MAIN = fileURLToPath(new URL(`./main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export interface ChildAgent {
  readonly process: ChildProcess;
  /** The `--listen` endpoint from the arguments, if any. */
  readonly endpoint: string | undefined;
  /** Everything the child printed on stdout so far. */
  readonly output: () => string;
  stop(): Promise<void>;
}

/** `args` are the CLI arguments (e.g. ['agent', '--listen', path, '--example', 'waf']). */
export function startChildAgent(args: string[], ready: RegExp = /listening on/, readyTimeoutMs = 15_000): Promise<ChildAgent> {
  return startChildScript(CLI_MAIN, args, `zap ${args.join(' ')}`, ready, readyTimeoutMs);
}

/** Forks `script` with `args` and waits until its stdout matches `ready`; `label` names it in errors. */
export function startChildScript(
  script: string,
  args: string[],
  label: string,
  ready: RegExp,
  readyTimeoutMs: number,
): Promise<ChildAgent> {
  const child = fork(script, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`'${label}' was not ready within ${readyTimeoutMs} ms: ${stderr.trim()}`));
    }, readyTimeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (ready.test(stdout)) {
        clearTimeout(timer);
        const at = args.indexOf('--listen');
        resolve({ process: child, endpoint: at >= 0 ? args[at + 1] : undefined, output: () => stdout, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`'${label}' exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
