// The router↔host port protocol is typed once (src/contract/host-port.ts): both ends send and
// receive only through its helpers. Untyped postMessage literals at either end used to drift apart.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

test('untyped port messages: postMessage and port listeners appear only in contract/host-port.ts', () => {
  const offenders = [...sources(join(root, 'src')), ...sources(join(root, 'workers'))]
    .map((path) => relative(root, path))
    .filter((path) => path !== join('src', 'contract', 'host-port.ts'))
    .filter((path) => {
      const text = readFileSync(join(root, path), 'utf8');
      // A WebSocket's 'message' event (a `ws` socket) is not a port; any other listener in the file still counts.
      const portListener = /\.on\('message'/.test(text.replace(/\bws\.on\('message'/g, ''));
      return /\.postMessage\(/.test(text) || portListener;
    });
  assert.deepEqual(offenders, []);
});
