// Public API of the `/testing` subpath: fault injection for tests of code built on the pool. Not
// for production paths. Re-exports only.

export { killWorker } from './pool/fault-hooks.js';
