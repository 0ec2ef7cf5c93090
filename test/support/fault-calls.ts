// Bookkeeping for fault-injection tests: fire many calls at once, record how each one ended
// (resolve/reject counted per call, outcome = decision type or error code), wait — bounded — for
// all of them, and check that the pool holds nothing afterwards.
import assert from 'node:assert/strict';
import type { AgentPool, SendOptions } from '../../src/pool/agent-pool.js';
import { AgentPoolError } from '../../src/protocol/errors.js';
import { requestHeaders } from './events.js';

export class CallLedger {
  /** Settlements seen per call (resolve + reject handler runs); exactly 1 each when all is well. */
  readonly settles: Uint32Array;
  readonly outcomes: Array<string | undefined>;
  /** First error message seen per code, for matching the reason. */
  readonly messages = new Map<string, string>();
  /** Rejections whose error carried the wrong agent id or correlation id. */
  readonly misattributed: string[] = [];
  private done = 0;

  constructor(
    readonly agentId: string,
    readonly prefix: string,
    readonly size: number,
  ) {
    this.settles = new Uint32Array(size);
    this.outcomes = new Array<string | undefined>(size);
  }

  cid(i: number): string {
    return `${this.prefix}-${i}`;
  }

  /** `cid` defaults to cid(i); give it when several calls share one correlation id. */
  track(i: number, promise: Promise<{ decision: { type: string }; synthetic?: boolean }>, cid = this.cid(i)): void {
    promise.then(
      (response) => this.record(i, response.synthetic === true ? 'synthetic-allow' : response.decision.type),
      (err: unknown) => {
        if (!(err instanceof AgentPoolError)) return this.record(i, `untyped:${String(err)}`);
        if (err.agentId !== this.agentId || err.correlationId !== cid) {
          this.misattributed.push(`${cid}: ${err.agentId}/${err.correlationId}`);
        }
        if (!this.messages.has(err.code)) this.messages.set(err.code, err.message);
        this.record(i, err.code);
      },
    );
  }

  get settled(): number {
    return this.done;
  }

  /** Outcome → number of calls. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const o of this.outcomes) {
      const key = o ?? 'unsettled';
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }

  /** Waits (bounded) until every call ended; then checks each ended exactly once, with the right ids. */
  async allSettled(boundMs: number): Promise<Record<string, number>> {
    await waitFor(
      () => this.done === this.size,
      boundMs,
      () => `${this.size - this.done} of ${this.size} calls never settled: ${JSON.stringify(this.counts())}`,
    );
    for (let i = 0; i < this.size; i++) assert.equal(this.settles[i], 1, `call ${this.cid(i)} settled ${this.settles[i]} times`);
    assert.deepEqual(this.misattributed, [], 'errors name their own agent and correlation id');
    return this.counts();
  }

  /** After a pause, still nothing settled twice (a second settlement would have been counted). */
  assertStillOnce(): void {
    for (let i = 0; i < this.size; i++) assert.equal(this.settles[i], 1, `call ${this.cid(i)} settled ${this.settles[i]} times`);
  }

  private record(i: number, outcome: string): void {
    this.settles[i] = (this.settles[i] as number) + 1;
    if (this.settles[i] === 1) {
      this.outcomes[i] = outcome;
      this.done++;
    }
  }
}

/** Fires `n` RequestHeaders calls at once (distinct cids) and tracks them. */
export function fire(pool: AgentPool, agentId: string, n: number, prefix: string, options: SendOptions = {}): CallLedger {
  const ledger = new CallLedger(agentId, prefix, n);
  for (let i = 0; i < n; i++) {
    const cid = ledger.cid(i);
    ledger.track(i, pool.sendRequestHeaders(agentId, cid, requestHeaders(cid), options));
  }
  return ledger;
}

/** Polls `cond` every 5 ms; fails with `what` once `boundMs` has passed. */
export async function waitFor(cond: () => boolean | Promise<boolean>, boundMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`not within ${boundMs} ms: ${typeof what === 'string' ? what : what()}`);
    await sleep(5);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The pool and the agent's entry hold no call, no queued call and no in-flight slot. */
export function assertQuiescent(pool: AgentPool, agentId: string): void {
  assert.equal(pool.stats().inFlight, 0, 'pool.stats().inFlight');
  const s = pool.agentStats(agentId);
  assert.equal(s.totalInFlight, 0, 'agentStats.totalInFlight');
  assert.equal(s.queued, 0, 'agentStats.queued');
  for (const c of s.connections) assert.equal(c.inFlight, 0, `connection ${c.id} inFlight`);
}
