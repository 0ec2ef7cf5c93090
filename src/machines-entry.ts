// Public API of the `/machines` subpath: the xstate connection machine, for model tests and
// inspection. Apart from the root because its types are xstate's, which a consumer compiling with
// exactOptionalPropertyTypes and without skipLibCheck cannot check. Re-exports only.

export { connectionMachine } from './connection/connection-machine.js';
export type { ConnectionStateName } from './contract/connection-state.js';
