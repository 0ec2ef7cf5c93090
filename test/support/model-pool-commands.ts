// The fast-check command model of AgentPool (test/model/pool.model.test.ts). The model knows
// which agent slots are registered, which agent processes are alive and which registrations have
// seen failures; the real side is one long-lived pool with 2 connection workers and real agent
// processes. Every call is recorded with what the model knew when it was sent and every disruption
// that happened while it was open, so the outcome can be checked against the allowed set.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AgentPoolError, ErrorCode } from '../../src/protocol/errors.js';
import type { AgentPool } from '../../src/pool/agent-pool.js';
import type { AgentResponse } from '../../src/protocol/types.js';
import { requestHeaders } from './events.js';
import type { AgentProcess, AgentSupply } from './model-agent-supply.js';
import { killWorker } from '../../src/testing-entry.js';

export const SLOTS = 2;
const CONNECTIONS_PER_AGENT = 2;
/** Deadline of 'timeout' calls; far below the agent's slow answer. */
const SHORT_TIMEOUT_MS = 40;

export type CallKind = 'fast' | 'slow' | 'timeout';
type Disruption = { epoch: number; kind: 'agent-kill' | 'worker-kill' | 'remove'; slot: number | null };

export interface CallRecord {
  readonly n: number;
  readonly slot: number;
  readonly agentId: string;
  readonly cid: string;
  readonly kind: CallKind;
  /** The tag of the agent process serving the slot when the call was sent. */
  readonly tag: string | undefined;
  readonly registered: boolean;
  /** pool.isAgentHealthy() right before the call: false means it must fail fast. */
  readonly healthyAtSend: boolean;
  readonly epochAtSend: number;
  readonly controller: AbortController;
  abortedWhilePending: boolean;
  epochAtSettle: number | undefined;
  settles: number;
  response: AgentResponse | undefined;
  error: unknown;
}

interface SlotModel {
  registered: boolean;
  alive: boolean;
  /** This registration has seen timeouts or a worker loss: its connections may be marked unhealthy. */
  tainted: boolean;
}

export interface PoolModel {
  slots: SlotModel[];
  agentKilled: boolean;
  agentRestarted: boolean;
  workerKilled: boolean;
}

interface RealSlot {
  agentId: string;
  generation: number;
  process: AgentProcess | undefined;
}

export class PoolRun {
  readonly calls: CallRecord[] = [];
  readonly disruptions: Disruption[] = [];
  readonly slots: RealSlot[];
  epoch = 0;

  constructor(
    readonly run: number,
    readonly pool: AgentPool,
    readonly supply: AgentSupply,
    carried: Array<AgentProcess | undefined>,
  ) {
    this.slots = Array.from({ length: SLOTS }, (_, i) => ({ agentId: this.idOf(i, 0), generation: 0, process: carried[i] }));
  }

  idOf(slot: number, generation: number): string {
    return `run${this.run}-slot${slot}-g${generation}`;
  }

  get pending(): CallRecord[] {
    return this.calls.filter((c) => c.settles === 0);
  }

  disrupt(kind: Disruption['kind'], slot: number | null): void {
    this.disruptions.push({ epoch: ++this.epoch, kind, slot });
  }

  /** Disruptions that happened while the call was open and could touch it. */
  disruptionsOf(c: CallRecord): Disruption[] {
    const until = c.epochAtSettle ?? this.epoch;
    return this.disruptions.filter((d) => d.epoch > c.epochAtSend && d.epoch <= until && (d.slot === null || d.slot === c.slot));
  }

  send(slot: number, kind: CallKind, model: PoolModel): void {
    const s = this.slots[slot] as RealSlot;
    const n = this.calls.length;
    const cid = `${s.agentId}-c${n}`;
    const controller = new AbortController();
    const healthy = this.pool.agentIds().includes(s.agentId) && this.pool.isAgentHealthy(s.agentId);
    const m = model.slots[slot] as SlotModel;
    // The model's own view: a registered, live, untroubled agent is selectable; a dead one is not.
    if (m.registered && m.alive && !m.tainted) assert.equal(healthy, true, `${s.agentId} should be healthy`);
    if (m.registered && !m.alive) assert.equal(healthy, false, `${s.agentId} lost its process and must not be healthy`);
    const record: CallRecord = {
      n,
      slot,
      agentId: s.agentId,
      cid,
      kind,
      tag: s.process?.tag,
      registered: m.registered,
      healthyAtSend: healthy,
      epochAtSend: this.epoch,
      controller,
      abortedWhilePending: false,
      epochAtSettle: undefined,
      settles: 0,
      response: undefined,
      error: undefined,
    };
    this.calls.push(record);
    const options = kind === 'timeout' ? { timeoutMs: SHORT_TIMEOUT_MS, signal: controller.signal } : { signal: controller.signal };
    const uri = kind === 'fast' ? '/fast' : '/slow';
    this.pool.sendRequestHeaders(s.agentId, cid, requestHeaders(cid, uri), options).then(
      (response) => {
        record.settles++;
        record.epochAtSettle = this.epoch;
        record.response = response;
      },
      (error: unknown) => {
        record.settles++;
        record.epochAtSettle = this.epoch;
        record.error = error;
      },
    );
  }
}

