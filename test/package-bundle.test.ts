// Bundling an application that uses the package (esbuild, as a user would). The package loads
// files at run time (worker entries, the .proto schema, its package.json), so it must stay
// external: bundled that way, a pool with a connection worker and an agent answer a request.
// Inlined into the bundle, it fails at start-up with a message that says what to do.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'zap-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The application: an agent that blocks, a pool with one connection worker, one request.
const APP = `
import { AgentPool, AgentServer, block } from '${pkg.name}';
const socket = process.argv[2];
const server = new AgentServer({ agentId: 'bundled', handler: { onRequestHeaders: () => block(403) } });
await server.listen('unix:' + socket);
const pool = new AgentPool({ workers: 1 });
try {
  await pool.addAgent('bundled', 'unix:' + socket);
  const metadata = { correlationId: 'c1', requestId: 'c1', clientIp: '192.0.2.1', clientPort: 1, serverName: null, protocol: 'HTTP/1.1',
    tlsVersion: null, tlsCipher: null, routeId: null, upstreamId: null, timestamp: new Date().toISOString() };
  const reply = await pool.sendRequestHeaders('bundled', 'c1', { metadata, method: 'GET', uri: '/', headers: {} }, { timeoutMs: 10000 });
  process.stdout.write(JSON.stringify(reply.decision));
} finally {
  await pool.close();
  await server.close();
}
`;

/** A project directory as npm would lay it out: the package and its dependencies under node_modules. */
before(() => {
  writeFileSync(join(dir, 'app.mjs'), APP);
  mkdirSync(join(dir, 'node_modules', '@grpc'), { recursive: true });
  symlinkSync(root, join(dir, 'node_modules', pkg.name), 'dir');
  for (const dep of Object.keys(pkg.dependencies)) symlinkSync(join(root, 'node_modules', dep), join(dir, 'node_modules', dep), 'dir');
});

async function bundle(outfile: string, externals: readonly string[]): Promise<void> {
  const esbuild = join(root, 'node_modules', 'esbuild', 'bin', 'esbuild');
  const args = [
    join(dir, 'app.mjs'),
    '--bundle',
    '--platform=node',
    '--format=esm',
    '--log-level=error',
    `--outfile=${outfile}`,
    ...externals.map((e) => `--external:${e}`),
  ];
  await run(esbuild, args, { cwd: dir, timeout: 60_000 });
}

test('bundled with the package external, a pool with a worker and an agent answer', async () => {
  const out = join(dir, 'dist-external', 'app.js');
  await bundle(out, [pkg.name]);
  assert.ok(!readFileSync(out, 'utf8').includes('AgentPool = class'), 'the package stayed out of the bundle');
  const { stdout } = await run(process.execPath, [out, join(dir, 'external.sock')], { cwd: dir, timeout: 60_000 });
  assert.equal((JSON.parse(stdout) as { type: string; status: number }).status, 403);
});

test('inlined into the bundle, the package fails at start-up and says to keep it external', async () => {
  const out = join(dir, 'dist-inlined', 'app.js');
  await bundle(out, Object.keys(pkg.dependencies));
  assert.ok(readFileSync(out, 'utf8').includes('AgentPool = class'), 'the package is in the bundle');
  const failure = await run(process.execPath, [out, join(dir, 'inlined.sock')], { cwd: dir, timeout: 60_000 }).then(
    () => undefined,
    (err: { code?: number; stderr?: string }) => err,
  );
  assert.ok(failure !== undefined, 'the inlined bundle must not start');
  assert.match(failure.stderr ?? '', /must not be bundled.*mark it external/s);
});
