// One picker per agent, from the configured strategy or a user function.
import { HealthBasedPicker } from './health-based.js';
import { LeastConnectionsPicker } from './least-connections.js';
import type { CustomPicker, Picker } from './picker.js';
import type { LoadBalanceStrategy } from './pool-config.js';
import { RandomPicker } from './random-picker.js';
import { RoundRobinPicker } from './round-robin.js';

export function createPicker(strategy: LoadBalanceStrategy | CustomPicker): Picker {
  if (typeof strategy === 'function') {
    return {
      pick: (candidates, context) => {
        const chosen = strategy(candidates, context);
        // A custom picker must return one of the candidates; anything else counts as "none".
        return chosen !== undefined && candidates.includes(chosen as (typeof candidates)[number])
          ? (chosen as (typeof candidates)[number])
          : undefined;
      },
    };
  }
  switch (strategy) {
    case 'round-robin':
      return new RoundRobinPicker();
    case 'least-connections':
      return new LeastConnectionsPicker();
    case 'health-based':
      return new HealthBasedPicker();
    case 'random':
      return new RandomPicker();
  }
}
