// Adapter: a plain `(req, res)` listener for node:http / node:https servers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpEngine } from './engine-types.js';

/** A `request` listener: routed requests run through the engine, the others get 404. */
export function createHttpHandler(engine: HttpEngine): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const route = engine.resolve(req);
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '9' }).end('Not found');
      return;
    }
    void engine.handle(req, res, route);
  };
}
