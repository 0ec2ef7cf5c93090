// The per-agent circuit breaker of spec §10.10 (D11) as an xstate machine: the whole table —
// states, counters, generations — lives here so tests can walk it. The hot path does not go
// through it event by event: CircuitBreaker (circuit-breaker.ts) mirrors the snapshot in plain
// fields and only sends the events that change something (an xstate event costs ~2 µs).
import { xstate } from '../connection/xstate-runtime.js';

// The plain config and state codes live in circuit-state.ts (no xstate in their types, so the
// package's public .d.ts never reaches xstate's); the config type is re-exported for model tests.
import type { CircuitBreakerConfig } from './circuit-state.js';
export type { CircuitBreakerConfig };

export interface CircuitBreakerContext {
  config: CircuitBreakerConfig;
  /** +1 on every state change (and on reset); outcomes of calls admitted under another generation are ignored. */
  generation: number;
  /** CLOSED: consecutive failures. */
  failures: number;
  /** HALF_OPEN: successful probes. */
  successes: number;
  /** HALF_OPEN: probes admitted and not yet settled. */
  probes: number;
  /** OPEN: when it opened (caller's clock, ms). */
  openedAt: number;
}

export type CircuitBreakerEvent =
  /** A call asks to be admitted at `now`. */
  | { type: 'ADMIT'; now: number }
  /** Outcome of a call admitted under `generation`. */
  | { type: 'SUCCESS'; generation: number }
  | { type: 'FAILURE'; generation: number; now: number }
  | { type: 'NEUTRAL'; generation: number }
  /** resetCircuit(): force CLOSED. */
  | { type: 'RESET' }
  /** A connection of the agent became ready or answered a ping: while OPEN, probe at once (§10.10). */
  | { type: 'AGENT_REACHABLE' };

type Ctx = { context: CircuitBreakerContext; event: CircuitBreakerEvent };

function isCurrent({ context, event }: Ctx): boolean {
  return 'generation' in event && event.generation === context.generation;
}

function eventNow(event: CircuitBreakerEvent): number {
  return 'now' in event ? event.now : 0;
}

function defineCircuitBreakerMachine() {
  const { assign, setup } = xstate();
  return setup({
    types: {
      context: {} as CircuitBreakerContext,
      events: {} as CircuitBreakerEvent,
      input: {} as CircuitBreakerConfig,
    },
    guards: {
      current: isCurrent,
      currentAndTrips: (a: Ctx) => isCurrent(a) && a.context.failures + 1 >= a.context.config.failureThreshold,
      currentAndCloses: (a: Ctx) => isCurrent(a) && a.context.successes + 1 >= a.context.config.successThreshold,
      openElapsed: ({ context, event }: Ctx) => eventNow(event) - context.openedAt >= context.config.openDurationMs,
      probeSlotFree: ({ context }: Ctx) => context.probes < context.config.halfOpenMaxRequests,
    },
    actions: {
      // Every state change: new generation, counters of the new state at 0.
      enterClosed: assign(({ context }) => ({ generation: context.generation + 1, failures: 0, successes: 0, probes: 0 })),
      enterOpen: assign(({ context, event }) => ({
        generation: context.generation + 1,
        failures: 0,
        successes: 0,
        probes: 0,
        openedAt: eventNow(event),
      })),
      enterHalfOpen: assign(({ context }) => ({ generation: context.generation + 1, failures: 0, successes: 0, probes: 0 })),
      countFailure: assign({ failures: ({ context }) => context.failures + 1 }),
      clearFailures: assign({ failures: 0 }),
      takeProbe: assign({ probes: ({ context }) => context.probes + 1 }),
      releaseProbe: assign({ probes: ({ context }) => Math.max(0, context.probes - 1) }),
      countProbeSuccess: assign({
        probes: ({ context }) => Math.max(0, context.probes - 1),
        successes: ({ context }) => context.successes + 1,
      }),
    },
  }).createMachine({
    id: 'circuitBreaker',
    context: ({ input }) => ({ config: input, generation: 0, failures: 0, successes: 0, probes: 0, openedAt: 0 }),
    initial: 'closed',
    states: {
      closed: {
        // ADMIT: always admitted, nothing to record. NEUTRAL: nothing to release. AGENT_REACHABLE
        // (here and in HALF_OPEN): nothing to shorten.
        on: {
          SUCCESS: { guard: 'current', actions: 'clearFailures' },
          FAILURE: [
            { guard: 'currentAndTrips', target: 'open', actions: 'enterOpen' },
            { guard: 'current', actions: 'countFailure' },
          ],
          RESET: { target: 'closed', actions: 'enterClosed' },
        },
      },
      open: {
        // Outcomes cannot belong to this generation (OPEN admits nothing); ignored.
        on: {
          // The first admission after open_duration moves to HALF_OPEN and is judged by its rule; with
          // probes at 0 and half_open_max_requests ≥ 1 (validated) that rule always admits it.
          ADMIT: { guard: 'openElapsed', target: 'halfOpen', actions: ['enterHalfOpen', 'takeProbe'] },
          // Ours, as Envoy un-ejects a host after a passing active health check: evidence that the
          // agent is back ends open_duration early; the next admission is a probe.
          AGENT_REACHABLE: { target: 'halfOpen', actions: 'enterHalfOpen' },
          RESET: { target: 'closed', actions: 'enterClosed' },
        },
      },
      halfOpen: {
        on: {
          ADMIT: { guard: 'probeSlotFree', actions: 'takeProbe' },
          SUCCESS: [
            { guard: 'currentAndCloses', target: 'closed', actions: 'enterClosed' },
            { guard: 'current', actions: 'countProbeSuccess' },
          ],
          FAILURE: { guard: 'current', target: 'open', actions: 'enterOpen' },
          NEUTRAL: { guard: 'current', actions: 'releaseProbe' },
          RESET: { target: 'closed', actions: 'enterClosed' },
        },
      },
    },
  });
}

export type CircuitBreakerMachine = ReturnType<typeof defineCircuitBreakerMachine>;
let defined: CircuitBreakerMachine | undefined;

/** The machine, defined on first use (xstate loads with it). */
export function circuitBreakerMachine(): CircuitBreakerMachine {
  return (defined ??= defineCircuitBreakerMachine());
}
