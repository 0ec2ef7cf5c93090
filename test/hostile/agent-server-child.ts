// A real `zap agent --listen` child process (the compiled CLI in dist/: run `npm run build` first)
// for the agent-server hostile tests: its stderr is kept, its RSS read from /proc (Linux).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface AgentChild {
  child: ChildProcess;
  /** Everything the agent wrote to stderr so far. */
  stderr(): string;
  /** Resident set size in bytes (Linux /proc; undefined elsewhere). */
  rssBytes(): number | undefined;
  /** SIGTERM, then the exit code (the agent closes its listener and exits 0). */
  stop(): Promise<number | null>;
}

/** Starts `zap agent --listen unix:<path> ...args` and resolves once it prints its ready line. */
export async function startAgentChild(path: string, args: string[] = []): Promise<AgentChild> {
  const child = spawn(process.execPath, [CLI, 'agent', '--listen', `unix:${path}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`agent exited early with ${code}: ${err}`)));
  });
  return {
    child,
    stderr: () => err,
    rssBytes() {
      if (process.platform !== 'linux' || child.pid === undefined) return undefined;
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

/** Runs `zap agent ...args` expecting it to fail at once: its exit code and stderr. */
export function agentUsageFailure(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'agent', ...args], { timeout: 10_000 }, (err, _stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr });
    });
  });
}
