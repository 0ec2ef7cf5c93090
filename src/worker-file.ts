// Where a worker entry of workers/ lives and how to start it: the compiled .js next to this
// module's build (dist/src → dist/workers), or — when running from the TypeScript sources under
// tsx (src → workers) — the .ts entry via workers/ts-bootstrap.mjs. Both are one level up from
// this file, so the path is a `new URL` relative to it, found without searching the disk.
import { fileURLToPath } from 'node:url';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

export interface WorkerSpec {
  file: string;
  workerData: Record<string, unknown>;
}

/** `name` is the entry's base name in workers/, e.g. 'connection-host'. */
export function workerSpec(name: string, workerData: Record<string, unknown> = {}): WorkerSpec {
  if (!FROM_SOURCES) return { file: fileURLToPath(new URL(`../workers/${name}.js`, import.meta.url)), workerData };
  return {
    file: fileURLToPath(new URL('../workers/ts-bootstrap.mjs', import.meta.url)),
    workerData: { ...workerData, __zapTsEntry: new URL(`../workers/${name}.ts`, import.meta.url).href },
  };
}
