// The AgentServer's side of its limits against hostile peers: admission under `maxConnections`,
// and the accounting of connections refused or timed out (counted, logged rate-limited).
import type { ServerLimits } from './server-limits.js';
import { RateLimitedWarning } from './rate-limited-warning.js';

/** Refusals of hostile or broken peers since the server started. */
export interface AgentServerStats {
  /** Connections (UDS) and ProcessStreams (gRPC) refused because `maxConnections` were open. */
  connectionsRefused: number;
  /** UDS connections closed because their handshake did not arrive within `handshakeTimeoutMs`. */
  handshakeTimeouts: number;
  /** UDS connections closed because a frame did not complete within `frameTimeoutMs`. */
  frameTimeouts: number;
}

export class ConnectionGuard {
  readonly stats: AgentServerStats = { connectionsRefused: 0, handshakeTimeouts: 0, frameTimeouts: 0 };
  readonly #limits: ServerLimits;
  readonly #log: RateLimitedWarning;

  /** `warn` gets at most one line per kind of refusal per minute. */
  constructor(limits: ServerLimits, warn: (line: string) => void) {
    this.#limits = limits;
    this.#log = new RateLimitedWarning(warn);
  }

  /** True while fewer than maxConnections are `open`; a refusal of `who` is counted and logged. */
  admit(open: number, who: string): boolean {
    if (open < this.#limits.maxConnections) return true;
    this.stats.connectionsRefused++;
    this.#log.warn('maxConnections', `refused ${who}: ${this.#limits.maxConnections} connections open (maxConnections)`);
    return false;
  }

  /** A UDS connection timed out (AgentConnection 'timeout') and is being closed. */
  timedOut(kind: 'handshake' | 'frame'): void {
    if (kind === 'handshake') {
      this.stats.handshakeTimeouts++;
      this.#log.warn(
        kind,
        `closed a UDS connection whose handshake did not arrive within ${this.#limits.handshakeTimeoutMs} ms (handshakeTimeoutMs)`,
      );
    } else {
      this.stats.frameTimeouts++;
      this.#log.warn(
        kind,
        `closed a UDS connection whose frame did not complete within ${this.#limits.frameTimeoutMs} ms (frameTimeoutMs)`,
      );
    }
  }
}
