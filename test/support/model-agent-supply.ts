// Real agent processes (test/support/model-agent-process.ts) for the pool model and soak tests,
// kept warm: starting one under tsx takes most of a second, so a spare is always on its way.
// Every process reports the cids it sees; the supply merges them into one map.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./model-agent-process.ts', import.meta.url));

export interface AgentCounts {
  seen: number;
  cancelled: number;
  inFlight: number;
  connections: number;
}

export class AgentProcess {
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly path: string,
    readonly tag: string,
  ) {
    this.exit = new Promise((resolve) =>
      child.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
  }

  /** Starts `model-agent-process` and resolves once it listens (bounded by `readyTimeoutMs`). */
  static start(
    path: string,
    tag: string,
    options: {
      slowMs?: number;
      ipcSeen?: boolean;
      onSeen?: (cid: string, tag: string) => void;
      readyTimeoutMs?: number;
      started?: (child: ChildProcess) => void;
    } = {},
  ): Promise<AgentProcess> {
    const args = [path, tag, String(options.slowMs ?? 500)];
    if (options.ipcSeen === false) args.push('--no-ipc-seen');
    const child = fork(SCRIPT, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    options.started?.(child);
    const agent = new AgentProcess(child, path, tag);
    child.on('message', (msg: { seen?: string }) => {
      if (typeof msg.seen === 'string') options.onSeen?.(msg.seen, tag);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`agent process ${tag} did not start in time`));
      }, options.readyTimeoutMs ?? 20_000);
      child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) {
          clearTimeout(timer);
          resolve(agent);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`agent process ${tag} exited with ${code} before listening`));
      });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Kills the process as a crash would (SIGKILL) and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }

  /** The agent's own counters, over IPC (other messages, e.g. late `seen` reports, are skipped). */
  counts(timeoutMs = 5_000): Promise<AgentCounts> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { counts?: AgentCounts }) => {
        if (msg.counts === undefined) return;
        done();
        resolve(msg.counts);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`agent ${this.tag} did not report its counts within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
      };
      this.child.on('message', onMessage);
      this.child.send({ count: true });
    });
  }
}

/** Hands out ready agent processes, keeping `spares` more starting in the background. */
export class AgentSupply {
  /** cid → how many times an agent saw it, and which agent(s). */
  readonly seen = new Map<string, { count: number; tags: string[] }>();
  /** Socket files live in the supply's own directory: it outlives the processes, whatever the hook order. */
  readonly dir = mkdtempSync(join(tmpdir(), 'zap-agents-'));
  private readonly ready: Array<Promise<AgentProcess>> = [];
  private readonly children: ChildProcess[] = [];
  private n = 0;

  constructor(
    private readonly spares: number,
    private readonly options: { slowMs?: number; ipcSeen?: boolean } = {},
  ) {
    for (let i = 0; i < spares; i++) this.spawn();
  }

  take(): Promise<AgentProcess> {
    const next = this.ready.shift() ?? this.spawnDetached();
    while (this.ready.length < this.spares) this.spawn();
    return next;
  }

  /** Kills every process it started (ready or still starting), then removes the socket directory. */
  async close(): Promise<void> {
    await Promise.all(
      this.children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const gone = once(child, 'exit');
        child.kill('SIGKILL');
        return gone;
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A new process on the socket path of a dead one (the agent restarted); not from the spares. */
  restart(dead: AgentProcess): Promise<AgentProcess> {
    return this.spawnDetached(dead.path);
  }

  private spawn(): void {
    this.ready.push(this.spawnDetached());
  }

  private spawnDetached(path?: string): Promise<AgentProcess> {
    const tag = `p${++this.n}`;
    const p = AgentProcess.start(path ?? join(this.dir, `${tag}.sock`), tag, {
      slowMs: this.options.slowMs ?? 500,
      ipcSeen: this.options.ipcSeen ?? true,
      started: (child) => this.children.push(child),
      onSeen: (cid, tag) => {
        const entry = this.seen.get(cid);
        if (entry === undefined) this.seen.set(cid, { count: 1, tags: [tag] });
        else {
          entry.count++;
          entry.tags.push(tag);
        }
      },
    });
    p.catch(() => {}); // surfaced by take()
    return p;
  }
}
