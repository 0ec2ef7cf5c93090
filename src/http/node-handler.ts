// Adapter: a plain `(req, res)` listener for node:http / node:https servers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpEngine } from './engine-types.js';

/** A `request` listener: routed requests run through the engine, the others get 404. */
export function createHttpHandler(engine: HttpEngine): (req: IncomingMessage, res: ServerResponse) => void {
  // `handle` resolves the route itself and answers an unrouted request 404.
  return (req, res) => void engine.handle(req, res);
}
