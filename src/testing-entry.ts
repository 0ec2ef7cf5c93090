// Public API of the `/testing` subpath: fault injection and the connection state machine, for
// tests of code built on the pool. Not for production paths. Re-exports only.

export { killWorker } from './pool/fault-hooks.js';
export { connectionMachine } from './connection/connection-machine.js';
export type { ConnectionStateName } from './contract/connection-state.js';
