// Every scenario `zap bench` knows, by name, in the order a bare `zap bench` runs them.
import type { Scenario } from '../scenario.js';
import { poolUds } from './pool-uds.js';
import { reverse } from './reverse.js';

export const SCENARIOS: readonly Scenario[] = [poolUds, reverse];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
