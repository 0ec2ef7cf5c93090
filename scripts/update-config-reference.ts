// Rewrites the generated configuration reference in README.md (between the config-reference
// markers; appended at the end when the markers are missing). Run: node --import tsx scripts/update-config-reference.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spliceConfigReference } from '../src/config/render-reference.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
if (!existsSync(readmePath)) {
  process.stderr.write(`${readmePath} not found: write the README first, then run this again\n`);
  process.exit(1);
}
const before = readFileSync(readmePath, 'utf8');
const after = spliceConfigReference(before);
if (after === before) process.stdout.write('README.md: configuration reference already up to date\n');
else {
  writeFileSync(readmePath, after);
  process.stdout.write('README.md: configuration reference updated\n');
}
