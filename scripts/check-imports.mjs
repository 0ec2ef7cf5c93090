#!/usr/bin/env node
// Fails on an import cycle between files, and on an import against the layer order, in src/ and
// workers/ (relative specifiers only; packages are not ours to order). Type-only imports count:
// a type cycle is still a cycle in the design. No dependencies: specifiers are found with regular
// expressions over code lines (lines that start a comment are skipped), `.js` resolved to `.ts`.
//
//   node scripts/check-imports.mjs [root]    check the tree at root (default: this package)
//   node scripts/check-imports.mjs --layers  print the layer order
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layer order, lowest first. A file may import files of its own layer and of the layers listed
 * for it, which all come earlier in this list. The layer of `src/<folder>/…` is the folder; the files
 * at the top of src/ are `package` (index.ts and the subpath entries *-entry.ts are `index`), workers/ is
 * `workers`, bench/ is `bench`.
 */
export const LAYERS = [
  ['package', [], 'where the package lives: its root, version, worker entry files'],
  ['protocol', [], 'pure wire layer, no I/O: types, codecs, validation, error codes'],
  ['transport', ['protocol', 'package'], 'sockets, gRPC channel, reverse listener, event encoders'],
  ['contract', ['transport', 'protocol'], 'what the router and a connection host say to each other'],
  ['connection', ['contract', 'transport', 'protocol', 'package'], 'connection machine and actor, dialers, the connection host'],
  ['metrics', ['protocol'], 'prom-client registry and agent-reported series'],
  ['pool', ['connection', 'contract', 'metrics', 'transport', 'protocol', 'package'], 'AgentPool, router, pickers, breaker, worker hosts'],
  ['agent', ['transport', 'protocol', 'package'], 'agent SDK: AgentServer, ReverseConnector, handlers'],
  ['config', ['pool', 'transport', 'protocol'], 'KDL configuration to AgentPool options'],
  ['http', ['pool', 'protocol'], 'HTTP lifecycle engine on node:http and undici, its adapters'],
  ['demo', ['http', 'pool', 'protocol'], 'the demo gateway'],
  ['gateway', ['http', 'config', 'pool', 'metrics', 'protocol'], '`zap gateway`: route table, upstream picking, listeners, reload'],
  ['workers', ['connection', 'agent', 'contract', 'protocol'], 'worker thread entry points'],
  ['bench', [], 'benchmarks (not checked here; only the CLI reaches them)'],
  [
    'cli',
    ['bench', 'gateway', 'demo', 'http', 'config', 'agent', 'pool', 'connection', 'transport', 'protocol', 'package'],
    'the zap command',
  ],
  [
    'index',
    ['http', 'config', 'agent', 'pool', 'metrics', 'connection', 'contract', 'transport', 'protocol', 'package'],
    'public API: the package root and its subpath entries (re-exports only)',
  ],
];

const SCANNED = ['src', 'workers'];
const SOURCE = /\.(ts|mts|mjs|js)$/;
const STATIC = /^\s*(?:import|export)\s+(?:type\s+)?[\w$*{}\s,]+?\s+from\s*['"]([^'"]+)['"]/gm;
const BARE = /^\s*import\s*['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function layerOf(path) {
  const parts = path.split(sep);
  if (parts[0] === 'workers' || parts[0] === 'bench') return parts[0];
  if (parts[0] !== 'src') return undefined;
  if (parts.length === 2) return parts[1] === 'index.ts' || parts[1].endsWith('-entry.ts') ? 'index' : 'package';
  return parts[1];
}

function collect(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Relative specifiers of one file, code lines only. */
function specifiers(text) {
  const code = text
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join('\n');
  const found = [];
  for (const re of [STATIC, BARE, DYNAMIC]) for (const m of code.matchAll(re)) found.push(m[1]);
  return found.filter((s) => s.startsWith('.'));
}

function resolveSpecifier(root, from, specifier) {
  const base = resolve(dirname(join(root, from)), specifier);
  const candidates = specifier.endsWith('.js')
    ? [base.slice(0, -3) + '.ts', base]
    : specifier.endsWith('.mjs')
      ? [base.slice(0, -4) + '.mts', base]
      : [base, base + '.ts', join(base, 'index.ts')];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return hit === undefined ? undefined : relative(root, hit);
}

/** Every cycle's strongly connected component (Tarjan), as one cycle path through it. */
function cycles(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const strongConnect = (v) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indices.get(w)));
    }
    if (low.get(v) !== indices.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(cyclePath(graph, new Set(component), v));
  };
  for (const v of [...graph.keys()].sort()) if (!indices.has(v)) strongConnect(v);
  return found;
}

/** A path from `start` back to itself inside one component (breadth-first: a shortest one). */
function cyclePath(graph, component, start) {
  const previous = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [];
        for (let u = v; u !== start; u = previous.get(u)) path.unshift(u);
        return [start, ...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

export function checkImports(root) {
  const layers = new Map(LAYERS.map(([name, may]) => [name, new Set(may)]));
  const problems = [];
  // The order itself: a layer lists only layers below it, so layers can never form a cycle.
  LAYERS.forEach(([name, may], i) => {
    for (const lower of may) {
      const at = LAYERS.findIndex(([n]) => n === lower);
      if (at < 0 || at >= i) problems.push(`LAYERS: ${name} may import ${lower}, which is not a layer below it`);
    }
  });
  const graph = new Map();
  let imports = 0;
  const files = SCANNED.flatMap((dir) => collect(join(root, dir))).map((f) => relative(root, f));
  if (files.length === 0) problems.push(`no sources under ${join(root, 'src')} or ${join(root, 'workers')}`);
  for (const file of files) {
    const from = layerOf(file);
    if (!layers.has(from)) problems.push(`${file}: folder '${from}' is not in the layer order (scripts/check-imports.mjs LAYERS)`);
    const targets = [];
    for (const specifier of specifiers(readFileSync(join(root, file), 'utf8'))) {
      const target = resolveSpecifier(root, file, specifier);
      if (target === undefined) {
        problems.push(`${file}: cannot resolve '${specifier}'`);
        continue;
      }
      imports++;
      targets.push(target);
      const to = layerOf(target);
      if (from !== to && !(layers.get(from)?.has(to) ?? false))
        problems.push(`layer order: ${file} imports ${target} (${from} may not import ${to ?? 'files outside the layers'})`);
    }
    graph.set(file, targets);
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${cycle.join(' → ')}`);
  return { files: files.length, imports, problems };
}

function printLayers() {
  for (const [name, may, what] of LAYERS)
    console.log(`${name.padEnd(11)} ← ${may.length === 0 ? '(nothing of ours)' : may.join(', ')}   — ${what}`);
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  if (process.argv[2] === '--layers') {
    printLayers();
  } else {
    const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname);
    const { files, imports, problems } = checkImports(root);
    if (problems.length > 0) {
      for (const p of problems) console.error(p);
      console.error(`check-imports: ${problems.length} problem(s) in ${files} files`);
      process.exit(1);
    }
    console.log(`check-imports: ${files} files, ${imports} imports: no cycle, layer order kept`);
  }
}
