// BodyMutation (§6.9.7, GV-17): SDK builders per direction and the proxy's application of a mutation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyBodyMutation, requestBodyMutation, responseBodyMutation } from '../src/protocol/body-mutation.js';
import { agentResponseFromWire, allowResponse } from '../src/protocol/agent-response.js';
import { jsonCodec, msgpackCodec } from '../src/protocol/payload-codec.js';

test('requestBodyMutation: the replacement text as is; "" drops; null passes', () => {
  assert.deepEqual(requestBodyMutation('a=1'), { data: 'a=1', chunkIndex: 0 });
  assert.deepEqual(requestBodyMutation('', 4), { data: '', chunkIndex: 4 });
  assert.deepEqual(requestBodyMutation(null), { data: null, chunkIndex: 0 });
});

test('responseBodyMutation: base64 of the bytes; "drop" → ""; null passes; zero bytes → ""', () => {
  assert.deepEqual(responseBodyMutation(Buffer.from('hello world')), { data: 'aGVsbG8gd29ybGQ=', chunkIndex: 0 });
  assert.deepEqual(responseBodyMutation(new Uint8Array([0, 255, 16, 128]), 2), { data: 'AP8QgA==', chunkIndex: 2 });
  assert.deepEqual(responseBodyMutation('drop'), { data: '', chunkIndex: 0 });
  assert.deepEqual(responseBodyMutation(null, 1), { data: null, chunkIndex: 1 });
  assert.deepEqual(responseBodyMutation(new Uint8Array(0)), { data: '', chunkIndex: 0 });
});

test('request replacement is UTF-8 encoded text, never base64-decoded', () => {
  assert.deepEqual(applyBodyMutation('request', requestBodyMutation('é=1'), Buffer.from('x')), {
    data: Buffer.from([0xc3, 0xa9, 0x3d, 0x31]),
    dropped: false,
  });
  assert.deepEqual(applyBodyMutation('request', requestBodyMutation('aGk='), Buffer.from('x')).data, Buffer.from('aGk='));
});

test('response replacement: padded or unpadded base64 decode to the bytes', () => {
  for (const data of ['AP8QgA==', 'AP8QgA']) {
    assert.deepEqual(applyBodyMutation('response', { data, chunkIndex: 0 }, Buffer.from('x')), {
      data: Buffer.from([0, 255, 16, 128]),
      dropped: false,
    });
  }
});

test('response replacement with invalid base64 is ignored with a reason; the original passes', () => {
  const original = Buffer.from('original');
  for (const data of ['%%%', 'abcde', 'aGk=aGk=']) {
    const applied = applyBodyMutation('response', { data, chunkIndex: 0 }, original);
    assert.equal(applied.data, original, data);
    assert.equal(applied.dropped, false);
    assert.equal(applied.ignored, 'response_body_mutation.data is not valid base64');
  }
});

test('no mutation or data null: the original chunk, same object, no ignored key', () => {
  const original = Buffer.from('body');
  for (const direction of ['request', 'response'] as const) {
    const none = applyBodyMutation(direction, null, original);
    assert.equal(none.data, original);
    assert.deepEqual(Object.keys(none), ['data', 'dropped']);
    assert.equal(applyBodyMutation(direction, { data: null, chunkIndex: 9 }, original).data, original);
  }
});

test('chunk_index mismatch does not stop the mutation (it applies to the answered chunk)', () => {
  assert.deepEqual(applyBodyMutation('response', responseBodyMutation(Buffer.from('z'), 7), Buffer.from('x')).data, Buffer.from('z'));
});

test('agent builder → reply bytes → proxy decode → applied bytes, both encodings and directions', () => {
  const replacement = Buffer.from([0x00, 0xff, 0x10, 0x80]);
  for (const codec of [jsonCodec, msgpackCodec]) {
    const reply = {
      ...allowResponse(),
      requestBodyMutation: requestBodyMutation('name=eve'),
      responseBodyMutation: responseBodyMutation(replacement, 1),
    };
    const decoded = agentResponseFromWire(codec.parseResponse(codec.encodeResponse(reply, 'c')).body);
    assert.deepEqual(applyBodyMutation('request', decoded.requestBodyMutation, Buffer.from('x')).data, Buffer.from('name=eve'));
    assert.deepEqual(applyBodyMutation('response', decoded.responseBodyMutation, Buffer.from('x')).data, replacement);
    assert.equal(decoded.responseBodyMutation?.chunkIndex, 1, codec.encoding);
  }
});
