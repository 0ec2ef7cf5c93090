// Name → example agent. EXAMPLES gives module URLs for threads mode (AgentServer({threads})); the
// factories serve in-thread use. Module URLs keep this file's extension so they resolve both under
// tsx (.ts sources) and from dist (.js).
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentHandler } from '../handler.js';
import createAuth from './auth.js';
import createEcho from './echo.js';
import createWaf from './waf.js';

export type ExampleName = 'echo' | 'waf' | 'auth';

const EXT = extname(fileURLToPath(import.meta.url));

export const EXAMPLES: { readonly [K in ExampleName]: URL } = {
  echo: new URL(`./echo${EXT}`, import.meta.url),
  waf: new URL(`./waf${EXT}`, import.meta.url),
  auth: new URL(`./auth${EXT}`, import.meta.url),
};

const FACTORIES: { readonly [K in ExampleName]: (options?: unknown) => AgentHandler } = {
  echo: createEcho,
  waf: createWaf,
  auth: createAuth,
};

export function isExampleName(name: string): name is ExampleName {
  return Object.hasOwn(FACTORIES, name);
}

export function createExampleHandler(name: ExampleName, options?: unknown): AgentHandler {
  return FACTORIES[name](options);
}
