// least-connections: fewest outstanding events; ties rotate through the tied set with a counter.
import type { ConnectionView, Picker } from './picker.js';

export class LeastConnectionsPicker implements Picker {
  private counter = 0;
  pick<C extends ConnectionView>(candidates: readonly C[]): C | undefined {
    let min = Infinity;
    let tied = 0;
    for (const c of candidates) {
      if (c.inFlight < min) {
        min = c.inFlight;
        tied = 1;
      } else if (c.inFlight === min) tied++;
    }
    if (tied === 0) return undefined;
    let skip = this.counter++ % tied;
    for (const c of candidates) {
      if (c.inFlight === min && skip-- === 0) return c;
    }
    return undefined;
  }
}
