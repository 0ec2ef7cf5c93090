// A full garbage collection on demand without starting node with --expose-gc: the flag is set at
// run time and `gc` taken from a fresh context (V8 installs it on contexts created afterwards).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Two full collections (the second catches what finalisers of the first released). */
export function forceGc(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}
