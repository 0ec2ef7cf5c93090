// Adapter: a Fastify plugin. Structural types only: Fastify is not loaded at run time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpEngine } from './engine-types.js';

/** The parts of a Fastify instance the plugin uses. */
export interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): unknown }, done: (error?: Error) => void) => void,
  ): unknown;
}

/**
 * A Fastify plugin: `app.register(zapFastify(engine))`. Routed requests are taken over in the
 * `onRequest` hook (before Fastify parses the body, so bodies stream); the others continue to
 * Fastify's own routes. Register it at the top level to cover every route.
 */
export function zapFastify(engine: HttpEngine): (instance: FastifyLike, options: unknown, done: (error?: Error) => void) => void {
  const plugin = (instance: FastifyLike, _options: unknown, done: (error?: Error) => void): void => {
    instance.addHook('onRequest', (request, reply, next) => {
      const route = engine.resolve(request.raw);
      if (route === undefined) {
        next();
        return;
      }
      reply.hijack();
      void engine.handle(request.raw, reply.raw, route);
    });
    done();
  };
  // fastify-plugin's marker: the hook applies to the whole instance, not only to an encapsulated child.
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}
