#!/usr/bin/env node
// npm run test:reference: builds the reference peers (build.mjs), then runs
// interop/reference/test/**/*.test.ts with node:test under tsx. These tests live outside test/
// so that `npm test` passes on machines without cargo. Extra arguments filter files by substring.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildReference } from './build.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const filters = process.argv.slice(2);

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

let bins;
try {
  bins = buildReference();
} catch (err) {
  console.error(`test:reference: ${err.message}`);
  process.exit(1);
}
const files = collect(join(here, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-timeout=180000', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ZAP_REF_BIN_DIR: bins.binDir },
});
process.exit(result.status ?? 1);
