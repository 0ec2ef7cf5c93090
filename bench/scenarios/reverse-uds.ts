// Scenario reverse-uds (issue 8): the agent dials the pool's Unix-socket listener; forward UDS in
// the same run is the baseline. Closed loop at the configured in-flight count (256), 16 and 1, for
// workers 0, 1, 2, … up to the core count. Target: ≥ 0.9× forward UDS.
import type { Scenario } from '../scenario.js';
import { reverseLoads, reverseScenario, workerSweep } from './reverse.js';

export const reverseUds: Scenario = reverseScenario({
  name: 'reverse-uds',
  summary: 'reverse UDS vs forward UDS, AgentPool workers 0…cores, 256/16/1 in flight',
  reverse: ['rev-uds'],
  workers: workerSweep,
  loads: reverseLoads,
});
