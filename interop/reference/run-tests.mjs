#!/usr/bin/env node
// npm run test:reference: builds the reference peers (build.mjs), then runs
// interop/reference/test/**/*.test.ts with node:test under tsx. These tests live outside test/
// so that `npm test` passes on machines without cargo. Extra arguments filter files by substring.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReference } from './build.mjs';
import { runTestFiles } from '../../scripts/node-test.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const filters = process.argv.slice(2);

let bins;
try {
  bins = buildReference();
} catch (err) {
  console.error(`test:reference: ${err.message}`);
  process.exit(1);
}
runTestFiles(root, join(here, 'test'), filters, { ...process.env, ZAP_REF_BIN_DIR: bins.binDir });
