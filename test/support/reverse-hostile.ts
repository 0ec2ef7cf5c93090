// Shared parts of the hostile reverse-listener tests: a flood of half-sent registrations from a
// child process, a well-behaved reverse agent in a child process, a bounded call loop that records
// how every call settled, and an RSS sampler. Every child is killed when the test file ends.
import { fork, type ChildProcess } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentPoolError } from '../../src/protocol/errors.js';
import type { AgentPool } from '../../src/pool/agent-pool.js';
import { requestHeaders } from './events.js';
import { waitUntil } from './reverse-raw-agent.js';

const FLOOD = fileURLToPath(new URL('./reverse-flood-child.ts', import.meta.url));
const AGENT = fileURLToPath(new URL('./reverse-agent-child.ts', import.meta.url));

const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface FloodOptions {
  /** Sockets to open. */
  count: number;
  /** The announced frame length N. */
  announce: number;
  /** Bytes of the frame body each socket drips at most, in `chunk`-byte writes every `intervalMs`. */
  dripBytes: number;
  chunk: number;
  intervalMs: number;
}

export interface FloodOutcome {
  /** The `error` text of each refusal received. */
  refusals: string[];
  /** Sockets the proxy closed without a reply. */
  closed: number;
}

/** `target`: a socket path or `host:port`. Resolves when every socket of the flood is closed. */
export function flood(target: string, o: FloodOptions): Promise<FloodOutcome> {
  const args = [target, o.count, o.announce, o.dripBytes, o.chunk, o.intervalMs].map(String);
  const child = fork(FLOOD, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const outcome: FloodOutcome = { refusals: [], closed: 0 };
  return new Promise((resolve, reject) => {
    child.on('message', (m: { refusal?: string; closed?: boolean; done?: boolean }) => {
      if (m.refusal !== undefined) outcome.refusals.push(m.refusal);
      else if (m.closed === true) outcome.closed++;
      if (m.done === true) resolve(outcome);
    });
    child.once('exit', (code) => reject(new Error(`flood child exited (${code}) before it was done`)));
  });
}

/** A ReverseConnector agent in a child process; resolves once it has registered `connections` times. */
export async function reverseAgent(endpoint: string, agentId: string, connections: number, token: string): Promise<ChildProcess> {
  const child = fork(AGENT, [endpoint, agentId, String(connections), token], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitUntil(() => out.includes(`registered ${connections}`), `${agentId} to register`, 60_000);
  return child;
}

export interface CallTally {
  ok: number;
  /** Error codes of the calls that failed, each with a typed code. */
  errors: string[];
  /** Calls that settled more than once (must stay 0). */
  doubleSettled: number;
}

/**
 * Sends RequestHeaders to `agentId` one after another, about one every 2 ms, until `stop` resolves
 * (and at most `max` calls), recording how each settled. Each call has a 2 s timeout, so none can hang.
 */
export async function callLoop(pool: AgentPool, agentId: string, stop: Promise<unknown>, max = 50_000): Promise<CallTally> {
  const tally: CallTally = { ok: 0, errors: [], doubleSettled: 0 };
  let stopped = false;
  void stop.finally(() => (stopped = true));
  for (let i = 0; i < max && !stopped; i++) {
    const cid = `hostile-${agentId}-${i}`;
    let settled = 0;
    await pool.sendRequestHeaders(agentId, cid, requestHeaders(cid), { timeoutMs: 2_000 }).then(
      () => {
        settled++;
        tally.ok++;
      },
      (err: unknown) => {
        settled++;
        tally.errors.push(err instanceof AgentPoolError ? err.code : `untyped: ${String(err)}`);
      },
    );
    pool.endRequest(cid);
    if (settled !== 1) tally.doubleSettled++;
    // Paced, so the loop's own garbage stays small next to what the RSS bound measures.
    await new Promise((r) => setTimeout(r, 2));
  }
  return tally;
}

/** Samples this process's RSS every 10 ms until stopped; `growthMiB` = peak minus the first sample. */
export function rssSampler(): { stop(): { baselineMiB: number; peakMiB: number; growthMiB: number } } {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const mib = (n: number) => Math.round((n / 1_048_576) * 10) / 10;
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return { baselineMiB: mib(baseline), peakMiB: mib(peak), growthMiB: mib(peak - baseline) };
    },
  };
}
