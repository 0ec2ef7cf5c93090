// Test-side handle of a fault-agent process: start it on a socket path, change its behaviour,
// inject one-shot faults, read its counters, SIGKILL it, start another on the same path.
// Every process started here is killed when the test file ends.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AgentStatsSnapshot, Behaviour, FaultKind, FromAgent, ToAgent } from './fault-agent-protocol.js';

const ENTRY = fileURLToPath(new URL('./fault-agent.ts', import.meta.url));
/** Startup (tsx compiles the entry) and IPC answers on a loaded 2-core box stay well under this. */
const IPC_TIMEOUT_MS = 20_000;

const live = new Set<FaultAgentProcess>();
after(async () => {
  await Promise.all([...live].map((p) => p.kill()));
});

export type { AgentStatsSnapshot, Behaviour, FaultKind };

type AckMessage = Extract<ToAgent, { id: number }>;
type Ask = AckMessage extends infer M ? (M extends AckMessage ? Omit<M, 'id'> : never) : never;

export class FaultAgentProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (value: unknown) => void>();
  private readonly exited: Promise<void>;

  private constructor(
    readonly path: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (m: FromAgent) => {
      if (m.op !== 'ack') return;
      const resolve = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      resolve?.(m.value);
    });
    this.exited = once(child, 'exit').then(() => {
      live.delete(this);
      for (const resolve of this.waiting.values()) resolve(undefined);
      this.waiting.clear();
    });
  }

  /** Forks the agent and resolves once it listens on `path` (an old socket file there is replaced). */
  static async start(path: string, behaviour: Behaviour = { kind: 'normal' }): Promise<FaultAgentProcess> {
    const child = fork(ENTRY, [path, JSON.stringify(behaviour)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const agent = new FaultAgentProcess(path, child);
    live.add(agent);
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fault agent on ${path} did not start within ${IPC_TIMEOUT_MS} ms`)), IPC_TIMEOUT_MS);
      child.on('message', (m: FromAgent) => {
        if (m.op === 'listening') {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`fault agent exited before listening (code ${code})`));
      });
    });
    await listening;
    return agent;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  behave(behaviour: Behaviour): Promise<void> {
    return this.ask({ op: 'behave', behaviour }).then(() => undefined);
  }

  /** Writes the fault on every established connection; resolves with how many it hit. */
  inject(fault: FaultKind): Promise<number> {
    return this.ask({ op: 'inject', fault }) as Promise<number>;
  }

  /** Writes a reply for `cid` on every established connection; resolves with how many. */
  reply(cid: string): Promise<number> {
    return this.ask({ op: 'reply', cid }) as Promise<number>;
  }

  stats(): Promise<AgentStatsSnapshot> {
    return this.ask({ op: 'stats' }) as Promise<AgentStatsSnapshot>;
  }

  /** Polls the counters (bounded) until `what` holds; resolves with the snapshot that satisfied it. */
  async statsWhen(what: (s: AgentStatsSnapshot) => boolean, boundMs = 10_000): Promise<AgentStatsSnapshot> {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const s = await this.stats();
      if (what(s)) return s;
      if (Date.now() > deadline) throw new Error(`agent counters not as expected within ${boundMs} ms: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private ask(message: Ask): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`fault agent did not answer '${message.op}' within ${IPC_TIMEOUT_MS} ms`));
      }, IPC_TIMEOUT_MS);
      this.waiting.set(id, (value) => {
        clearTimeout(timer);
        if (value === undefined) reject(new Error(`fault agent exited before answering '${message.op}'`));
        else resolve(value);
      });
      this.child.send({ ...message, id } as ToAgent);
    });
  }
}
