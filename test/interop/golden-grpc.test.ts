// Golden vectors of the gRPC transport (spec §8, §15 GV-04, GV-05, GV-06, GV-07, GV-20 gRPC part,
// GV-21 gRPC part, GV-27). Each message is shown as it travels inside a gRPC stream: the 5-byte
// prefix (compression flag 0 + u32 BE length) followed by the protobuf bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import { loadProtoDefinition, protoType } from '../../src/transport/proto-schema.js';
import {
  agentResponseFromProto,
  agentResponseToProto,
  agentToProxyFromProto,
  cancelToProto,
  configUpdateToProto,
  eventToProto,
  metricsToProto,
  pingToProto,
  proxyHandshakeToProto,
  proxyToAgentFromProto,
  type PbAgentToProxy,
  type PbProxyToAgent,
} from '../../src/protocol/proto-mapping.js';
import type {
  AgentResponse,
  CancelReason,
  ConfigUpdateRequest,
  RequestHeadersEvent,
  WebSocketFrameEvent,
} from '../../src/protocol/types.js';
import { CANCEL_REASONS } from '../../src/protocol/types.js';
import { allowResponse } from '../../src/protocol/agent-response.js';

const T0 = 1_767_225_600_000;
const T0_VARINT = '80 d0 ea b6 b7 33';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}
function ascii(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}
/** A length as a protobuf varint, in hex. */
function len(bytesHex: string): string {
  let n = hex(bytesHex).length;
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out).toString('hex');
}

/** gRPC length-prefixed message (§8.1): flag 0, u32 BE length, bytes. */
function grpcMessage(bytes: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, bytes]);
}

function unprefix(message: Buffer): Buffer {
  assert.equal(message[0], 0);
  assert.equal(message.readUInt32BE(1), message.length - 5);
  return message.subarray(5);
}

const definition = loadProtoDefinition();
const P2A = definition['zentinel.agent.v2.ProxyToAgent'] as MessageTypeDefinition<PbProxyToAgent, PbProxyToAgent>;
const A2P = definition['zentinel.agent.v2.AgentToProxy'] as MessageTypeDefinition<PbAgentToProxy, PbAgentToProxy>;

/** Encode with protobufjs directly and with the proto-loader serializer grpc-js uses; both must agree. */
function encodeP2A(obj: PbProxyToAgent): Buffer {
  const T = protoType('ProxyToAgent');
  const direct = Buffer.from(T.encode(T.fromObject(obj as Record<string, unknown>)).finish());
  assert.deepEqual(P2A.serialize(obj), direct);
  return grpcMessage(direct);
}
function encodeA2P(obj: PbAgentToProxy): Buffer {
  const T = protoType('AgentToProxy');
  const direct = Buffer.from(T.encode(T.fromObject(obj as Record<string, unknown>)).finish());
  assert.deepEqual(A2P.serialize(obj), direct);
  return grpcMessage(direct);
}

// ---------------------------------------------------------------------------------------------
// GV-04 Cancel, one vector per reason

const GV04: Record<CancelReason, string> = {
  client_disconnect: `00 00 00 00 12 4a 10 0a 05 72 65 71 2d 37 10 01 18 ${T0_VARINT}`,
  timeout: `00 00 00 00 12 4a 10 0a 05 72 65 71 2d 37 10 02 18 ${T0_VARINT}`,
  blocked_by_agent: `00 00 00 00 12 4a 10 0a 05 72 65 71 2d 37 10 03 18 ${T0_VARINT}`,
  upstream_error: `00 00 00 00 12 4a 10 0a 05 72 65 71 2d 37 10 04 18 ${T0_VARINT}`,
  proxy_shutdown: `00 00 00 00 12 4a 10 0a 05 72 65 71 2d 37 10 05 18 ${T0_VARINT}`,
  manual: `00 00 00 00 12 4a 10 0a 05 72 65 71 2d 37 10 06 18 ${T0_VARINT}`,
};

for (const reason of CANCEL_REASONS) {
  test(`GV-04: gRPC Cancel req-7 ${reason} → reason ${CANCEL_REASONS.indexOf(reason) + 1}, both directions`, () => {
    const cancel = { correlationId: 'req-7', reason, timestampMs: T0 };
    const bytes = encodeP2A(cancelToProto(cancel));
    assert.deepEqual(bytes, hex(GV04[reason]));
    assert.deepEqual(proxyToAgentFromProto(P2A.deserialize(unprefix(bytes))), { type: 'cancel', cancel });
  });
}

