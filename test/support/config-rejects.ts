// Asserts that loading a KDL text as `t.kdl` fails with exactly `t.kdl:<line>: <what>` (a string, or a
// pattern for the part after the line).
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { AgentPoolError } from '../../src/protocol/errors.js';

export function rejects(text: string, line: number, what: string | RegExp): void {
  assert.throws(
    () => loadConfig(text, 't.kdl'),
    (err: unknown) => {
      assert.ok(err instanceof AgentPoolError, `not an AgentPoolError: ${String(err)}`);
      assert.equal(err.code, 'ZAP_INVALID_CONFIG');
      const prefix = `t.kdl:${line}: `;
      assert.ok(err.message.startsWith(prefix), `expected line ${line}: ${err.message}`);
      const rest = err.message.slice(prefix.length);
      if (typeof what === 'string') assert.equal(rest, what);
      else assert.match(rest, what);
      return true;
    },
  );
}
