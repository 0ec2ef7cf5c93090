// The health overlay of one ready connection (spec §10.6, D8): the agent's last HealthStatus on that
// connection (until it lapses at valid_until_ms) plus our own rule that 3 consecutive failed calls
// make a connection unhealthy until a reply or a Pong arrives. The lifecycle (connecting, ready,
// closed…) stays in the connection machine; this only answers "may new requests go here, how much
// longer may they take, which features are off".
import { ErrorCode } from '../protocol/errors.js';
import type { HealthStateCode, HealthStatus } from '../protocol/types.js';
import { HealthState } from '../protocol/types.js';

/** Consecutive failed calls that mark a connection unhealthy (§10.6). */
export const CONSECUTIVE_FAILURE_LIMIT = 3;

export type HealthCondition = 'healthy' | 'degraded' | 'draining' | 'unhealthy';

export interface HealthApplyResult {
  /** selectable / timeoutMultiplier / disabledFeatures / condition may differ: rebuild the picker snapshot. */
  readonly changed: boolean;
  /** Unhealthy with recoverable false: close the connection and replace it (§10.8). */
  readonly close: boolean;
}

const IGNORED: HealthApplyResult = Object.freeze({ changed: false, close: false });
const NO_FEATURES: ReadonlySet<string> = new Set();

const CONNECTION_FAILURE_CODES: ReadonlySet<string> = new Set([ErrorCode.Timeout, ErrorCode.ConnectionLost, ErrorCode.ProtocolError]);

/** The call failures that count towards the consecutive-failure rule (§10.6): timeout, agent error
 *  (the connection lost under the call), protocol error. An internal ZAP_ERROR says nothing about the agent. */
export function countsAsConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && CONNECTION_FAILURE_CODES.has(code);
}

function finiteMultiplier(v: number): number {
  return Number.isFinite(v) && v > 0 ? v : 1;
}

export class HealthReportState {
  /** The reported state in force; null = no report (treated as healthy). */
  private reported: HealthStateCode | null = null;
  private validUntil: number | null = null;
  private multiplier = 1;
  private features: ReadonlySet<string> = NO_FEATURES;
  private failures = 0;
  private failedUnhealthy = false;
  /** The last report in force, for stats and logs. */
  lastReport: HealthStatus | null = null;

  /**
   * Applies a report that arrived on this connection at `now` (proxy clock, ms). State 0 is ignored.
   * A report whose valid_until_ms has already passed changes nothing, except that an unrecoverable
   * unhealthy report still asks for the connection to be replaced.
   */
  apply(report: HealthStatus, now: number): HealthApplyResult {
    if (report.state === HealthState.Unspecified) return IGNORED;
    const close = report.state === HealthState.Unhealthy && !report.recoverable;
    const before = this.signature();
    if (report.state === HealthState.Healthy || (report.validUntilMs !== null && now > report.validUntilMs)) {
      this.clearReport();
    } else {
      this.reported = report.state;
      this.validUntil = report.validUntilMs;
      const degraded = report.state === HealthState.Degraded;
      this.multiplier = degraded ? finiteMultiplier(report.timeoutMultiplier) : 1;
      this.features = degraded && report.disabledFeatures.length > 0 ? new Set(report.disabledFeatures) : NO_FEATURES;
      this.lastReport = report;
    }
    const changed = this.signature() !== before;
    return changed || close ? { changed, close } : IGNORED;
  }

  /** Maintenance tick: a report lapses once `now` passes its valid_until_ms. True when one lapsed. */
  expire(now: number): boolean {
    if (this.validUntil === null || now <= this.validUntil) return false;
    this.clearReport();
    return true;
  }

  /** A call on this connection failed with `error`; true when this made the connection unhealthy. */
  recordFailure(error: unknown): boolean {
    if (!countsAsConnectionFailure(error)) return false;
    this.failures += 1;
    if (this.failedUnhealthy || this.failures < CONSECUTIVE_FAILURE_LIMIT) return false;
    this.failedUnhealthy = true;
    return true;
  }

  /** A reply was decoded or a Pong matched; true when this lifted the failure-based unhealthy mark. */
  recordSuccess(): boolean {
    this.failures = 0;
    if (!this.failedUnhealthy) return false;
    this.failedUnhealthy = false;
    return true;
  }

  /** New requests may be sent here: not draining, not unhealthy (reported or by failures). */
  get selectable(): boolean {
    return !this.failedUnhealthy && this.reported !== HealthState.Draining && this.reported !== HealthState.Unhealthy;
  }

  /** Events of requests already bound here (affinity) may still use it: anything but unhealthy. */
  get acceptsBound(): boolean {
    return !this.failedUnhealthy && this.reported !== HealthState.Unhealthy;
  }

  get condition(): HealthCondition {
    if (this.failedUnhealthy || this.reported === HealthState.Unhealthy) return 'unhealthy';
    if (this.reported === HealthState.Draining) return 'draining';
    if (this.reported === HealthState.Degraded) return 'degraded';
    return 'healthy';
  }

  /** The agent-reported state in force (1–4), or null when there is none. */
  get reportedState(): HealthStateCode | null {
    return this.reported;
  }

  /** Marked unhealthy by consecutive failures: the maintenance tick pings such connections (§10.8). */
  get unhealthyByFailures(): boolean {
    return this.failedUnhealthy;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Factor on the effective timeout (§10.11): the degraded report's multiplier, else 1. */
  get timeoutMultiplier(): number {
    return this.multiplier;
  }

  /** Capability feature names the agent disabled in a degraded report. */
  get disabledFeatures(): ReadonlySet<string> {
    return this.features;
  }

  isFeatureDisabled(feature: string): boolean {
    return this.features.has(feature);
  }

  get validUntilMs(): number | null {
    return this.validUntil;
  }

  private clearReport(): void {
    this.reported = null;
    this.validUntil = null;
    this.multiplier = 1;
    this.features = NO_FEATURES;
    this.lastReport = null;
  }

  /** What the router's snapshot depends on, to tell callers whether to rebuild it. */
  private signature(): string {
    return `${this.reported ?? 0}|${this.multiplier}|${[...this.features].sort().join(',')}`;
  }
}
