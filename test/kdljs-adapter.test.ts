// Pins what node-lines.ts relies on in kdljs's internal lexer (reached only through
// src/config/kdljs-adapter.ts): the token names it switches on and their start lines. A kdljs
// upgrade that renames, splits or renumbers them fails here before config errors lose their lines.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { tokenizeKdl } from '../src/config/kdljs-adapter.js';

/** [token name, start line] of every token but whitespace. */
function structure(text: string): Array<[string, number | undefined]> {
  const { tokens, errors } = tokenizeKdl(text);
  assert.deepEqual(errors, []);
  return tokens.filter((t) => t.tokenType.name !== 'WhiteSpace').map((t) => [t.tokenType.name, t.startLine]);
}

test('kdljs adapter: the pinned kdljs is 0.3.x (re-check these token pins when upgrading)', () => {
  const require = createRequire(import.meta.url);
  const manifest = JSON.parse(readFileSync(require.resolve('kdljs/package.json'), 'utf8')) as { version: string };
  assert.match(manifest.version, /^0\.3\./);
});

test('kdljs adapter: nodes, braces, terminators, strings and comments carry their start lines', () => {
  const text = ['\uFEFFa "s" 1 { // note', '  b; c \\', '  d', '}', '/- e', 'f /* x /* nested */ */ g', 'h """', 'text', '"""'].join('\n');
  assert.deepEqual(structure(text), [
    ['BOM', 1],
    ['Identifier', 1],
    ['OpenQuote', 1],
    ['Unicode', 1],
    ['CloseQuote', 1],
    ['Float', 1],
    ['LeftBrace', 1],
    ['LineComment', 1],
    ['NewLine', 1],
    ['Identifier', 2],
    ['SemiColon', 2],
    ['Identifier', 2],
    ['EscLine', 2],
    ['NewLine', 2],
    ['Identifier', 3],
    ['NewLine', 3],
    ['RightBrace', 4],
    ['NewLine', 4],
    ['BlockComment', 5],
    ['Identifier', 5],
    ['NewLine', 5],
    ['Identifier', 6],
    ['OpenMultiLineComment', 6],
    ['MultiLineCommentContent', 6],
    ['OpenMultiLineComment', 6],
    ['MultiLineCommentContent', 6],
    ['CloseMultiLineComment', 6],
    ['MultiLineCommentContent', 6],
    ['CloseMultiLineComment', 6],
    ['Identifier', 6],
    ['NewLine', 6],
    ['Identifier', 7],
    ['MultiLineOpenQuote', 7],
    ['NewLine', 7],
    ['Unicode', 8],
    ['NewLine', 8],
    ['MultiLineCloseQuote', 9],
  ]);
});

test('kdljs adapter: text that does not lex reports errors instead of throwing', () => {
  const { errors } = tokenizeKdl('a \u0000 b');
  assert.ok(errors.length > 0);
});
