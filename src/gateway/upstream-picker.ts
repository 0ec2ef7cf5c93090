// Spreads an upstream's requests over its targets by weight, smoothly (the highest running score
// wins and pays the total back), so weights 3:1 give a b a a rather than a a a b. Equal weights are
// plain round robin. State is a few numbers per target; no timers, no health.
import type { UpstreamConfig } from '../config/config-types.js';

export class UpstreamPicker {
  readonly id: string;
  readonly #targets: readonly { origin: string; weight: number }[];
  readonly #scores: number[];
  readonly #total: number;

  constructor(upstream: Pick<UpstreamConfig, 'id' | 'targets'>) {
    this.id = upstream.id;
    this.#targets = upstream.targets.map((t) => ({ origin: `http://${t.address}`, weight: t.weight }));
    this.#scores = this.#targets.map(() => 0);
    this.#total = this.#targets.reduce((sum, t) => sum + t.weight, 0);
  }

  /** Every target's origin (`http://host:port`), in the order written. */
  get origins(): string[] {
    return this.#targets.map((t) => t.origin);
  }

  /** The origin of the next target. */
  next(): string {
    let best = 0;
    for (let i = 0; i < this.#targets.length; i++) {
      this.#scores[i]! += this.#targets[i]!.weight;
      if (this.#scores[i]! > this.#scores[best]!) best = i;
    }
    this.#scores[best]! -= this.#total;
    return this.#targets[best]!.origin;
  }
}