/** The outcomes a call may have, given what the model knew and what happened while it was open. */
export function allowedOutcomes(run: PoolRun, c: CallRecord): Set<string> {
  if (!c.registered) return new Set([ErrorCode.NotFound]);
  if (!c.healthyAtSend) return new Set([ErrorCode.NoHealthyConnection]);
  const allowed = new Set<string>(c.abortedWhilePending ? [ErrorCode.Abort] : [c.kind === 'timeout' ? ErrorCode.Timeout : 'ok']);
  for (const d of run.disruptionsOf(c)) {
    // It may have finished normally before the disruption reached it.
    allowed.add(c.kind === 'timeout' ? ErrorCode.Timeout : 'ok');
    if (d.kind === 'agent-kill') allowed.add(ErrorCode.ConnectionLost);
    if (d.kind === 'worker-kill') allowed.add(ErrorCode.WorkerLost);
    if (d.kind === 'remove') allowed.add(ErrorCode.Abort);
  }
  return allowed;
}

export function outcomeOf(c: CallRecord): string {
  if (c.settles === 0) return 'pending';
  if (c.error === undefined) return 'ok';
  return c.error instanceof AgentPoolError ? c.error.code : `untyped: ${String(c.error)}`;
}

// --- commands -----------------------------------------------------------------------------------

type Cmd = fc.AsyncCommand<PoolModel, PoolRun>;

/** Slot 0 keeps the default light-load connection on the calling thread; slot 1 has both on workers. */
function agentOptions(slot: number) {
  return { connectionsPerAgent: CONNECTIONS_PER_AGENT, inlineBelowInFlight: slot === 0 ? 1 : 0 };
}

export class AddAgent implements Cmd {
  constructor(readonly slot: number) {}
  check(m: Readonly<PoolModel>): boolean {
    return !(m.slots[this.slot] as SlotModel).registered;
  }
  async run(m: PoolModel, r: PoolRun): Promise<void> {
    const s = r.slots[this.slot] as RealSlot;
    if (s.process === undefined || !s.process.alive) s.process = await r.supply.take();
    s.agentId = r.idOf(this.slot, ++s.generation);
    const { ready } = await r.pool.addAgent(s.agentId, `unix:${s.process.path}`, agentOptions(this.slot));
    assert.equal(ready, CONNECTIONS_PER_AGENT, `addAgent ${s.agentId}: every connection ready`);
    m.slots[this.slot] = { registered: true, alive: true, tainted: false };
  }
  toString(): string {
    return `addAgent(${this.slot})`;
  }
}

class RemoveAgent implements Cmd {
  constructor(readonly slot: number) {}
  check(m: Readonly<PoolModel>): boolean {
    return (m.slots[this.slot] as SlotModel).registered;
  }
  async run(m: PoolModel, r: PoolRun): Promise<void> {
    const s = r.slots[this.slot] as RealSlot;
    r.disrupt('remove', this.slot);
    await r.pool.removeAgent(s.agentId);
    assert.equal(r.pool.agentIds().includes(s.agentId), false);
    (m.slots[this.slot] as SlotModel).registered = false;
  }
  toString(): string {
    return `removeAgent(${this.slot})`;
  }
}

class Send implements Cmd {
  constructor(
    readonly slot: number,
    readonly kind: CallKind,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: PoolModel, r: PoolRun): Promise<void> {
    if (this.kind === 'timeout' && (m.slots[this.slot] as SlotModel).registered) (m.slots[this.slot] as SlotModel).tainted = true;
    r.send(this.slot, this.kind, m);
    await new Promise((resolve) => setImmediate(resolve));
  }
  toString(): string {
    return `send(${this.slot}, ${this.kind})`;
  }
}

