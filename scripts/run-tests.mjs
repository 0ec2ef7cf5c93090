#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test under tsx. Extra arguments filter files by substring.
import { join } from 'node:path';
import { runTestFiles } from './node-test.mjs';

const root = new URL('..', import.meta.url).pathname;
runTestFiles(root, join(root, 'test'), process.argv.slice(2));
