// Parent side of hanging-agent.ts: starts it as a child process (the .ts source under tsx, the
// compiled .js otherwise), waits until it listens, and asks it how many events it holds or to
// release them all.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ErrorCode, zapError } from '../src/protocol/errors.js';

const SCRIPT = fileURLToPath(new URL(`./hanging-agent${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export class HangingAgent {
  private constructor(
    private readonly child: ChildProcess,
    readonly socket: string,
  ) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  static start(socket: string, timeoutMs = 15_000): Promise<HangingAgent> {
    const child = fork(SCRIPT, [socket], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stdout = '';
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(zapError(ErrorCode.ConnectFailed, `hanging agent not listening within ${timeoutMs} ms: ${stderr.trim()}`));
      }, timeoutMs);
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('listening on')) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve(new HangingAgent(child, socket));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(zapError(ErrorCode.ConnectFailed, `hanging agent exited with ${code}: ${stderr.trim()}`));
      });
    });
  }

  /** How many events the agent holds now. */
  held(timeoutMs = 5_000): Promise<number> {
    return this.ask({ op: 'count' }, 'count', timeoutMs).then((m) => Number(m['held']));
  }

  /** Answers every held event; resolves with how many. */
  release(timeoutMs = 5_000): Promise<number> {
    return this.ask({ op: 'release' }, 'released', timeoutMs).then((m) => Number(m['count']));
  }

  /** Polls until the agent holds `count` events (or more). */
  async waitHeld(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
      seen = await this.held();
      if (seen >= count) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw zapError(ErrorCode.Timeout, `the hanging agent holds ${seen} of ${count} events after ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    const child = this.child;
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  private ask(message: { op: string }, answer: string, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(zapError(ErrorCode.Timeout, `hanging agent did not answer '${message.op}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: Record<string, unknown>) => {
        if (m['op'] !== answer) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(m);
      };
      this.child.on('message', onMessage);
      this.child.send(message);
    });
  }
}
