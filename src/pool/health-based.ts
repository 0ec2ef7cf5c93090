// health-based (D12): weighted random. weight = max(0.01, 1 − e) × (lmin / l), where e is the
// failure EWMA and l the success-latency EWMA; the latency factor is 1 while l or lmin is unknown.
import type { ConnectionView, Picker } from './picker.js';

export class HealthBasedPicker implements Picker {
  private weights: number[] = [];
  constructor(private readonly random: () => number = Math.random) {}

  pick<C extends ConnectionView>(candidates: readonly C[]): C | undefined {
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    let lmin = Infinity;
    for (const c of candidates) if (c.latencyEwmaMs !== null && c.latencyEwmaMs > 0 && c.latencyEwmaMs < lmin) lmin = c.latencyEwmaMs;
    const weights = this.weights;
    weights.length = n;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const c = candidates[i] as C;
      const l = c.latencyEwmaMs;
      const latencyFactor = l === null || l <= 0 || lmin === Infinity ? 1 : lmin / l;
      const w = Math.max(0.01, 1 - c.errorEwma) * latencyFactor;
      weights[i] = w;
      total += w;
    }
    let r = this.random() * total;
    for (let i = 0; i < n; i++) {
      r -= weights[i] as number;
      if (r < 0) return candidates[i];
    }
    return candidates[n - 1];
  }
}
