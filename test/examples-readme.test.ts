// The README's TypeScript snippets are files under examples/: each ```ts block is preceded by
// `<!-- example: examples/<name>.ts -->` and must equal that file's `// readme:start` … `// readme:end` region
// (whitespace and the import specifier aside), and the examples that can run on loopback or a temp Unix
// socket run here as child processes, as a user would run them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const MARKER = /^<!-- example: (examples\/[\w-]+\.ts) -->$/;

interface Snippet {
  line: number;
  file: string | undefined;
  body: string;
}

/** Every ```ts block of the markdown, with the example file named on the line before its fence. */
function tsBlocks(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const blocks: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `README.md:${i + 1}: unterminated \`\`\`ts block`);
    const file = MARKER.exec(lines[i - 1] ?? '')?.[1];
    blocks.push({ line: i + 1, file, body: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

function region(source: string, file: string): string {
  const start = source.indexOf('// readme:start\n');
  const end = source.indexOf('// readme:end');
  assert.ok(start >= 0 && end > start, `${file} has no // readme:start … // readme:end region`);
  return source.slice(start + '// readme:start\n'.length, end);
}

/** What may differ between README and example: whitespace, and the package name in imports. */
function normalise(code: string): string {
  return code
    .replaceAll("'../src/index.js'", "'zentinel-agent-zap'")
    .replace(/'\.\.\/src\/([\w-]+)-entry\.js'/g, "'zentinel-agent-zap/$1'")
    .replace(/\s+/g, '');
}

describe('README snippets are examples', () => {
  test('normalise ignores whitespace and the import specifier, and nothing else', () => {
    assert.equal(normalise("import { a } from '../src/index.js';\n  f( 1 )"), normalise("import {a} from 'zentinel-agent-zap'; f(1)"));
    assert.notEqual(normalise('f(1)'), normalise('f(2)'));
    const entry = "import { b } from '../src/http-entry.js';";
    assert.equal(normalise(entry), normalise("import { b } from 'zentinel-agent-zap/http';"));
    const blocks = tsBlocks('<!-- example: examples/x.ts -->\n```ts\nf()\n```\n```ts\ng()\n```');
    assert.deepEqual(blocks, [
      { line: 2, file: 'examples/x.ts', body: 'f()' },
      { line: 5, file: undefined, body: 'g()' },
    ]);
  });

  const blocks = tsBlocks(readFileSync(`${ROOT}README.md`, 'utf8'));

  test('every ```ts block in README.md names its example and equals its readme region', () => {
    assert.ok(blocks.length > 0, 'README.md has ```ts blocks');
    for (const b of blocks) {
      assert.ok(b.file !== undefined, `README.md:${b.line}: a \`\`\`ts block needs <!-- example: examples/<name>.ts --> above it`);
      const example = region(readFileSync(`${ROOT}${b.file}`, 'utf8'), b.file);
      assert.equal(normalise(b.body), normalise(example), `README.md:${b.line} differs from ${b.file}'s readme region`);
    }
  });

  test('every example with a readme region is shown in README.md', () => {
    const shown = new Set(blocks.map((b) => b.file));
    for (const name of readdirSync(`${ROOT}examples`)) {
      if (!readFileSync(`${ROOT}examples/${name}`, 'utf8').includes('// readme:start')) continue;
      assert.ok(shown.has(`examples/${name}`), `examples/${name} has a readme region that README.md does not show`);
    }
  });
});

/** Runs an example as a user would; a hung example fails the test instead of the run. */
async function example(name: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}.ts`, ...args], { cwd: ROOT, timeout: 60_000 });
  return stdout;
}

describe('README examples run', () => {
  test('embedding-pool: one request through the pool, then close', async () => {
    assert.equal(
      await example('embedding-pool'),
      '{"type":"allow"} [{"op":"set","name":"x-checked","value":"yes"},{"op":"remove","name":"x-internal"}]\n',
    );
  });

  test('embedding-body: Uint8Array chunks, needsMore until the last one', async () => {
    assert.equal(
      await example('embedding-body'),
      'needsMore after a first chunk: true\nneedsMore after the last chunk: false, tags ["bytes:11"]\n',
    );
  });

  test('embedding-decisions: redirect and challenge shapes, failClosedResponse, errors by code', async () => {
    const lines = (await example('embedding-decisions')).trimEnd().split('\n');
    assert.deepEqual(lines, [
      'redirect {"status":301,"headers":{"location":"/new"},"body":""}',
      'challenge {"status":403,"headers":{"content-type":"application/json"},"body":' +
        JSON.stringify(JSON.stringify({ type: 'challenge', challengeType: 'captcha', params: { site_key: 'k1' } })) +
        '}',
      'allow null',
      'unavailable {"status":503,"headers":{},"body":"Service unavailable"}',
      'timeout {"status":504,"headers":{},"body":"Gateway timeout"}',
    ]);
  });

  test('embedding-header-ops: the agent’s ops reach the upstream through http.request', async () => {
    assert.equal(await example('embedding-header-ops'), 'upstream saw x-checked=yes x-internal=(removed)\n');
  });

  const CHALLENGE = '{"challenge":{"type":"captcha","params":{"site_key":"k1"}}}';
  test('http-gateway: the engine behind a node:http handler forwards, redirects and challenges', async () => {
    const out = await run(process.execPath, ['--import', 'tsx', 'examples/http-gateway.ts'], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, PORT: '0' },
    });
    assert.equal(out.stdout, '/cart → 200 service saw x-checked=yes\n/old → 301 /new\n' + `/suspicious → 403 ${CHALLENGE}\n`);
  });

  for (const name of ['http-express', 'http-fastify']) {
    test(`${name}: routed requests go through the engine, the others to the framework`, async () => {
      assert.equal(await example(name), '/api/cart → 200 service saw x-checked=yes\n/health → 200 ok\n');
    });
  }

  test('http-helpers: requestHeadersEvent and renderDecision on a plain server', async () => {
    assert.equal(await example('http-helpers'), `/ → 200 hello\n/old → 301 /new\n/suspicious → 403 ${CHALLENGE}\n`);
  });

  test('write-agent: runAgent gives the snippet the flags of zap agent', async () => {
    assert.match(await example('write-agent', '--help'), /--listen ENDPOINT/);
  });
});
