// The relay's pure helpers: close codes and reasons an agent chooses made sendable, ws frame errors
// mapped to close codes, and the upstream handshake's URL and headers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closeCodeOfFrameError, closeReason, isSendableCloseCode, sendableCloseCode } from '../../src/http/websocket-close.js';
import { upstreamHandshakeHeaders, upstreamWebSocketUrl } from '../../src/http/websocket-upstream.js';

describe('close codes and reasons from agents', () => {
  test('reserved and out-of-range codes become 1008; registered and private ones pass', () => {
    for (const code of [1000, 1001, 1008, 1011, 1014, 3000, 4001, 4999]) assert.equal(sendableCloseCode(code), code);
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5, Number.NaN]) {
      assert.equal(isSendableCloseCode(code), false, String(code));
      assert.equal(sendableCloseCode(code), 1008);
    }
  });

  test('a reason is cut to 123 UTF-8 bytes, never inside a character', () => {
    assert.equal(closeReason('policy'), 'policy');
    const cut = closeReason('é'.repeat(100));
    assert.equal(cut, 'é'.repeat(61));
    assert.ok(Buffer.byteLength(cut) <= 123);
    assert.equal(Buffer.byteLength(closeReason('x'.repeat(500))), 123);
  });

  test('ws frame errors map to the close code sent to the peer', () => {
    assert.equal(closeCodeOfFrameError({ code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }), 1009);
    assert.equal(closeCodeOfFrameError({ code: 'WS_ERR_INVALID_UTF8' }), 1007);
    assert.equal(closeCodeOfFrameError({ code: 'WS_ERR_INVALID_OPCODE' }), 1002);
    assert.equal(closeCodeOfFrameError(new Error('ECONNRESET')), undefined);
    assert.equal(closeCodeOfFrameError(null), undefined);
  });
});

describe('the upstream handshake', () => {
  test('the URL is the origin as ws:/wss: with the request path; a //host path cannot change the host', () => {
    assert.equal(upstreamWebSocketUrl('http://127.0.0.1:3000', '/chat?room=1').href, 'ws://127.0.0.1:3000/chat?room=1');
    assert.equal(upstreamWebSocketUrl('https://backend.internal', '/x').href, 'wss://backend.internal/x');
    const sneaky = upstreamWebSocketUrl('http://127.0.0.1:3000', '//evil.example/steal');
    assert.equal(sneaky.host, '127.0.0.1:3000');
    assert.equal(upstreamWebSocketUrl('http://127.0.0.1:3000', undefined).pathname, '/');
  });

  test('hop-by-hop, connection-named and handshake headers are left to ws; the rest is forwarded', () => {
    const out = upstreamHandshakeHeaders({
      host: 'gw.example',
      connection: 'Upgrade, X-Secret-Hop',
      upgrade: 'websocket',
      'x-secret-hop': '1',
      'keep-alive': 'timeout=5',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'chat',
      'sec-websocket-extensions': 'permessage-deflate',
      cookie: ['a=1', 'b=2'],
      'x-forwarded-for': '192.0.2.1',
      'content-length': 0,
      'x-count': 3,
      'x-absent': undefined,
    });
    assert.deepEqual(out, { host: 'gw.example', cookie: ['a=1', 'b=2'], 'x-forwarded-for': '192.0.2.1', 'x-count': '3' });
  });

  test("a client's connection header cannot strip the proxy's own headers (x-forwarded-*, host) from the handshake", () => {
    const out = upstreamHandshakeHeaders({
      host: 'gw.example',
      connection: 'Upgrade, X-Forwarded-For, x-forwarded-proto, Host',
      'x-forwarded-for': '192.0.2.1',
      'x-forwarded-proto': 'https',
    });
    assert.deepEqual(out, { host: 'gw.example', 'x-forwarded-for': '192.0.2.1', 'x-forwarded-proto': 'https' });
  });
});