test('GV-04: blocking_agent_id travels with blocked_by_agent (field 4), manual_reason with manual (field 5)', () => {
  const blocked = { correlationId: 'req-7', reason: 'blocked_by_agent' as const, timestampMs: T0, blockingAgentId: 'waf' };
  const bytes = encodeP2A(cancelToProto(blocked));
  assert.deepEqual(bytes, hex(`00 00 00 00 17 4a 15 0a 05 72 65 71 2d 37 10 03 18 ${T0_VARINT} 22 03 ${ascii('waf')}`));
  assert.deepEqual(proxyToAgentFromProto(P2A.deserialize(unprefix(bytes))), { type: 'cancel', cancel: blocked });

  const manual = { correlationId: 'req-7', reason: 'manual' as const, timestampMs: T0, manualReason: 'op' };
  const manualBytes = encodeP2A(cancelToProto(manual));
  assert.deepEqual(manualBytes, hex(`00 00 00 00 16 4a 14 0a 05 72 65 71 2d 37 10 06 18 ${T0_VARINT} 2a 02 ${ascii('op')}`));
  assert.deepEqual(proxyToAgentFromProto(P2A.deserialize(unprefix(manualBytes))), { type: 'cancel', cancel: manual });

  // With another reason the optional strings do not travel.
  const other = cancelToProto({ correlationId: 'req-7', reason: 'timeout', timestampMs: T0, blockingAgentId: 'waf', manualReason: 'x' });
  assert.deepEqual(encodeP2A(other), hex(GV04.timeout));
});

test('GV-04: reason 0 (unspecified) reads as null', () => {
  const bytes = hex(`0a 05 72 65 71 2d 37 18 ${T0_VARINT}`);
  const msg = P2A.deserialize(Buffer.concat([hex('4a 0e'), bytes]));
  assert.deepEqual(proxyToAgentFromProto(msg), { type: 'cancel', cancel: { correlationId: 'req-7', reason: null, timestampMs: T0 } });
});

// ---------------------------------------------------------------------------------------------
// GV-05 handshake, GV-06 ping

test('GV-05: gRPC handshake, proxy_version "1.0.0", no config', () => {
  const expected = hex(`00 00 00 00 20 0a 1e 0a 01 02 12 0e ${ascii('zentinel-proxy')} 1a 05 ${ascii('1.0.0')} 22 02 7b 7d`);
  const bytes = encodeP2A(proxyHandshakeToProto('1.0.0', null));
  assert.deepEqual(bytes, expected);
  assert.deepEqual(proxyToAgentFromProto(P2A.deserialize(unprefix(bytes))), {
    type: 'handshake',
    handshake: { supportedVersions: [2], proxyId: 'zentinel-proxy', proxyVersion: '1.0.0', config: {}, supportedEncodings: [] },
  });
});

test('GV-06: gRPC Ping seq 1', () => {
  const bytes = encodeP2A(pingToProto({ sequence: 1, timestampMs: T0 }));
  assert.deepEqual(bytes, hex(`00 00 00 00 0b 5a 09 08 01 10 ${T0_VARINT}`));
  assert.deepEqual(proxyToAgentFromProto(P2A.deserialize(unprefix(bytes))), { type: 'ping', ping: { sequence: 1, timestampMs: T0 } });
});

// ---------------------------------------------------------------------------------------------
// GV-07 AgentToProxy response

function emptyResponse(correlationId: string, decision: AgentResponse['decision']): AgentResponse {
  return { ...allowResponse(), decision, correlationId };
}

test('GV-07: decode Allow for req-7 (and our agent encodes the same bytes)', () => {
  const bytes = hex(`00 00 00 00 0b 12 09 0a 05 ${ascii('req-7')} 12 00`);
  const decoded = agentToProxyFromProto(A2P.deserialize(unprefix(bytes)));
  const expected = emptyResponse('req-7', { type: 'allow' });
  assert.deepEqual(decoded, { type: 'response', correlationId: 'req-7', response: expected });
  assert.deepEqual(encodeA2P(agentResponseToProto(expected, 'req-7')), bytes);
});

test('GV-07: decode Block 403 "Forbidden", headers null, for req-8 (and encode back)', () => {
  const bytes = hex(`00 00 00 00 19 12 17 0a 05 ${ascii('req-8')} 1a 0e 08 93 03 12 09 ${ascii('Forbidden')}`);
  const decoded = agentToProxyFromProto(A2P.deserialize(unprefix(bytes)));
  const expected = emptyResponse('req-8', { type: 'block', status: 403, body: 'Forbidden', headers: null });
  assert.deepEqual(decoded, { type: 'response', correlationId: 'req-8', response: expected });
  assert.deepEqual(encodeA2P(agentResponseToProto(expected, 'req-8')), bytes);
  assert.deepEqual(agentResponseFromProto(A2P.deserialize(unprefix(bytes)).response ?? {}), expected);
});

