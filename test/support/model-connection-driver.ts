// Drives a real ConnectionActor (real UDS dialer, real FramedConnection, real AgentServers behind
// an AgentGate) along one model path and records what it reports. Every step is caused the way it
// happens in production where there is a real cause: connect failure = nothing at the path,
// handshake failure = a json-only agent for a proxy that requires msgpack, loss = the agent side
// cuts the socket, backoff = the real timer. PAUSE / RESUME / DRAIN / DRAINED / CLOSE (and LOST
// where a state ignores it) are sent to the actor, as the pool and flow control do.
import type { ConnectionActor } from '../../src/connection/connection-actor.js';
import type { ConnectionMachineEvent, ConnectionStateName } from '../../src/connection/connection-machine.js';
import type { OpenConnectionCommand, StateReport } from '../../src/contract/host-messages.js';
import type { AgentGate, GatePlan } from './model-agent-gate.js';
import { EXTERNAL_EVENTS, eventLabel, type ModelCase } from './model-connection-paths.js';

/** The open command of the model's connection: msgpack required, short backoff, held handshakes never time out. */
export function openCommand(path: string, redial: boolean): OpenConnectionCommand {
  return {
    type: 'open',
    connectionId: 1,
    agentId: 'model-agent',
    endpoint: { transport: 'uds', path },
    connectTimeoutMs: 5_000,
    // Long enough that a held handshake never ends by itself while a path runs.
    handshakeTimeoutMs: 60_000,
    requestTimeoutMs: 5_000,
    channelBufferSize: 16,
    encoding: 'msgpack',
    config: null,
    initialPushId: 'push-1',
    redial,
    reconnectInitialBackoffMs: 20,
    reconnectMaxBackoffMs: 40,
  };
}

/** What one connect attempt of the path meets: nothing at the path, or the gate with a plan. */
interface AttemptPlan {
  connectable: boolean;
  plan: GatePlan;
}

/** The world each connect attempt of the path needs, in order. */
function attemptPlans(c: ModelCase): AttemptPlan[] {
  // The next step after `i` that is a real transition (ignored events change nothing).
  const nextReal = (i: number): ModelCase['steps'][number] | undefined => c.steps.slice(i + 1).find((s) => !s.ignored);
  const plans: AttemptPlan[] = [];
  c.steps.forEach((step, i) => {
    if (step.state !== 'connecting' || step.ignored) return;
    const next = nextReal(i);
    const label = next === undefined ? '' : eventLabel(next.event);
    if (label === 'connect.error') {
      plans.push({ connectable: false, plan: 'hold' });
    } else if (label === 'connect.done') {
      const after = nextReal(c.steps.indexOf(next as ModelCase['steps'][number]));
      const outcome = after === undefined ? '' : eventLabel(after.event);
      plans.push({ connectable: true, plan: outcome === 'handshake.done' ? 'accept' : outcome === 'handshake.error' ? 'refuse' : 'hold' });
    } else {
      // The path ends here, or CLOSE while connecting: the connect still lands.
      plans.push({ connectable: true, plan: 'hold' });
    }
  });
  return plans;
}

/**
 * The machine actor inside a ConnectionActor. DRAIN / DRAINED / a bare LOST go straight to it so
 * the path controls each one: drain() also arms its own DRAINED poll and recycle() closes the
 * connection first (those real causes are covered by connection-causes.test.ts).
 */
function machineOf(actor: ConnectionActor): { send(event: ConnectionMachineEvent): void } {
  return (actor as unknown as { actor: { send(event: ConnectionMachineEvent): void } }).actor;
}

function sendExternal(actor: ConnectionActor, type: string): void {
  switch (type) {
    case 'PAUSE':
      return actor.pause();
    case 'RESUME':
      return actor.resume();
    case 'CLOSE':
      return actor.close();
    case 'DRAIN':
    case 'DRAINED':
      return machineOf(actor).send({ type });
    case 'LOST':
      return machineOf(actor).send({ type, error: 'model: LOST sent directly' });
    default:
      throw new Error(`not an external event: ${type}`);
  }
}

export interface IgnoredCheck {
  step: number;
  event: string;
  expected: ConnectionStateName;
  /** The actor's state once it had processed the event (before any I/O could move it on). */
  actual: ConnectionStateName;
  /** Reports that arrived meanwhile (must be 0). */
  reports: number;
}

export interface PathRun {
  reports: StateReport[];
  ignoredChecks: IgnoredCheck[];
  /** Driver-side problems (a step it could not cause). */
  problems: string[];
}

/**
 * Reacts to each state report by causing the path's next step. Install as the actor's state
 * listener before start(); call `arm()` (sets up the first attempt) right before start().
 */
export class PathDriver {
  readonly run: PathRun = { reports: [], ignoredChecks: [], problems: [] };
  actor: ConnectionActor | undefined;
  /** Step index of each expected report (ignored steps report nothing). */
  readonly reportSteps: number[];
  private readonly plans: AttemptPlan[];
  private attempts = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly c: ModelCase,
    private readonly gate: AgentGate,
  ) {
    this.plans = attemptPlans(c);
    this.reportSteps = c.steps.flatMap((s, i) => (s.ignored ? [] : [i]));
  }

  get ignoredSteps(): number {
    return this.c.steps.filter((s) => s.ignored).length;
  }

  /** Prepares the world for the first connect attempt. */
  arm(): void {
    this.prepareAttempt();
  }

  onReport(report: StateReport): void {
    const k = this.run.reports.length;
    this.run.reports.push(report);
    this.wake();
    const i = this.reportSteps[k];
    if (i === undefined || this.c.steps[i]?.state !== report.state) return; // diverged or past the end: just record
    // The connect of the next attempt happens when the backoff timer fires: set its world now.
    if (report.state === 'backoff') this.prepareAttempt();
    this.advance(i);
  }

  /** Resolves once every expected report and ignored-event check is in (or after `timeoutMs`). */
  async finished(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const done = () => this.run.reports.length >= this.reportSteps.length && this.run.ignoredChecks.length >= this.ignoredSteps;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  /** Connect attempts started so far that were pointed at the gate (each is accepted there). */
  connectableAttemptsStarted(): number {
    const started = this.run.reports.filter((r) => r.state === 'connecting').length;
    return this.plans.slice(0, started).filter((p) => p.connectable).length;
  }

  /** Step `i` has been reached: cause step i + 1. */
  private advance(i: number): void {
    const next = this.c.steps[i + 1];
    if (next === undefined) return;
    const actor = this.actor as ConnectionActor;
    if (next.ignored) {
      sendExternal(actor, next.event);
      const before = this.run.reports.length;
      // Checked once the actor has processed the event, before any I/O can move it on.
      queueMicrotask(() => {
        this.run.ignoredChecks.push({
          step: i + 1,
          event: next.event,
          expected: next.state,
          actual: actor.state,
          reports: this.run.reports.length - before,
        });
        this.wake();
        this.advance(i + 1);
      });
      return;
    }
    if (next.event === 'LOST') {
      if (!this.gate.cutLatest()) this.run.problems.push(`step ${i + 1}: no live connection to cut for LOST`);
      return;
    }
    if ((EXTERNAL_EVENTS as readonly string[]).includes(next.event)) sendExternal(actor, next.event);
    // Invoke outcomes and the backoff delay happen by themselves, as prepared.
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private prepareAttempt(): void {
    const plan = this.plans[this.attempts++] ?? { connectable: true, plan: 'hold' as const };
    this.gate.setConnectable(plan.connectable);
    if (plan.connectable) this.gate.plan(plan.plan);
  }
}
