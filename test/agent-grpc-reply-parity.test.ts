// ProcessStream and unary ProcessEvent answer through the same reply code (grpc-reply.ts and the
// dispatch core's Block 500 rule): the same bytes in, the same answer out, on both rpcs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGrpcAgent } from './support/grpc-agents.js';
import { plainClient, plainStream, plainUnary, type Msg } from './support/grpc-plain-peer.js';

const handlerFailures: string[] = [];

async function agent(): Promise<string> {
  const { endpoint, server } = await startGrpcAgent({
    onRequestHeaders: (e) => {
      if (e.uri === '/throw') throw new Error('boom');
      // JSON text cannot carry a BigInt: the reply fails only at encoding.
      if (e.uri === '/unsendable') return { audit: { custom: { n: 10n as unknown as string } } };
      return {};
    },
  });
  server.on('handlerError', (_err: unknown, cid: string) => handlerFailures.push(cid));
  return endpoint.replace('grpc://', '');
}

const headers = (cid: string, uri: string): Msg => ({
  request_headers: {
    metadata: { correlation_id: cid, request_id: cid, client_ip: '192.0.2.1', client_port: 1 },
    method: 'GET',
    uri,
    headers: [],
  },
});
// Decodes as protobuf, not as an event: context_json is no JSON.
const badGuardrail = (cid: string): Msg => ({ guardrail: { correlation_id: cid, content: 'x', context_json: '{not json' } });

test('gRPC reply parity: an undecodable event is answered Allow for its cid on ProcessStream and ProcessEvent alike', async () => {
  const client = plainClient(await agent());
  const unary = await plainUnary(client, badGuardrail('g-unary'));
  assert.equal(unary.error, null);
  assert.equal(unary.reply!['response']['correlation_id'], 'g-unary');
  assert.equal(unary.reply!['response']['decision'], 'allow');

  const s = plainStream(client);
  s.call.write({ handshake: { supported_versions: [2] } });
  assert.equal((await s.next())['handshake']['success'], true);
  s.call.write(badGuardrail('g-stream'));
  const streamed = (await s.next())['response'];
  assert.equal(streamed['correlation_id'], 'g-stream');
  assert.equal(streamed['decision'], 'allow');
  s.call.end();
  assert.equal((await s.status).code, 0);
});

test('gRPC reply parity: a throwing handler and an unsendable reply are answered Block 500 once, on both rpcs', async () => {
  handlerFailures.length = 0;
  const client = plainClient(await agent());
  const blocked = (m: Msg | undefined): unknown => m?.['response']?.['block']?.['status'];
  for (const uri of ['/throw', '/unsendable']) {
    const unary = await plainUnary(client, headers(`u${uri}`, uri));
    assert.equal(unary.error, null);
    assert.equal(blocked(unary.reply), 500, `ProcessEvent ${uri}`);
  }
  const s = plainStream(client);
  s.call.write({ handshake: { supported_versions: [2] } });
  await s.next();
  s.call.write(headers('s/throw', '/throw'));
  s.call.write(headers('s/unsendable', '/unsendable'));
  s.call.write(headers('s/ok', '/ok'));
  const replies = [await s.next(), await s.next(), await s.next()].map((m) => m['response'] as Msg);
  s.call.end();
  assert.equal((await s.status).code, 0);
  const byCid = new Map(replies.map((r) => [r['correlation_id'] as string, r]));
  assert.equal(byCid.size, 3, 'one reply per event');
  assert.equal(blocked({ response: byCid.get('s/throw') }), 500);
  assert.equal(blocked({ response: byCid.get('s/unsendable') }), 500);
  assert.equal(byCid.get('s/ok')!['decision'], 'allow');
  assert.deepEqual(s.received, [], 'nothing more than one reply per event');
  assert.deepEqual(handlerFailures.sort(), ['s/throw', 's/unsendable', 'u/throw', 'u/unsendable']);
});