// ---------------------------------------------------------------------------------------------
// GV-21 ConfigUpdateRequest: the five update_type variants, oneof fields 10–14 (tags 52 5a 62 6a 72)

const CU_HEAD = `0a 05 ${ascii('cu-42')} 10 ${T0_VARINT}`; // request_id, timestamp_ms: 14 bytes

const GV21: Array<[name: string, request: ConfigUpdateRequest, hexBytes: string]> = [
  [
    'request_reload',
    { updateType: { type: 'request_reload' }, requestId: 'cu-42', timestampMs: T0 },
    `00 00 00 00 12 2a 10 ${CU_HEAD} 52 00`,
  ],
  [
    'rule_update',
    {
      updateType: {
        type: 'rule_update',
        ruleSet: 'crs',
        rules: [{ id: 'r1', priority: 10, definition: { match: '/admin' }, enabled: true, description: null, tags: ['admin'] }],
        removeRules: ['r0'],
      },
      requestId: 'cu-42',
      timestampMs: T0,
    },
    `00 00 00 00 40 2a 3e ${CU_HEAD} 5a 2e 0a 03 ${ascii('crs')}` +
      ` 12 23 0a 02 ${ascii('r1')} 10 0a 1a 12 ${ascii('{"match":"/admin"}')} 20 01 32 05 ${ascii('admin')}` +
      ` 1a 02 ${ascii('r0')}`,
  ],
  [
    'list_update',
    { updateType: { type: 'list_update', listId: 'blocked-ips', add: ['198.51.100.7'], remove: [] }, requestId: 'cu-42', timestampMs: T0 },
    `00 00 00 00 2d 2a 2b ${CU_HEAD} 62 1b 0a 0b ${ascii('blocked-ips')} 12 0c ${ascii('198.51.100.7')}`,
  ],
  [
    'restart_required',
    { updateType: { type: 'restart_required', reason: 'upgrade', gracePeriodMs: 5000 }, requestId: 'cu-42', timestampMs: T0 },
    `00 00 00 00 1e 2a 1c ${CU_HEAD} 6a 0c 0a 07 ${ascii('upgrade')} 10 88 27`,
  ],
  [
    'config_error',
    { updateType: { type: 'config_error', error: 'bad port', field: 'listen' }, requestId: 'cu-42', timestampMs: T0 },
    `00 00 00 00 24 2a 22 ${CU_HEAD} 72 12 0a 08 ${ascii('bad port')} 12 06 ${ascii('listen')}`,
  ],
  [
    'config_error without field',
    { updateType: { type: 'config_error', error: 'bad port', field: null }, requestId: 'cu-42', timestampMs: T0 },
    `00 00 00 00 1c 2a 1a ${CU_HEAD} 72 0a 0a 08 ${ascii('bad port')}`,
  ],
];

for (const [name, request, hexBytes] of GV21) {
  test(`GV-21: ConfigUpdateRequest ${name} ↔ its gRPC bytes`, () => {
    const bytes = encodeA2P(configUpdateToProto(request));
    assert.deepEqual(bytes, hex(hexBytes));
    assert.deepEqual(agentToProxyFromProto(A2P.deserialize(unprefix(bytes))), { type: 'config_update', configUpdate: request });
  });
}

// ---------------------------------------------------------------------------------------------
// GV-27 RequestHeaders / WebSocket mapping

