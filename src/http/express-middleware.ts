// Adapter: Connect/Express middleware. Structural types only: Express is not loaded at run time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpEngine } from './engine-types.js';

/** The `next` of Connect and Express. */
export type NextFunction = (error?: unknown) => void;

/**
 * Middleware that runs routed requests through the engine and passes the others to `next()`.
 * Mount it before any body parser: the engine reads the raw request stream. Mounted below a path
 * (`app.use('/api', …)`), the resolver and the upstream still see the full URL the client sent.
 */
export function zapMiddleware(engine: HttpEngine): (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void {
  return (req, res, next) => {
    // Express rewrites req.url below a mount path; the resolver and the upstream get the URL the client sent.
    const mounted = req.url;
    const originalUrl = (req as { originalUrl?: unknown }).originalUrl;
    if (typeof originalUrl === 'string') req.url = originalUrl;
    const route = engine.resolve(req);
    if (route === undefined) {
      req.url = mounted;
      next();
      return;
    }
    void engine.handle(req, res, route);
  };
}
