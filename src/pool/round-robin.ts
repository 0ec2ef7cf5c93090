// round-robin (default): per-agent counter c, +1 per selection; candidates[c mod len].
import type { ConnectionView, Picker } from './picker.js';

export class RoundRobinPicker implements Picker {
  private counter = 0;
  pick<C extends ConnectionView>(candidates: readonly C[]): C | undefined {
    if (candidates.length === 0) return undefined;
    return candidates[this.counter++ % candidates.length];
  }
}
