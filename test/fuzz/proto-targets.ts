// gRPC fuzz targets: mutated ProxyToAgent / AgentToProxy bytes through the transport's byte codec
// (src/transport/grpc-codec.ts, which turns protobufjs failures into ZAP_PROTOCOL_ERROR) and then the
// proto → domain mapping of src/protocol (proto-*.ts), whose results must clone and re-encode.
import { decodeAgentToProxy, decodeProxyToAgent, encodeAgentToProxy, encodeProxyToAgent } from '../../src/transport/grpc-codec.js';
import { agentToProxyFromProto, proxyToAgentFromProto } from '../../src/protocol/proto-mapping.js';
import { eventToProto } from '../../src/protocol/proto-events.js';
import {
  cancelToProto,
  flowControlToProto,
  healthToProto,
  logToProto,
  pingToProto,
  pongToProto,
} from '../../src/protocol/proto-control.js';
import { handshakeResponseToProto, proxyHandshakeToProto } from '../../src/protocol/proto-handshake.js';
import { agentResponseToProto } from '../../src/protocol/proto-response.js';
import { metricsToProto } from '../../src/protocol/proto-metrics.js';
import { configUpdateToProto } from '../../src/protocol/proto-config-update.js';
import { allowResponse } from '../../src/protocol/agent-response.js';
import { ALL_EVENT_KINDS, sampleDomainEvent } from '../support/events.js';
import { blockResponse, capabilities, challengeResponse, health, metrics, redirectResponse } from './codec-corpus.js';

/** Same shape as the codec targets: a name, encoded seeds, and a reader that may only throw AgentPoolError. */
export interface BytesTarget {
  name: string;
  seeds: Buffer[];
  run(payload: Buffer): void;
}

export function protoTargets(): BytesTarget[] {
  const toAgent = [
    ...ALL_EVENT_KINDS.map((k) => eventToProto(k, sampleDomainEvent(k, 'c-1'), 'c-1', 1)),
    cancelToProto({ correlationId: 'c-1', reason: 'timeout', timestampMs: 1 }),
    pingToProto({ sequence: 1, timestampMs: 1 }),
    proxyHandshakeToProto('1.0.0', { mode: 'strict' }),
  ].map(encodeProxyToAgent);
  const toProxy = [
    ...[allowResponse(), blockResponse, redirectResponse, challengeResponse].map((r) => agentResponseToProto(r, 'c-1')),
    healthToProto(health),
    metricsToProto(metrics),
    flowControlToProto({ correlationId: 'c-1', action: 1, bufferAvailable: 4096, timestampMs: 1 }),
    configUpdateToProto({
      updateType: { type: 'list_update', listId: 'ips', add: ['1.2.3.4'], remove: [] },
      requestId: 'u-1',
      timestampMs: 1,
    }),
    pongToProto({ sequence: 1, pingTimestampMs: 1, timestampMs: 2 }),
    logToProto({ level: 2, message: 'hello', correlationId: 'c-1', fields: { k: 'v' }, timestampMs: 1 }),
    handshakeResponseToProto({ protocolVersion: 2, capabilities, success: true, error: null, encoding: 'json' }),
  ].map(encodeAgentToProxy);
  return [
    { name: 'grpc:proxy-to-agent', seeds: toAgent, run: (p) => void structuredClone(proxyToAgentFromProto(decodeProxyToAgent(p))) },
    { name: 'grpc:agent-to-proxy', seeds: toProxy, run: (p) => void structuredClone(agentToProxyFromProto(decodeAgentToProxy(p))) },
  ];
}
