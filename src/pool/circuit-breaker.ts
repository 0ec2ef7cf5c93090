// One agent's circuit breaker (spec §10.10, D11) with a synchronous hot-path API. The machine in
// circuit-breaker-machine.ts owns states, counters and generations; this class mirrors its
// snapshot in plain fields and sends it only the events that would change something, so a
// healthy agent's admit()/onSuccess() cost a field read and no xstate event (~2 µs each).
import type { Actor } from 'xstate';
import { xstate } from '../connection/xstate-runtime.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { circuitBreakerMachine, type CircuitBreakerEvent, type CircuitBreakerMachine } from './circuit-breaker-machine.js';
import {
  CIRCUIT_STATE_CODE,
  CircuitState,
  DEFAULT_CIRCUIT_BREAKER_CONFIG,
  type CircuitBreakerConfig,
  type CircuitStateCode,
  type CircuitStateName,
} from './circuit-state.js';

export { CircuitState };
export type { CircuitBreakerConfig, CircuitStateCode };

export type Admission = { readonly admitted: true; readonly generation: number } | { readonly admitted: false };

export type CircuitStateListener = (state: CircuitStateCode, previous: CircuitStateCode, generation: number) => void;

export interface CircuitBreakerOptions {
  /** Called synchronously after every state change (not on a CLOSED → CLOSED reset). */
  onStateChange?: CircuitStateListener;
}

const REJECTED: Admission = Object.freeze({ admitted: false });

const CONFIG_KEYS = Object.keys(DEFAULT_CIRCUIT_BREAKER_CONFIG) as Array<keyof CircuitBreakerConfig>;

/** Merges `partial` over the defaults and checks every field is a positive safe integer. */
export function resolveCircuitBreakerConfig(partial: Partial<CircuitBreakerConfig> = {}, where = 'circuitBreaker'): CircuitBreakerConfig {
  for (const key of Object.keys(partial)) {
    if (!(CONFIG_KEYS as string[]).includes(key)) {
      throw zapError(ErrorCode.InvalidConfig, `${where}: option '${key}' is not a known option`);
    }
  }
  const out: CircuitBreakerConfig = { ...DEFAULT_CIRCUIT_BREAKER_CONFIG };
  for (const key of CONFIG_KEYS) {
    const v = partial[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw zapError(ErrorCode.InvalidConfig, `${where}: option '${key}' must be a positive integer, got ${String(v)}`);
    }
    out[key] = v;
  }
  return out;
}

export class CircuitBreaker {
  readonly config: Readonly<CircuitBreakerConfig>;
  private readonly actor: Actor<CircuitBreakerMachine>;
  private readonly listener: CircuitStateListener | undefined;
  // Mirror of the machine snapshot, refreshed after every event sent.
  private code: CircuitStateCode = CircuitState.Closed;
  private gen = 0;
  private failureCount = 0;
  private probeCount = 0;
  private successCount = 0;
  private openedAtMs = 0;
  private sent = 0;
  /** Reused while the generation stands, so CLOSED admission allocates nothing. */
  private admittedResult: Admission = Object.freeze({ admitted: true, generation: 0 });

  constructor(config: Partial<CircuitBreakerConfig> = {}, options: CircuitBreakerOptions = {}) {
    this.config = Object.freeze(resolveCircuitBreakerConfig(config));
    this.listener = options.onStateChange;
    this.actor = xstate().createActor(circuitBreakerMachine(), { input: { ...this.config } });
    this.actor.start();
    this.refresh();
  }

  /** 0 CLOSED, 1 OPEN, 2 HALF_OPEN. */
  get state(): CircuitStateCode {
    return this.code;
  }

  get generation(): number {
    return this.gen;
  }

  /** Consecutive failures counted in CLOSED. */
  get failures(): number {
    return this.failureCount;
  }

  /** Probe successes counted in HALF_OPEN. */
  get successes(): number {
    return this.successCount;
  }

  /** When it last opened (caller's clock). */
  get openedAt(): number {
    return this.openedAtMs;
  }

  /** Probes in flight in HALF_OPEN. */
  get probes(): number {
    return this.probeCount;
  }

  /** Events sent to the machine so far (the hot path of a healthy agent sends none). */
  get machineEvents(): number {
    return this.sent;
  }

  /**
   * Admission at `now` (ms, the same clock as onFailure; Date.now() when not given, read only when
   * the breaker is not CLOSED). Rejected calls do no I/O (ZAP_CIRCUIT_OPEN).
   */
  admit(now?: number): Admission {
    if (this.code === CircuitState.Closed) return this.admittedResult;
    return this.admitAt(now ?? Date.now());
  }

