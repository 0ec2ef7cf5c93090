// The gRPC byte codec (src/transport/grpc-codec.ts) writes the mapping's objects straight into
// protobufjs' encoder, skipping fromObject; these tests prove the bytes equal the fromObject path
// (what grpc-js' proto-loader serializer writes) for every message we send, and that the
// event encoder and the Configure reply id work on those bytes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageTypeDefinition } from '@grpc/proto-loader';
import { loadProtoDefinition } from '../src/transport/proto-schema.js';
import {
  agentResponseToProto,
  cancelToProto,
  configUpdateToProto,
  eventToProto,
  flowControlToProto,
  handshakeResponseToProto,
  healthToProto,
  logToProto,
  metricsToProto,
  pingToProto,
  pongToProto,
  proxyHandshakeToProto,
  type PbAgentToProxy,
  type PbProxyToAgent,
} from '../src/protocol/proto-mapping.js';
import { defaultCapabilities } from '../src/protocol/capabilities.js';
import { toAgentResponse } from '../src/agent/reply.js';
import { CANCEL_REASONS } from '../src/protocol/types.js';
import {
  CONFIGURE_TAG,
  configureReplyId,
  decodeAgentToProxy,
  decodeProxyToAgent,
  encodeAgentToProxy,
  encodeProxyToAgent,
} from '../src/transport/grpc-codec.js';
import { grpcEventEncoder } from '../src/transport/grpc-event-encoder.js';
import { ALL_EVENT_KINDS, requestHeaders, sampleDomainEvent } from './support/events.js';

const definition = loadProtoDefinition();
const P2A = definition['zentinel.agent.v2.ProxyToAgent'] as MessageTypeDefinition<PbProxyToAgent, PbProxyToAgent>;
const A2P = definition['zentinel.agent.v2.AgentToProxy'] as MessageTypeDefinition<PbAgentToProxy, PbAgentToProxy>;
const NOW = 1_767_225_600_000;

