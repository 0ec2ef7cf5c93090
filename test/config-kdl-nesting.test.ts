// KDL nested about 300 deep threw a bare RangeError from the parser's recursion (issue 11 item 9).
// The depth is now bounded before parsing: ZAP_INVALID_CONFIG `<file>:<line>: blocks nested deeper
// than 64 levels`, naming the line of the first `{` past the limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_KDL_NESTING } from '../src/config/kdl-document.js';
import { loadConfig } from '../src/config/load-config.js';
import { AgentPoolError } from '../src/protocol/errors.js';

/** agents → agent → config → `levels` nested `n { }` blocks, one `{` per line. */
function nested(levels: number): string {
  return (
    `agents {\n  agent "a" {\n    unix-socket "/tmp/a.sock"\n    config ` +
    `{\n${'n {\n'.repeat(levels)}${'}\n'.repeat(levels)}    }\n  }\n}\n`
  );
}

function loadError(text: string): AgentPoolError {
  try {
    loadConfig(text, 'deep.kdl');
  } catch (err) {
    assert.ok(err instanceof AgentPoolError, `not an AgentPoolError: ${String(err)}`);
    return err;
  }
  return assert.fail('loaded');
}

test('KDL nested 300 deep throws a bare RangeError: now ZAP_INVALID_CONFIG with file:line', () => {
  const err = loadError(nested(300));
  assert.equal(err.code, 'ZAP_INVALID_CONFIG');
  // Three levels above the `n` blocks (agents, agent, config): the 62nd `n {` is the 65th level, on line 4 + 62.
  assert.equal(err.message, `deep.kdl:66: blocks nested deeper than ${MAX_KDL_NESTING} levels`);
});

test('KDL nested 300 deep throws a bare RangeError: 100 000 levels are refused before parsing, at once', () => {
  const started = Date.now();
  const err = loadError(nested(100_000));
  assert.equal(err.code, 'ZAP_INVALID_CONFIG');
  assert.match(err.message, /^deep\.kdl:66: /);
  assert.ok(Date.now() - started < 10_000, 'hang guard');
});

test('KDL nested 300 deep throws a bare RangeError: exactly 64 levels still load; braces in strings and comments do not count', () => {
  const config = loadConfig(nested(MAX_KDL_NESTING - 3), 'ok.kdl');
  assert.equal(config.agents.length, 1);
  const quoted =
    `agents {\n  agent "a" {\n    unix-socket "/tmp/a.sock"\n    config {\n      s ` +
    `"${'{'.repeat(500)}"\n      /* ${'{'.repeat(500)} */\n    }\n  }\n}\n`;
  assert.equal(loadConfig(quoted, 'q.kdl').agents.length, 1);
});
