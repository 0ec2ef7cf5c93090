// Every scenario `zap bench` knows, by name, in the order a bare `zap bench` runs them.
import type { Scenario } from '../scenario.js';
import { body } from './body.js';
import { gatewayScenario } from './gateway.js';
import { grpcScenario } from './grpc.js';
import { importScenario } from './import.js';
import { memory } from './memory.js';
import { openLoop } from './open-loop.js';
import { poolUds } from './pool-uds.js';
import { reference } from './reference.js';
import { reverse } from './reverse.js';
import { reverseTcp } from './reverse-tcp.js';
import { reverseUds } from './reverse-uds.js';
import { scale } from './scale.js';
import { uds } from './uds.js';

export const SCENARIOS: readonly Scenario[] = [
  poolUds,
  reverse,
  uds,
  openLoop,
  body,
  scale,
  memory,
  grpcScenario,
  reverseUds,
  reverseTcp,
  reference,
  importScenario,
  gatewayScenario,
];

/**
 * What a bare `zap bench` runs: every scenario except pool-uds and reverse, whose rows uds and
 * reverse-uds / reverse-tcp already cover (both stay runnable by name), and reference, which needs
 * cargo to build the Rust peers (run it by name), and import, which measures start-up rather than
 * requests (run it by name), and gateway, which measures HTTP rather than agent calls (run it by name).
 */
export const DEFAULT_SCENARIOS: readonly Scenario[] = [uds, grpcScenario, reverseUds, reverseTcp, openLoop, body, scale, memory];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
