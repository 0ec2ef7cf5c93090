// What `npm pack` would ship (dry run, lifecycle scripts off): what a user runs and nothing else —
// no source maps (they would point at sources the tarball lacks), no tests, no stand-alone bench
// scripts — and every target named by "exports" and "bin" is in it. Run `npm run build` first.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

interface PackageJson {
  name: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;

async function packedFiles(): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [report] = JSON.parse(stdout) as Array<{ name: string; files: Array<{ path: string }> }>;
  assert.ok(report !== undefined);
  assert.equal(report.name, pkg.name);
  return report.files.map((f) => f.path);
}

/** "./dist/src/index.js" → "dist/src/index.js". */
function packPath(target: string): string {
  return target.replace(/^\.\//, '');
}

test('the tarball ships what a user runs, and every exports and bin target', async () => {
  const files = await packedFiles();
  const shipped = new Set(files);
  assert.ok(files.length > 0);
  assert.deepEqual(
    files.filter((f) => f.endsWith('.map')),
    [],
    'no source maps',
  );
  assert.deepEqual(
    files.filter((f) => /(^|\/)test\//.test(f) || /\.test\.[jt]s$/.test(f)),
    [],
    'no test files',
  );
  assert.deepEqual(
    files.filter((f) => f.startsWith('src/') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    [],
    'no TypeScript sources',
  );
  assert.ok(!files.some((f) => f.startsWith('dist/bench/call-arguments')), 'no stand-alone micro-benchmark');
  assert.ok(shipped.has('proto/agent_v2.proto'), 'the .proto file the gRPC transport loads');
  for (const worker of ['dist/workers/connection-host.js', 'dist/workers/agent-handler.js']) assert.ok(shipped.has(worker), worker);

  const targets = Object.entries(pkg.exports).flatMap(([subpath, target]) =>
    typeof target === 'string' ? [[subpath, target] as const] : Object.values(target).map((t) => [subpath, t] as const),
  );
  assert.ok(targets.length >= 5, 'root, /protocol, /config, /testing, /machines');
  for (const [subpath, target] of targets) assert.ok(shipped.has(packPath(target)), `exports['${subpath}'] → ${target} is in the tarball`);
  for (const [name, target] of Object.entries(pkg.bin))
    assert.ok(shipped.has(packPath(target)), `bin ${name} → ${target} is in the tarball`);
});
