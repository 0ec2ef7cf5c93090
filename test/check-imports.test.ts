// scripts/check-imports.mjs: the tree has no import cycle and keeps the layer order, and the check
// really fails on a planted cycle and on a planted layer violation (real child processes, on a
// temp copy of src/ and workers/ and on a small fixture tree).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(root, 'scripts', 'check-imports.mjs');

const work = mkdtempSync(join(tmpdir(), 'zap-imports-'));
after(() => rmSync(work, { recursive: true, force: true }));
let trees = 0;

function check(at: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, at], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A copy of this package's sources (bench/ too: the CLI imports it) to plant an import in. */
function copyOfTree(): string {
  const at = join(work, `copy-${++trees}`);
  for (const dir of ['src', 'workers', 'bench']) cpSync(join(root, dir), join(at, dir), { recursive: true });
  return at;
}

function fixture(files: Record<string, string>): string {
  const at = join(work, `fixture-${++trees}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(at, path)), { recursive: true });
    writeFileSync(join(at, path), text);
  }
  return at;
}

test('import check: the source tree has no import cycle and keeps the layer order', () => {
  const { status, out } = check(root);
  assert.equal(status, 0, out);
  assert.match(out, /no cycle, layer order kept/);
});

test('import check: a planted layer violation in a copy of the tree fails, naming the file and both layers', () => {
  const at = copyOfTree();
  const before = check(at);
  assert.equal(before.status, 0, `the copy passes before anything is planted: ${before.out}`);
  // protocol/ is the bottom layer: it may not reach up into the router.
  appendFileSync(
    join(at, 'src', 'protocol', 'ping.ts'),
    "\nimport type { SendOptions } from '../pool/router.js';\nexport type Planted = SendOptions;\n",
  );
  const { status, out } = check(at);
  assert.equal(status, 1, out);
  assert.match(out, /layer order: src\/protocol\/ping\.ts imports src\/pool\/router\.ts \(protocol may not import pool\)/);
});

test('import check: a planted cycle in a copy of the tree fails, naming every file of it', () => {
  const at = copyOfTree();
  // Same folder, type-only, across a multi-line import: still a cycle.
  appendFileSync(
    join(at, 'src', 'protocol', 'types.ts'),
    "\nimport type {\n  PayloadCodec,\n} from './payload-codec-types.js';\nexport type Planted = PayloadCodec;\n",
  );
  const { status, out } = check(at);
  assert.equal(status, 1, out);
  assert.match(
    out,
    /import cycle: src\/protocol\/(types|payload-codec-types)\.ts → src\/protocol\/(types|payload-codec-types)\.ts → src\/protocol\/\1\.ts/,
  );
  assert.doesNotMatch(out, /layer order/);
});

test('import check: fixture tree — export-from and dynamic import() edges count, comments do not, unknown folders are refused', () => {
  const at = fixture({
    'src/protocol/a.ts': "export * from './b.js';\n",
    'src/protocol/b.ts': "export type B = import('./c.js').C;\n",
    'src/protocol/c.ts': "// import { a } from './a.js';\n/** import('./a.js') */\nexport type C = number;\n",
    'src/stray/d.ts': 'export const d = 1;\n',
  });
  let r = check(at);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /src\/stray\/d\.ts: folder 'stray' is not in the layer order/);
  assert.doesNotMatch(r.out, /import cycle/, 'commented-out imports are not edges');
  writeFileSync(join(at, 'src', 'protocol', 'c.ts'), "export { a } from './a.js';\nexport type C = number;\n");
  rmSync(join(at, 'src', 'stray'), { recursive: true });
  r = check(at);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /import cycle: src\/protocol\/a\.ts → src\/protocol\/b\.ts → src\/protocol\/c\.ts → src\/protocol\/a\.ts/);
});
