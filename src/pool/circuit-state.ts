// The circuit breaker's config and state codes (spec §10.10), as plain types and constants. Apart
// from circuit-breaker-machine.ts so that the public API's types do not pull in xstate's.

export interface CircuitBreakerConfig {
  /** Consecutive failures in CLOSED that open the breaker. */
  failureThreshold: number;
  /** Probe successes in HALF_OPEN that close it. */
  successThreshold: number;
  /** How long OPEN rejects before the next admission becomes a probe (sooner when a connection of
   *  the agent becomes ready or answers a ping). */
  openDurationMs: number;
  /** Concurrent probes admitted in HALF_OPEN. */
  halfOpenMaxRequests: number;
}

export const DEFAULT_CIRCUIT_BREAKER_CONFIG: Readonly<CircuitBreakerConfig> = Object.freeze({
  failureThreshold: 5,
  successThreshold: 2,
  openDurationMs: 30_000,
  halfOpenMaxRequests: 1,
});

/** Wire/metric value of the state (`agent_circuit_breaker_state`). */
export const CircuitState = { Closed: 0, Open: 1, HalfOpen: 2 } as const;
export type CircuitStateCode = (typeof CircuitState)[keyof typeof CircuitState];
export type CircuitStateName = 'closed' | 'open' | 'halfOpen';

export const CIRCUIT_STATE_CODE: Readonly<Record<CircuitStateName, CircuitStateCode>> = {
  closed: CircuitState.Closed,
  open: CircuitState.Open,
  halfOpen: CircuitState.HalfOpen,
};
