// The code's `spec §N.N` citations resolve: scripts/check-spec-refs.mjs, run as a child process, finds a
// heading in docs/protocol.md for each of them, and fails (exit 1, naming section and place) otherwise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../scripts/check-spec-refs.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'zap-spec-refs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// Built, not written out, so that this file's own text cites nothing the real check would see.
const cite = (section: string): string => `\u00a7${section}`;

function check(args: string[]) {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let fixtures = 0;
/** A throw-away repository: `files` maps a path under it to its text. */
function fixture(files: Record<string, string>): string {
  const root = join(scratch, `repo-${++fixtures}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const DOC = ['# Reference', '', '## 1. Overview', '', '### 1.2 Transports', '', '#### 1.2.3 Detail', ''].join('\n');

test('docs spec refs: every section the code cites has a heading in docs/protocol.md', () => {
  const r = check([]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /all have a heading in docs\/protocol\.md/);
});

test('docs spec refs: a citation without a heading fails, naming the section and where it is cited', () => {
  const root = fixture({
    'docs/protocol.md': DOC,
    'src/a.ts': `// resolves (spec ${cite('1.2')}, ${cite('1')}, ${cite('1.2.3')}).\n// dangles (spec ${cite('9.4')}).\n`,
    'src/deep/b.ts': `const x = 1; // ${cite('9.4')} again, and ${cite('12.1')}.\n`,
  });
  const r = check(['--root', root, 'src']);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, /2 problem\(s\)/);
  assert.ok(r.stderr.includes(`${cite('9.4')} has no heading in docs/protocol.md; cited at src/a.ts:2, src/deep/b.ts:1`), r.stderr);
  assert.ok(r.stderr.includes(`${cite('12.1')} has no heading`), r.stderr);
  assert.ok(!r.stderr.includes(cite('1.2 ')), 'a section with a heading is not reported');
});

test('docs spec refs: a file named on the command line is scanned whatever its kind (README.md)', () => {
  const root = fixture({
    'docs/protocol.md': DOC,
    'src/a.ts': `// ${cite('1.2')}\n`,
    'NOTES.md': `See ${cite('1.2')} and ${cite('3.1')}.\n`,
  });
  const r = check(['--root', root, 'src', 'NOTES.md']);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`${cite('3.1')} has no heading in docs/protocol.md; cited at NOTES.md:1`), r.stderr);
});

test('docs spec refs: a heading inside a code fence does not count, and a repeated heading fails', () => {
  const doc = `${DOC}\n\`\`\`\n## 7. Not a heading\n\`\`\`\n\n## 1. Overview again\n`;
  const root = fixture({ 'docs/protocol.md': doc, 'src/a.ts': `// ${cite('7')}\n` });
  const r = check(['--root', root]);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`${cite('7')} has no heading`), r.stderr);
  assert.ok(r.stderr.includes(`${cite('1')} has more than one heading`), r.stderr);
});

test('docs spec refs: a missing reference document fails instead of passing vacuously', () => {
  const root = fixture({ 'src/a.ts': `// ${cite('2.1')}\n` });
  const r = check(['--root', root]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /docs\/protocol\.md does not exist/);
});
