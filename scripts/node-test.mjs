// What both test runners share (npm test, npm run test:reference): the *.test.ts files under a
// folder, filtered by substring (Node 20 has no globs for --test), run with node:test under tsx.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Runs the test files under `dir` whose path (relative to `root`) contains one of `filters`; exits with their status. */
export function runTestFiles(root, dir, filters, env = process.env) {
  const files = collect(dir)
    .map((f) => relative(root, f))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
  if (files.length === 0) {
    console.error('no test files matched');
    process.exit(1);
  }
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-timeout=180000', '--test-reporter=spec', ...files], {
    cwd: root,
    stdio: 'inherit',
    env,
  });
  process.exit(result.status ?? 1);
}