describe('gRPC codec', () => {
  test('ProxyToAgent: our bytes = the proto-loader serializer bytes, for every message the proxy sends', () => {
    const messages: PbProxyToAgent[] = [
      proxyHandshakeToProto('1.2.3', { a: [1, 2] }),
      proxyHandshakeToProto('1.2.3', null),
      pingToProto({ sequence: 7, timestampMs: NOW }),
      ...CANCEL_REASONS.map((reason) =>
        cancelToProto({ correlationId: 'c', reason, timestampMs: NOW, blockingAgentId: 'waf', manualReason: 'm' }),
      ),
      ...ALL_EVENT_KINDS.map((kind) => eventToProto(kind, sampleDomainEvent(kind, `c-${kind}`), `c-${kind}`, NOW)),
      eventToProto('request_headers', requestHeaders('h', '/x', { accept: ['a', 'b'], empty: [''] }), 'h', NOW),
      eventToProto(
        'request_body_chunk',
        { ...sampleDomainEvent('request_body_chunk', 'z'), data: Buffer.alloc(0), totalSize: 0 },
        'z',
        NOW,
      ),
    ];
    for (const msg of messages) {
      const ours = encodeProxyToAgent(msg);
      assert.deepEqual(ours, Buffer.from(P2A.serialize(msg)), JSON.stringify(msg));
      assert.deepEqual(decodeProxyToAgent(ours), P2A.deserialize(ours));
    }
  });

  test('AgentToProxy: our bytes = the proto-loader serializer bytes, for every message the agent sends', () => {
    const responses = [
      toAgentResponse(undefined),
      toAgentResponse({ decision: { type: 'block', status: 403, body: null, headers: { a: '1', b: '2' } } }),
      toAgentResponse({ decision: { type: 'redirect', url: 'https://x/', status: 301 }, needsMore: true }),
      toAgentResponse({
        decision: { type: 'challenge', challengeType: 'js', params: {} },
        audit: { confidence: 0.25, custom: { k: 'v', n: 3 } as never },
      }),
      toAgentResponse({
        requestHeaders: [
          { op: 'set', name: 'a', value: 'b' },
          { op: 'remove', name: 'c' },
        ],
        responseHeaders: [{ op: 'add', name: 'd', value: '' }],
      }),
      { ...toAgentResponse(undefined), processingTimeMs: 0 },
    ];
    const messages: PbAgentToProxy[] = [
      ...responses.map((r, i) => agentResponseToProto(r, `r${i}`)),
      handshakeResponseToProto({
        protocolVersion: 2,
        capabilities: defaultCapabilities({ agentId: 'a' }),
        success: true,
        error: null,
        encoding: 'json',
      }),
      pongToProto({ sequence: 0, pingTimestampMs: NOW, timestampMs: NOW + 1 }),
      healthToProto({
        agentId: 'a',
        state: 4,
        message: null,
        load: {
          inFlight: 1,
          queueDepth: 0,
          avgLatencyMs: 1.5,
          p50LatencyMs: 1,
          p95LatencyMs: 2,
          p99LatencyMs: 3,
          requestsProcessed: 9,
          requestsRejected: 0,
          requestsTimedOut: 0,
        },
        resources: { cpuPercent: 0, memoryBytes: null, memoryLimit: 1, activeThreads: null, openFds: 3, fdLimit: null, connections: 0 },
        validUntilMs: 0,
        timestampMs: NOW,
        disabledFeatures: ['websocket'],
        timeoutMultiplier: 2,
        drainEtaMs: null,
        unhealthyReason: 'x',
        recoverable: false,
      }),
      metricsToProto({
        agentId: 'a',
        timestampMs: NOW,
        intervalMs: 1,
        counters: [{ name: 'c', labels: { l: 'v' }, value: 1 }],
        gauges: [{ name: 'g', help: 'h', labels: {}, value: -0.5 }],
        histograms: [
          {
            name: 'h',
            labels: {},
            sum: 1,
            count: 2,
            buckets: [
              { le: 0.5, count: 1 },
              { le: Infinity, count: 2 },
            ],
          },
        ],
      } as never),
      flowControlToProto({ correlationId: null, action: 3, bufferAvailable: 0, timestampMs: NOW }),
      configUpdateToProto({
        updateType: {
          type: 'rule_update',
          ruleSet: 's',
          rules: [{ id: 'r', priority: -1, definition: { m: 1 }, enabled: true, description: null, tags: [] }],
          removeRules: ['x'],
        },
        requestId: 'q',
        timestampMs: NOW,
      }),
      logToProto({ level: 4, message: 'm', fields: { a: 'b' }, timestampMs: NOW }),
    ];
    for (const msg of messages) {
      const ours = encodeAgentToProxy(msg);
      assert.deepEqual(ours, Buffer.from(A2P.serialize(msg)), JSON.stringify(msg));
      assert.deepEqual(decodeAgentToProxy(ours), A2P.deserialize(ours));
    }
  });

  test('bytes that are not a message decode to ZAP_PROTOCOL_ERROR', () => {
    assert.throws(() => decodeAgentToProxy(Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f])), { code: 'ZAP_PROTOCOL_ERROR' });
    assert.throws(() => decodeProxyToAgent(Buffer.from([0x0a, 0x05, 0x01])), { code: 'ZAP_PROTOCOL_ERROR' });
    assert.deepEqual(decodeAgentToProxy(Buffer.alloc(0)).message, undefined); // empty = valid, no member
  });

  test('event encoder: ProxyToAgent bytes without the gRPC prefix; Configure answers by config_version', () => {
    const bytes = grpcEventEncoder.encode('request_headers', requestHeaders('e1'), 'e1');
    assert.equal(decodeProxyToAgent(bytes).request_headers?.metadata?.correlation_id, 'e1');
    assert.equal(configureReplyId(bytes), undefined);
    const cfg = grpcEventEncoder.encode(
      'configure',
      { correlationId: 'push-3', config: {}, configVersion: 'v9', isInitial: false },
      'push-3',
    );
    assert.equal(cfg[0], CONFIGURE_TAG);
    assert.equal(configureReplyId(cfg), 'v9');
    const unversioned = grpcEventEncoder.encode(
      'configure',
      { correlationId: 'push-4', config: {}, configVersion: null, isInitial: false },
      'push-4',
    );
    assert.equal(configureReplyId(unversioned), 'push-4');
  });
});