  private admitAt(now: number): Admission {
    if (this.code === CircuitState.Open) {
      if (now - this.openedAtMs < this.config.openDurationMs) return REJECTED;
    } else if (this.probeCount >= this.config.halfOpenMaxRequests) {
      return REJECTED;
    }
    const gen = this.gen;
    const probes = this.probeCount;
    this.send({ type: 'ADMIT', now });
    // Admitted when the machine took a probe slot (possibly in the generation it just entered).
    return this.gen !== gen || this.probeCount > probes ? this.admittedResult : REJECTED;
  }

  onSuccess(generation: number): void {
    if (generation !== this.gen) return;
    if (this.code === CircuitState.Closed) {
      if (this.failureCount === 0) return; // the common case: nothing to reset
    } else if (this.code === CircuitState.Open) {
      return;
    }
    this.send({ type: 'SUCCESS', generation });
  }

  onFailure(generation: number, now: number): void {
    if (generation !== this.gen || this.code === CircuitState.Open) return;
    this.send({ type: 'FAILURE', generation, now });
  }

  /** Aborts, flow-control rejections, oversize frames, synthetic Allows: only free the probe slot. */
  onNeutral(generation: number): void {
    if (generation !== this.gen || this.code !== CircuitState.HalfOpen) return;
    this.send({ type: 'NEUTRAL', generation });
  }

  /** Reports one settled call by its error (undefined = decoded reply; see classifyOutcome); `now` as in admit(). */
  onOutcome(generation: number, error: unknown, now?: number, response?: { synthetic?: boolean }): void {
    const outcome = classifyOutcome(error, response);
    if (outcome === 'success') this.onSuccess(generation);
    else if (outcome === 'failure') this.onFailure(generation, now ?? Date.now());
    else this.onNeutral(generation);
  }

  /**
   * A connection of the agent became ready, or answered a ping (spec §10.10, ours): an OPEN breaker
   * goes HALF_OPEN at once, so the first call after an agent restart is a probe instead of waiting
   * out open_duration. No event at all in CLOSED or HALF_OPEN.
   */
  onAgentReachable(): void {
    if (this.code === CircuitState.Open) this.send({ type: 'AGENT_REACHABLE' });
  }

  /** resetCircuit(): force CLOSED with a fresh generation (outcomes of earlier calls are ignored). */
  reset(): void {
    this.send({ type: 'RESET' });
  }

  private send(event: CircuitBreakerEvent): void {
    const previous = this.code;
    this.sent += 1;
    this.actor.send(event);
    this.refresh();
    if (this.code !== previous && this.listener !== undefined) this.listener(this.code, previous, this.gen);
  }

  private refresh(): void {
    const snap = this.actor.getSnapshot();
    const ctx = snap.context;
    this.code = CIRCUIT_STATE_CODE[snap.value as CircuitStateName];
    if (ctx.generation !== this.gen) this.admittedResult = Object.freeze({ admitted: true, generation: ctx.generation });
    this.gen = ctx.generation;
    this.failureCount = ctx.failures;
    this.probeCount = ctx.probes;
    this.successCount = ctx.successes;
    this.openedAtMs = ctx.openedAt;
  }
}

export type Outcome = 'success' | 'failure' | 'neutral';

const FAILURE_CODES: ReadonlySet<string> = new Set([
  ErrorCode.Timeout,
  ErrorCode.NoHealthyConnection,
  ErrorCode.ConnectionLost,
  ErrorCode.ProtocolError,
  ErrorCode.WorkerLost,
]);

/**
 * Outcome class of a settled call (spec §10.10). `error` undefined = a decoded AgentResponse
 * (success) unless `response.synthetic` (fail-open flow control: neutral). Errors are read by
 * their `code`, so a serialized AgentPoolError from a MessagePort classifies the same. Only the
 * codes §10.10 names are failures; everything else (ABORT_ERR, ZAP_FLOW_PAUSED,
 * ZAP_FRAME_TOO_LARGE, ZAP_QUEUE_FULL, ZAP_INVALID_ARGUMENT, an internal ZAP_ERROR, untyped
 * errors…) is neutral: the breaker judges the agent only on evidence against it, and neutral still
 * frees a probe slot.
 */
export function classifyOutcome(error: unknown, response?: { synthetic?: boolean }): Outcome {
  if (error === undefined) return response?.synthetic === true ? 'neutral' : 'success';
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && FAILURE_CODES.has(code)) return 'failure';
  }
  return 'neutral';
}
