#!/usr/bin/env node
// Every `§N.N` cited in the code must name a heading of docs/protocol.md, so a reader can follow it.
// Lists each citation without a heading (with where it is cited) and exits 1; exits 0 when all resolve.
//
//   node scripts/check-spec-refs.mjs [--root <dir>] [--doc <file>] [<path> ...]
//
// --root: the repository root (default: this script's parent folder). --doc: the reference, relative
// to the root or absolute (default docs/protocol.md). Paths to scan, relative to the root: folders
// (their .ts/.js files) or single files of any kind (README.md); default src, workers, bench, test
// (those that exist). Exit 2 on a usage error.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_EXTENSIONS = /\.(?:ts|mts|cts|js|mjs|cjs)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);
// `§6.10`, `§ 6.9.1`; a sentence's full stop after the number is not part of it.
const CITATION = /§\s?(\d+(?:\.\d+)*)/g;
// `## 6. Title`, `### 6.9 Title`, `#### 6.9.1 Title`.
const HEADING = /^#{1,6}[ \t]+(\d+(?:\.\d+)*)\.?(?:[ \t]|$)/;
const SHOWN_PLACES = 3;

function usage(message) {
  process.stderr.write(`check-spec-refs: ${message}\nusage: check-spec-refs.mjs [--root <dir>] [--doc <file>] [<path> ...]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const out = { root: fileURLToPath(new URL('..', import.meta.url)), doc: 'docs/protocol.md', dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--root' || arg === '--doc') {
      const value = argv[++i];
      if (value === undefined) usage(`${arg} needs a value`);
      out[arg.slice(2)] = value;
    } else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
    else out.dirs.push(arg);
  }
  out.root = resolve(out.root);
  if (out.dirs.length === 0) out.dirs = ['src', 'workers', 'bench', 'test'].filter((d) => existsSync(join(out.root, d)));
  return out;
}

function sourceFiles(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (SOURCE_EXTENSIONS.test(name)) files.push(path);
  }
  return files;
}

/** Section number → the places (file:line) citing it. */
function citations(root, dirs) {
  const cited = new Map();
  for (const dir of dirs) {
    const abs = join(root, dir);
    if (!existsSync(abs)) usage(`no ${dir} under ${root}`);
    for (const file of statSync(abs).isDirectory() ? sourceFiles(abs) : [abs]) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const m of line.matchAll(CITATION)) {
          const places = cited.get(m[1]) ?? [];
          places.push(`${relative(root, file)}:${i + 1}`);
          cited.set(m[1], places);
        }
      });
    }
  }
  return cited;
}

/** Section numbers that have a heading, and those that have more than one. */
function headings(docPath) {
  const seen = new Set();
  const duplicates = new Set();
  let fenced = false;
  for (const line of readFileSync(docPath, 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : HEADING.exec(line);
    if (m === null) continue;
    if (seen.has(m[1])) duplicates.add(m[1]);
    seen.add(m[1]);
  }
  return { seen, duplicates };
}

const bySection = (a, b) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
};

const args = parseArgs(process.argv.slice(2));
const docPath = resolve(args.root, args.doc);
if (!existsSync(docPath)) {
  process.stderr.write(`check-spec-refs: ${args.doc} does not exist, so no § citation resolves\n`);
  process.exit(1);
}
const cited = citations(args.root, args.dirs);
const { seen, duplicates } = headings(docPath);
const missing = [...cited.keys()].filter((s) => !seen.has(s)).sort(bySection);
const problems = [];
for (const section of missing) {
  const places = cited.get(section) ?? [];
  const more = places.length > SHOWN_PLACES ? ` and ${places.length - SHOWN_PLACES} more` : '';
  problems.push(`§${section} has no heading in ${args.doc}; cited at ${places.slice(0, SHOWN_PLACES).join(', ')}${more}`);
}
for (const section of [...duplicates].sort(bySection)) problems.push(`§${section} has more than one heading in ${args.doc}`);

const uses = [...cited.values()].reduce((n, places) => n + places.length, 0);
if (problems.length > 0) {
  process.stderr.write(`check-spec-refs: ${problems.length} problem(s):\n${problems.map((p) => `  ${p}\n`).join('')}`);
  process.exit(1);
}
process.stdout.write(
  `check-spec-refs: ${cited.size} sections cited ${uses} times in ${args.dirs.join(', ')}; all have a heading in ${args.doc}\n`,
);
