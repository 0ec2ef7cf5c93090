// The HTTP lifecycle engine (spec §10.2): one request from the client through the agents and the upstream and back.
import type { HttpEngine, HttpEngineOptions } from './engine-types.js';

/** Creates the engine; see HttpEngineOptions. */
export function createHttpEngine(options: HttpEngineOptions): HttpEngine {
  void options;
  throw new Error('not yet');
}
