// `zap bench <scenario> …` run in this process with its JSON written under `jsonDir`: asserts exit 0
// (stderr as the message) and the scenario the file names; gives back its rows, notes and stdout.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBench } from '../../src/cli/bench.js';

export type Row = Record<string, unknown>;

export async function benchJson<R = Row>(args: string[], jsonDir: string): Promise<{ rows: R[]; notes: string[]; out: string }> {
  let out = '';
  let err = '';
  const code = await runBench([...args, '--json-dir', jsonDir], { out: (t) => (out += t), err: (t) => (err += t) });
  assert.equal(code, 0, err);
  const file = JSON.parse(readFileSync(join(jsonDir, `${args[0]}.json`), 'utf8')) as { scenario: string; rows: R[]; notes: string[] };
  assert.equal(file.scenario, args[0]);
  return { rows: file.rows, notes: file.notes, out };
}
