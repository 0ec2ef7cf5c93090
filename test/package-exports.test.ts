// The package as a consumer sees it: each entry of package.json "exports" resolved by the package's
// name (self-reference, so through the exports map into dist/ — run `npm run build` first), what
// each entry holds, and that the root stays cheap (no KDL loader, gRPC stack, piscina or prom-client
// until they are used).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
const run = promisify(execFile);

/** An entry of the package by name; `subpath` '' is the root. */
async function entry(subpath: string): Promise<Record<string, unknown>> {
  const specifier: string = `${pkg.name}${subpath}`;
  return (await import(specifier)) as Record<string, unknown>;
}

// A module resolve hook (module.register) that reports on stderr, one `PACKAGE <name>` line each,
// every bare specifier resolved while it is registered.
const LOAD_HOOK = `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (!/^(?:\\.|\\/|node:|file:|data:)/.test(specifier)) process.stderr.write('PACKAGE ' + specifier + '\\n');
  return result;
}`;

/** The bare specifiers resolved while a fresh node imports `specifier`. */
async function packagesLoadedBy(specifier: string): Promise<Set<string>> {
  const hook = `data:text/javascript,${encodeURIComponent(LOAD_HOOK)}`;
  const script = `import { register } from 'node:module';
register(${JSON.stringify(hook)});
await import(${JSON.stringify(specifier)});`;
  const { stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 60_000 });
  return new Set([...stderr.matchAll(/^PACKAGE (\S+)$/gm)].map((m) => m[1] as string));
}

describe('package exports', () => {
  test('dist is built (npm run build)', () => {
    assert.ok(existsSync(join(root, 'dist', 'src', 'index.js')), 'run `npm run build` before this test');
  });

  test('the root holds the pool and agent API, and nothing of the subpaths', async () => {
    const api = await entry('');
    for (const name of [
      'AgentPool',
      'AgentServer',
      'ReverseConnector',
      'AgentPoolError',
      'ErrorCode',
      'allow',
      'block',
      'failClosedResponse',
      'VERSION',
    ]) {
      assert.ok(name in api, `root exports ${name}`);
    }
    for (const name of ['loadConfig', 'connectionMachine', 'killWorker', 'encodeFrame', 'FrameDecoder', 'jsonCodec', 'PROTO_FILE']) {
      assert.ok(!(name in api), `root does not export ${name}`);
    }
    const AgentPool = api['AgentPool'] as { prototype: object };
    assert.ok(!('killWorker' in AgentPool.prototype), 'killWorker left the public class (see /testing)');
  });

  test('/protocol holds codecs, frames and the .proto file', async () => {
    const api = await entry('/protocol');
    for (const name of [
      'encodeFrame',
      'FrameDecoder',
      'jsonCodec',
      'msgpackCodec',
      'codecFor',
      'MessageType',
      'connectUdsAgent',
      'connectGrpcAgent',
      'ErrorCode',
    ]) {
      assert.ok(name in api, `/protocol exports ${name}`);
    }
    assert.ok(existsSync(api['PROTO_FILE'] as string), 'PROTO_FILE names an existing file');
  });

  test('/config holds the KDL loader', async () => {
    const api = await entry('/config');
    const loadConfig = api['loadConfig'] as (text: string, file: string) => { agents: unknown[] };
    assert.deepEqual(loadConfig('', 'empty.kdl').agents, []);
  });

  test('/testing holds killWorker, which refuses anything but an AgentPool', async () => {
    const api = await entry('/testing');
    const killWorker = api['killWorker'] as (pool: object, index: number) => Promise<void>;
    await assert.rejects(killWorker({}, 0), TypeError);
  });

  test('/http holds the lifecycle engine, its helpers and adapters; the root holds none of it', async () => {
    const api = await entry('/http');
    for (const name of [
      'createHttpEngine',
      'createUpstream',
      'routeAgent',
      'requestHeadersEvent',
      'headerMapOf',
      'nodeHeadersOf',
      'renderDecision',
      'createHttpHandler',
      'zapMiddleware',
      'zapFastify',
    ]) {
      assert.ok(name in api, `/http exports ${name}`);
    }
    const root = await entry('');
    assert.ok(!('createHttpEngine' in root), 'root does not export createHttpEngine');
  });

  test('/machines holds the connection machine', async () => {
    const api = await entry('/machines');
    assert.equal(typeof (api['connectionMachine'] as { transition?: unknown }).transition, 'function');
  });

  test('importing the root loads no KDL parser, gRPC stack, proto loader, piscina, prom-client or msgpackr', async () => {
    const loaded = await packagesLoadedBy(pkg.name);
    assert.ok(loaded.has(pkg.name), 'the hook saw the import');
    for (const heavy of [
      'kdljs',
      '@grpc/grpc-js',
      '@grpc/proto-loader',
      'protobufjs',
      'piscina',
      'prom-client',
      'hdr-histogram-js',
      'msgpackr',
      'undici',
    ]) {
      assert.ok(!loaded.has(heavy), `root import loaded ${heavy}`);
    }
  });

  // ESM only: CommonJS code loads it through require(esm), unflagged from Node 20.19 (no top-level await in the graph).
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const requireEsm = major > 20 || (major === 20 && minor >= 19);
  test('CommonJS require() of the root works on Node ≥ 20.19 (require(esm))', { skip: !requireEsm && 'Node < 20.19' }, async () => {
    const script = `const zap = require(${JSON.stringify(pkg.name)}); process.stdout.write(typeof zap.AgentPool);`;
    const { stdout } = await run(process.execPath, ['--no-warnings', '-e', script], { cwd: root, timeout: 60_000 });
    assert.equal(stdout, 'function');
  });

  test('/config is where kdljs loads', async () => {
    assert.ok((await packagesLoadedBy(`${pkg.name}/config`)).has('kdljs'));
  });
});
