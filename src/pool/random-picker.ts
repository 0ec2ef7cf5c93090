// random: uniform over the candidates.
import type { ConnectionView, Picker } from './picker.js';

export class RandomPicker implements Picker {
  constructor(private readonly random: () => number = Math.random) {}
  pick<C extends ConnectionView>(candidates: readonly C[]): C | undefined {
    if (candidates.length === 0) return undefined;
    return candidates[Math.floor(this.random() * candidates.length)];
  }
}