class Burst implements Cmd {
  constructor(
    readonly slot: number,
    readonly kinds: CallKind[],
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: PoolModel, r: PoolRun): Promise<void> {
    if (this.kinds.includes('timeout') && (m.slots[this.slot] as SlotModel).registered) (m.slots[this.slot] as SlotModel).tainted = true;
    for (const kind of this.kinds) r.send(this.slot, kind, m);
    await new Promise((resolve) => setImmediate(resolve));
  }
  toString(): string {
    return `burst(${this.slot}, ${this.kinds.join('/')})`;
  }
}

class Abort implements Cmd {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  async run(_m: PoolModel, r: PoolRun): Promise<void> {
    const pending = r.pending;
    if (pending.length === 0) return;
    const c = pending[this.pick % pending.length] as CallRecord;
    c.abortedWhilePending = true;
    c.controller.abort();
    await new Promise((resolve) => setImmediate(resolve));
  }
  toString(): string {
    return `abort(${this.pick})`;
  }
}

class KillAgent implements Cmd {
  constructor(readonly slot: number) {}
  check(m: Readonly<PoolModel>): boolean {
    const s = m.slots[this.slot] as SlotModel;
    return !m.agentKilled && s.registered && s.alive;
  }
  async run(m: PoolModel, r: PoolRun): Promise<void> {
    const s = r.slots[this.slot] as RealSlot;
    r.disrupt('agent-kill', this.slot);
    await s.process?.kill();
    m.agentKilled = true;
    (m.slots[this.slot] as SlotModel).alive = false;
    // The pool must notice the loss by itself (every connection goes to backoff).
    const deadline = Date.now() + 5_000;
    while (r.pool.isAgentHealthy(s.agentId) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(r.pool.isAgentHealthy(s.agentId), false, `${s.agentId}: loss of the agent process not noticed`);
  }
  toString(): string {
    return `killAgent(${this.slot})`;
  }
}

class RestartAgent implements Cmd {
  constructor(readonly slot: number) {}
  check(m: Readonly<PoolModel>): boolean {
    const s = m.slots[this.slot] as SlotModel;
    return !m.agentRestarted && s.registered && !s.alive;
  }
  async run(m: PoolModel, r: PoolRun): Promise<void> {
    const s = r.slots[this.slot] as RealSlot;
    s.process = await r.supply.restart(s.process as AgentProcess);
    m.agentRestarted = true;
    const slotModel = m.slots[this.slot] as SlotModel;
    slotModel.alive = true;
    slotModel.tainted = true; // its connections come back one by one, through backoff
    // The pool must find the agent again by itself (redial after backoff).
    const deadline = Date.now() + 5_000;
    while (!r.pool.isAgentHealthy(s.agentId) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(r.pool.isAgentHealthy(s.agentId), true, `${s.agentId}: restarted agent not reconnected`);
  }
  toString(): string {
    return `restartAgent(${this.slot})`;
  }
}

class KillWorker implements Cmd {
  constructor(readonly index: number) {}
  check(m: Readonly<PoolModel>): boolean {
    return !m.workerKilled;
  }
  async run(m: PoolModel, r: PoolRun): Promise<void> {
    r.disrupt('worker-kill', null);
    const lost = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      r.pool.once('worker-lost', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    await killWorker(r.pool, this.index);
    assert.equal(await lost, true, 'worker-lost reported');
    m.workerKilled = true;
    for (const s of m.slots) if (s.registered) s.tainted = true;
  }
  toString(): string {
    return `killWorker(${this.index})`;
  }
}

const slot = fc.integer({ min: 0, max: SLOTS - 1 });

export const poolCommands = [
  slot.map((i) => new AddAgent(i)),
  slot.map((i) => new RemoveAgent(i)),
  fc.tuple(slot, fc.constantFrom<CallKind>('fast', 'fast', 'slow')).map(([i, k]) => new Send(i, k)),
  fc.tuple(slot, fc.constantFrom<CallKind>('fast', 'fast', 'slow')).map(([i, k]) => new Send(i, k)),
  fc
    .tuple(slot, fc.array(fc.constantFrom<CallKind>('fast', 'fast', 'slow', 'timeout'), { minLength: 2, maxLength: 8 }))
    .map(([i, k]) => new Burst(i, k)),
  slot.map((i) => new Send(i, 'timeout')),
  fc.nat({ max: 100 }).map((i) => new Abort(i)),
  slot.map((i) => new KillAgent(i)),
  slot.map((i) => new RestartAgent(i)),
  fc.integer({ min: 0, max: 1 }).map((i) => new KillWorker(i)),
];
