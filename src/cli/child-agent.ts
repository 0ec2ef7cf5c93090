// Starts `zap agent` as a child process and waits until it says it is listening. Used by the
// demo and the benchmarks; the child runs the same CLI file as this process (tsx or compiled).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI_MAIN = fileURLToPath(new URL(`./main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export interface ChildAgent {
  readonly process: ChildProcess;
  readonly endpoint: string;
  stop(): Promise<void>;
}

export function startChildAgent(args: string[], endpoint: string, readyTimeoutMs = 15_000): Promise<ChildAgent> {
  const child = fork(CLI_MAIN, ['agent', '--listen', endpoint, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent on ${endpoint} did not start within ${readyTimeoutMs} ms: ${stderr.trim()}`));
    }, readyTimeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('listening on')) {
        clearTimeout(timer);
        resolve({ process: child, endpoint, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent on ${endpoint} exited with ${code}: ${stderr.trim()}`));
    });
  });
}
