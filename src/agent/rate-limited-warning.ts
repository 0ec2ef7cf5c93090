// Warnings about refusals a peer can provoke at will (connections over the cap, frames or
// handshakes that never complete): at most one line per kind per interval, so a flood cannot flood
// the log; the line says how many were left out since the previous one. Counts live elsewhere.

/** One line per kind per this many milliseconds. */
const WARNING_INTERVAL_MS = 60_000;

export class RateLimitedWarning {
  readonly #write: (line: string) => void;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #kinds = new Map<string, { at: number; skipped: number }>();

  constructor(write: (line: string) => void, intervalMs = WARNING_INTERVAL_MS, now: () => number = Date.now) {
    this.#write = write;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Writes `text` unless a line of this `kind` was written less than the interval ago. */
  warn(kind: string, text: string): void {
    const now = this.#now();
    const last = this.#kinds.get(kind);
    if (last !== undefined && now - last.at < this.#intervalMs) {
      last.skipped++;
      return;
    }
    const skipped = last?.skipped ?? 0;
    this.#kinds.set(kind, { at: now, skipped: 0 });
    const tail = skipped > 0 ? ` (${skipped} more since the last line)` : ` (logged at most once per ${this.#intervalMs / 1000} s)`;
    this.#write(text + tail);
  }
}
