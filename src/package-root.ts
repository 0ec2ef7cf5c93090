// Where the zap package lives: the directory holding package.json next to proto/. Found by walking
// up from this module (the depth differs between src/ under tsx and dist/src/). The one place that
// looks; the version, the .proto schema and the worker entries are found from here.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('zap: cannot locate the package root (package.json next to proto/)');
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();
