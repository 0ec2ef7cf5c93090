// Peer strings bound for logs and replies (issue: log injection): control characters become visible
// escapes, long values are cut with a marker, and nothing else changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerText, quotedPeerText, PEER_TEXT_MAX } from '../src/protocol/peer-text.js';

test('log injection: newlines, ANSI escapes and bidi overrides are written as escapes', () => {
  assert.equal(peerText('waf\nINFO forged line'), 'waf\\nINFO forged line');
  assert.equal(peerText('a\r\tb'), 'a\\r\\tb');
  assert.equal(peerText('\u001b[31mred'), '\\x1b[31mred');
  assert.equal(peerText('x\u0000y\u007fz\u0085'), 'x\\x00y\\x7fz\\x85');
  assert.equal(peerText('evil\u202egnp.exe'), 'evil\\u202egnp.exe');
  assert.equal(peerText('sep\u2028arator'), 'sep\\u2028arator');
});

test('log injection: printable text, including non-ASCII, passes unchanged', () => {
  assert.equal(peerText('edge-1.eu:waf_2'), 'edge-1.eu:waf_2');
  assert.equal(peerText('Grüße 日本 🙂'), 'Grüße 日本 🙂');
});

test('log injection: long values are cut at the cap and say how much was dropped', () => {
  const long = 'a'.repeat(PEER_TEXT_MAX + 50);
  assert.equal(peerText(long), `${'a'.repeat(PEER_TEXT_MAX)}…(+50 more)`);
  assert.equal(peerText('abcdef', 3), 'abc…(+3 more)');
  // The cut never leaves half a surrogate pair behind.
  assert.equal(peerText('ab🙂cd', 3), 'ab…(+4 more)');
});

test('log injection: non-strings are rendered, and quoting escapes the quote', () => {
  assert.equal(peerText(42), '42');
  assert.equal(peerText(null), 'null');
  assert.equal(quotedPeerText("it's\n"), "'it\\'s\\n'");
});
