// Public API of the `/machines` subpath: the xstate machines (connection lifecycle, circuit
// breaker), for model tests and inspection. Apart from the root because their types are xstate's,
// which a consumer compiling with exactOptionalPropertyTypes and without skipLibCheck cannot check,
// and because loading xstate is most of what the root import would otherwise cost.
import { connectionMachine as defineConnectionMachine } from './connection/connection-machine.js';
import { circuitBreakerMachine as defineCircuitBreakerMachine } from './pool/circuit-breaker-machine.js';

export const connectionMachine = defineConnectionMachine();
export const circuitBreakerMachine = defineCircuitBreakerMachine();
export type { ConnectionStateName } from './contract/connection-state.js';
