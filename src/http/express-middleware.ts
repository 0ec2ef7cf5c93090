// Adapter: Connect/Express middleware. Structural types only: Express is not loaded at run time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpEngine } from './engine-types.js';

/** The `next` of Connect and Express. */
export type NextFunction = (error?: unknown) => void;

/**
 * Middleware that runs routed requests through the engine and passes the others to `next()`.
 * Mount it before any body parser: the engine reads the raw request stream.
 */
export function zapMiddleware(engine: HttpEngine): (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void {
  return (req, res, next) => {
    const route = engine.resolve(req);
    if (route === undefined) {
      next();
      return;
    }
    void engine.handle(req, res, route);
  };
}