test('GV-27: RequestHeaders → two Header entries in order, http_version = protocol, timestamp_ms from timestamp', () => {
  const event: RequestHeadersEvent = {
    metadata: {
      correlationId: 'req-7',
      requestId: 'req-7',
      clientIp: '192.0.2.10',
      clientPort: 51514,
      serverName: 'shop.example',
      protocol: 'HTTP/2',
      tlsVersion: 'TLSv1.3',
      tlsCipher: 'TLS_AES_128_GCM_SHA256',
      routeId: 'checkout',
      upstreamId: null,
      timestamp: '2026-01-01T00:00:00.250Z',
    },
    method: 'POST',
    uri: '/cart?step=2',
    headers: { host: ['shop.example'], accept: ['text/html', 'application/json'] },
  };
  const metadata =
    `0a 05 ${ascii('req-7')} 12 05 ${ascii('req-7')} 1a 0a ${ascii('192.0.2.10')} 20 ba 92 03` +
    ` 2a 0c ${ascii('shop.example')} 32 06 ${ascii('HTTP/2')} 3a 07 ${ascii('TLSv1.3')} 42 08 ${ascii('checkout')}` +
    ` 50 fa d1 ea b6 b7 33`; // 1767225600250; tls_cipher has no field, upstream_id unset
  const headers =
    `2a 14 0a 04 ${ascii('host')} 12 0c ${ascii('shop.example')}` +
    ` 2a 13 0a 06 ${ascii('accept')} 12 09 ${ascii('text/html')}` +
    ` 2a 1a 0a 06 ${ascii('accept')} 12 10 ${ascii('application/json')}`;
  const inner =
    `0a ${len(metadata)} ${metadata} 12 04 ${ascii('POST')} 1a 0c ${ascii('/cart?step=2')}` + ` 22 06 ${ascii('HTTP/2')} ${headers}`;
  const expected = grpcMessage(hex(`12 ${len(inner)} ${inner}`));
  const bytes = encodeP2A(eventToProto('request_headers', event, 'req-7', 0));
  assert.deepEqual(bytes, expected);

  const decoded = proxyToAgentFromProto(P2A.deserialize(unprefix(bytes)));
  assert.deepEqual(decoded, {
    type: 'event',
    kind: 'request_headers',
    correlationId: 'req-7',
    event: { ...event, metadata: { ...event.metadata, tlsCipher: null } },
  });
});

test('GV-27: WebSocket continuation → frame_type 0 (not written); text → 1; continuation reads back', () => {
  const frame: WebSocketFrameEvent = {
    correlationId: 'req-9',
    opcode: 'continuation',
    data: Buffer.from('hello'),
    clientToServer: true,
    frameIndex: 3,
    fin: false,
    routeId: 'chat',
    clientIp: '192.0.2.10',
  };
  const continuation = encodeP2A(eventToProto('websocket_frame', frame, 'req-9', T0));
  assert.deepEqual(continuation, hex(`00 00 00 00 12 32 10 0a 05 ${ascii('req-9')} 10 01 22 05 ${ascii('hello')}`));
  const text = encodeP2A(eventToProto('websocket_frame', { ...frame, opcode: 'text' }, 'req-9', T0));
  assert.deepEqual(text, hex(`00 00 00 00 14 32 12 0a 05 ${ascii('req-9')} 10 01 18 01 22 05 ${ascii('hello')}`));

  const decoded = proxyToAgentFromProto(P2A.deserialize(unprefix(continuation)));
  assert.deepEqual(decoded, {
    type: 'event',
    kind: 'websocket_frame',
    correlationId: 'req-9',
    // frame_index, fin, route_id and client_ip have no field on gRPC.
    event: { ...frame, frameIndex: 0, fin: true, routeId: null, clientIp: '' },
  });
});

// ---------------------------------------------------------------------------------------------
// GV-20 gRPC part: histogram `le` = +Infinity as an IEEE double

test('GV-20: gRPC histogram bucket le = +Infinity travels as the double 00 00 00 00 00 00 f0 7f', () => {
  const report = {
    agentId: 'waf',
    timestampMs: T0,
    intervalMs: 10_000,
    counters: [],
    gauges: [],
    histograms: [
      {
        name: 'h',
        labels: {},
        sum: 0.5,
        count: 3,
        buckets: [
          { le: 0.5, count: 2 },
          { le: Number.POSITIVE_INFINITY, count: 3 },
        ],
      },
    ],
  };
  const histogram =
    `0a 01 ${ascii('h')} 21 00 00 00 00 00 00 e0 3f 28 03` +
    ` 32 0b 09 00 00 00 00 00 00 e0 3f 10 02` +
    ` 32 0b 09 00 00 00 00 00 00 f0 7f 10 03`;
  const inner = `0a 03 ${ascii('waf')} 10 ${T0_VARINT} 18 90 4e 32 ${len(histogram)} ${histogram}`;
  const bytes = encodeA2P(metricsToProto(report));
  assert.deepEqual(bytes, grpcMessage(hex(`22 ${len(inner)} ${inner}`)));
  const decoded = agentToProxyFromProto(A2P.deserialize(unprefix(bytes)));
  assert.deepEqual(decoded, { type: 'metrics', metrics: report });
  assert.equal(decoded.type === 'metrics' && decoded.metrics.histograms[0]?.buckets[1]?.le, Number.POSITIVE_INFINITY);
});
