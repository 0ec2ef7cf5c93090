// Regression: the reference Rust proxy (zentinel-agent-protocol 0.6.54, tonic) awaits the response
// headers of ProcessStream before it writes its handshake. Our gRPC agent sent headers only with
// its first message, which answers the handshake: each side waited for the other, and the crate's
// proxy gave up after its 5 s connect timeout on every connection. Found by npm run test:reference.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { startGrpcAgent } from '../support/grpc-agents.js';
import { plainClient, plainHandshakeOk, plainStream } from '../support/grpc-plain-peer.js';

test('reference proxy deadlock: our gRPC agent sends response headers as soon as ProcessStream opens, before any message', async () => {
  const { endpoint } = await startGrpcAgent({ onRequestHeaders: () => undefined });
  const { call, next } = plainStream(plainClient(endpoint.replace(/^grpc:\/\//, '')));
  // Nothing written yet, as the crate does: the headers must come anyway (hang guard 5 s).
  let timer: NodeJS.Timeout | undefined;
  const headers = await Promise.race([
    once(call, 'metadata') as Promise<[grpc.Metadata]>,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no response headers within 5 s')), 5_000))),
  ]).finally(() => clearTimeout(timer));
  assert.ok(headers[0] !== undefined);
  // And the stream then works as before: the handshake is answered.
  call.write({ handshake: { supported_versions: [2, 1], proxy_id: 'zentinel-proxy', proxy_version: '0.6.54', config_json: '{}' } });
  const reply = await next((m) => m['message'] === 'handshake');
  assert.equal(reply['handshake']['success'], plainHandshakeOk('x')['handshake']['success']);
  call.end();
});
