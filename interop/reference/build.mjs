#!/usr/bin/env node
// Builds the reference peers (ref-agent, ref-proxy) with `cargo build --release --locked` and tells
// where they are. Used by run-tests.mjs (npm run test:reference) and by `zap bench reference`;
// run directly it prints {"binDir": …} on stdout. Cargo's own progress goes to stderr.
//
// The target folder lives outside the clone (CARGO_TARGET_DIR, default ~/.cache/zap-reference-target)
// so CI keeps its compiled dependencies between runs; a missing folder means a build from nothing.
// The crate's build script compiles a .proto and needs `protoc`: $PROTOC or a `protoc` on PATH when
// there is one, otherwise the one vendored by the protoc-bin-vendored crate (tools/protoc-path).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const manifest = join(here, 'Cargo.toml');
/** The reference crate declares this rust-version; older toolchains build it with --ignore-rust-version. */
const CRATE_RUST_VERSION = [1, 96, 0];

export function referenceTargetDir() {
  return process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'zap-reference-target');
}

function run(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', ...options });
}

function cargoPresent() {
  const r = run('cargo', ['--version']);
  return r.error === undefined && r.status === 0;
}

function rustcOlderThanCrate() {
  const m = /rustc (\d+)\.(\d+)\.(\d+)/.exec(run('rustc', ['--version']).stdout ?? '');
  if (m === null) return false;
  const have = m.slice(1, 4).map(Number);
  for (let i = 0; i < 3; i++) if (have[i] !== CRATE_RUST_VERSION[i]) return have[i] < CRATE_RUST_VERSION[i];
  return false;
}

function cargo(args, env, log) {
  log(`cargo ${args.join(' ')}`);
  const r = run('cargo', args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.error !== undefined || r.status !== 0) {
    throw new Error(`cargo ${args[0]} failed (exit ${r.status ?? r.error?.message}); see the cargo output above`);
  }
  return r.stdout;
}

function protocFor(env, common, log) {
  if (env.PROTOC) return env.PROTOC;
  const onPath = run('protoc', ['--version']);
  if (onPath.error === undefined && onPath.status === 0) return 'protoc';
  cargo(['build', '--release', ...common, '-p', 'protoc-path'], env, log);
  const r = run(join(referenceTargetDir(), 'release', 'protoc-path'), []);
  if (r.status !== 0) throw new Error(`no protoc: install one or set PROTOC (${r.stderr.trim()})`);
  return r.stdout.trim();
}

/**
 * Builds both binaries (incremental when the target folder exists) and returns their paths.
 * Throws a clear error when cargo is missing.
 */
export function buildReference({ log = (line) => process.stderr.write(`reference: ${line}\n`) } = {}) {
  if (!cargoPresent()) {
    throw new Error('cargo not found: the reference peers are Rust programs; install a Rust toolchain (rustup) to run them');
  }
  const target = referenceTargetDir();
  if (!existsSync(target))
    log(`${target} is missing: building from nothing (the first build downloads and compiles the dependencies; several minutes)`);
  const env = { ...process.env, CARGO_TARGET_DIR: target };
  const common = ['--locked', '--manifest-path', manifest];
  if (rustcOlderThanCrate()) {
    log(`rustc is older than the crate's rust-version ${CRATE_RUST_VERSION.join('.')}: building with --ignore-rust-version`);
    common.push('--ignore-rust-version');
  }
  env.PROTOC = protocFor(env, common, log);
  cargo(['build', '--release', ...common, '-p', 'zap-reference', '--bins'], env, log);
  const binDir = join(target, 'release');
  return { binDir, refAgent: join(binDir, 'ref-agent'), refProxy: join(binDir, 'ref-proxy') };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${JSON.stringify(buildReference())}\n`);
  } catch (err) {
    process.stderr.write(`reference: ${err.message}\n`);
    process.exit(1);
  }
}
