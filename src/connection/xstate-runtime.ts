// xstate, loaded with the first connection or circuit breaker instead of when the package is
// imported (about 25 ms of the root import). Its ESM entry wraps the CommonJS build, so require()
// returns the very module an import would: machines built here work with xstate's own functions.
import { createRequire } from 'node:module';
import type * as XState from 'xstate';

const require = createRequire(import.meta.url);
let loaded: typeof XState | undefined;

export function xstate(): typeof XState {
  return (loaded ??= require('xstate') as typeof XState);
}
