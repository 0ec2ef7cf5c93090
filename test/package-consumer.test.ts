// A consumer's TypeScript project (test/consumer/: ESM, module NodeNext, the strictest flags,
// exactOptionalPropertyTypes on and skipLibCheck off) type-checks against the package as
// installed: a temporary node_modules links the package by its name, so imports go through
// package.json "exports" to the .d.ts files in dist/ (run `npm run build` first).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'zap-consumer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a strict TypeScript consumer compiles against the published types', async () => {
  cpSync(join(root, 'test', 'consumer'), dir, { recursive: true });
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules', pkg.name), 'dir');
  symlinkSync(join(root, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { cwd: dir, timeout: 170_000 }).then(
    () => ({ ok: true, out: '' }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
  assert.ok(result.ok, `tsc --noEmit on test/consumer failed:\n${result.out}`);
});
