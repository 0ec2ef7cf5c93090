// Scenario reverse-tcp (issue 8): the agent dials the pool's TCP listener on 127.0.0.1; forward UDS
// in the same run is the baseline. Closed loop at the configured in-flight count (256), 16 and 1,
// for workers 0, 1, 2, … up to the core count. Target: ≥ 0.9× forward UDS.
import type { Scenario } from '../scenario.js';
import { reverseLoads, reverseScenario, workerSweep } from './reverse.js';

export const reverseTcp: Scenario = reverseScenario({
  name: 'reverse-tcp',
  summary: 'reverse TCP vs forward UDS, AgentPool workers 0…cores, 256/16/1 in flight',
  reverse: ['rev-tcp'],
  workers: workerSweep,
  loads: reverseLoads,
});
