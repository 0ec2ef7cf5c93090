// Socket paths under the OS temp dir; the directory goes away when the test file ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'zap-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

export function socketPath(name = 'agent'): string {
  return join(dir, `${name}-${++n}.sock`);
}
