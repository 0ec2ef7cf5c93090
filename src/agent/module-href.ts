// How a handler module named in options (AgentServer({ threads: { module } })) becomes an import
// specifier, for the in-thread import and the handler threads alike.
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A handler module given as a path (relative to the working directory) or URL → file URL text. */
export function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  return module.startsWith('file:') ? module : pathToFileURL(resolvePath(module)).href;
}
