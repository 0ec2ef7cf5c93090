// The reference implementation's peers (interop/reference: ref-agent and ref-proxy, Rust programs
// on the published zentinel-agent-protocol crate) as child processes, for `zap bench reference` and
// for `npm run test:reference`. The binaries come from interop/reference/build.mjs (cargo build
// --release, incremental); ZAP_REF_BIN_DIR names an already built folder and skips the build.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ErrorCode, zapError } from '../src/protocol/errors.js';

/** interop/reference/build.mjs, found from this file under bench/ or dist/bench/. */
function buildScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    const candidate = join(dir, 'interop', 'reference', 'build.mjs');
    if (existsSync(candidate)) return candidate;
  }
  throw zapError(ErrorCode.InvalidConfig, 'interop/reference/build.mjs not found: the reference peers need a source checkout');
}

let binDir: string | undefined = process.env['ZAP_REF_BIN_DIR'];

/** Builds the peers once per process (cargo's output on stderr) and returns their folder. */
function referenceBinDir(): string {
  if (binDir !== undefined) return binDir;
  const r = spawnSync(process.execPath, [buildScript()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0)
    throw zapError(ErrorCode.InvalidConfig, `building the reference peers failed (exit ${r.status}); see the output above`);
  binDir = (JSON.parse(r.stdout) as { binDir: string }).binDir;
  return binDir;
}

/** One reference binary running as a child: its stdout lines, its stderr, its final JSON line. */
export class RefProcess {
  readonly child: ChildProcess;
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  private readonly exited: Promise<number | null>;
  private readonly lineWaiters: Array<{ prefix: string; resolve: (line: string) => void }> = [];

  constructor(binary: 'ref-agent' | 'ref-proxy', args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(join(referenceBinDir(), binary), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.exited = once(this.child, 'exit').then(([code]) => code as number | null);
    createInterface({ input: this.child.stderr! }).on('line', (line) => this.stderrLines.push(line));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.stdoutLines.push(line);
      for (const w of [...this.lineWaiters]) {
        if (!line.startsWith(w.prefix)) continue;
        this.lineWaiters.splice(this.lineWaiters.indexOf(w), 1);
        w.resolve(line);
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The first stdout line starting with `prefix` (already seen or still to come); rejects on exit or after timeoutMs. */
  line(prefix: string, timeoutMs = 20_000): Promise<string> {
    const seen = this.stdoutLines.find((l) => l.startsWith(prefix));
    if (seen !== undefined) return Promise.resolve(seen);
    const waiting = new Promise<string>((resolve, reject) => {
      this.lineWaiters.push({ prefix, resolve });
      void this.exited.then((code) =>
        reject(new Error(`${this.describe()} exited (${code}) before printing '${prefix}': ${this.stderrLines.join('\n')}`)),
      );
    });
    return withTimeout(waiting, timeoutMs, `'${prefix}' line from ${this.describe()}`);
  }

  /** The endpoint of the `ready <endpoint>` line. */
  async ready(timeoutMs = 20_000): Promise<string> {
    return (await this.line('ready ', timeoutMs)).slice('ready '.length);
  }

  /** The last stdout line as JSON once the process exits 0; its stderr in the error otherwise. */
  async result(timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const code = await withTimeout(this.exited, timeoutMs, `exit of ${this.describe()}`);
    const last = this.stdoutLines.at(-1);
    if (code !== 0 || last === undefined) throw new Error(`${this.describe()} exit ${code}: ${this.stderrLines.join('\n')}`);
    return JSON.parse(last) as Record<string, unknown>;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  private describe(): string {
    return `${this.child.spawnfile.split('/').at(-1)} (pid ${this.child.pid})`;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(zapError(ErrorCode.Timeout, `no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}
