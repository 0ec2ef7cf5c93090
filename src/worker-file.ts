// Where a worker entry of workers/ lives and how to start it: the compiled .js next to this
// module's build, or — when running from the TypeScript sources under tsx — the .ts entry via
// workers/ts-bootstrap.mjs.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from './package-root.js';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

export interface WorkerSpec {
  file: string;
  workerData: Record<string, unknown>;
}

/** `name` is the entry's base name in workers/, e.g. 'connection-host'. */
export function workerSpec(name: string, workerData: Record<string, unknown> = {}): WorkerSpec {
  if (!FROM_SOURCES) return { file: join(PACKAGE_ROOT, 'dist', 'workers', `${name}.js`), workerData };
  return {
    file: join(PACKAGE_ROOT, 'workers', 'ts-bootstrap.mjs'),
    workerData: { ...workerData, __zapTsEntry: pathToFileURL(join(PACKAGE_ROOT, 'workers', `${name}.ts`)).href },
  };
}
