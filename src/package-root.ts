// Where the zap package lives: the directory holding package.json next to proto/. Found by walking
// up from this module (the depth differs between src/ under tsx and dist/src/). The version and the
// .proto schema are found from here (worker entries relative to worker-file.ts). Inlined into a
// bundle the package cannot find them, so it fails here at import, saying so.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        'zap: cannot locate the package root (package.json next to proto/). The package must not be bundled: ' +
          'its worker entries and .proto file are files it loads at run time; mark it external (esbuild --external:zentinel-agent-zap).',
      );
    }
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();
