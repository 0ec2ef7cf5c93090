// Entry point of the gRPC domain ↔ proto mapping (spec §8.5): the two stream dispatchers, plus
// re-exports of the per-family files so transports import from one place.
//
// Conventions of every mapping function:
// - works on the plain objects of @grpc/proto-loader under PROTO_LOADER_OPTIONS (transport/proto-schema.ts);
// - `…ToProto` returns the stream envelope (ProxyToAgent / AgentToProxy / ProxyControl) ready to
//   write; `…FromProto` takes the inner message, the dispatchers below take the envelope;
// - encoders write proto3 defaults as `undefined` (canonical bytes, as a Rust peer writes them);
// - decoders are lenient about absent/null fields and reuse the decoded object's arrays and maps;
//   they throw ZAP_PROTOCOL_ERROR only for JSON text fields that do not parse and for a
//   ConfigUpdateRequest without update_type (event errors carry the cid in `correlationId`).
import type {
  AgentResponse,
  CancelMessage,
  ConfigUpdateRequest,
  FlowControlSignal,
  HandshakeRequest,
  HandshakeResponse,
  HealthStatus,
  LogMessage,
  MetricsReport,
  PingMessage,
  PongMessage,
} from './types.js';
import type { PbAgentToProxy, PbProxyToAgent } from './proto-messages.js';
import { eventFromProto, type ProtoEvent } from './proto-events.js';
import { handshakeRequestFromProto, handshakeResponseFromProto } from './proto-handshake.js';
import { agentResponseFromProto } from './proto-response.js';
import { cancelFromProto, flowControlFromProto, healthFromProto, logFromProto, pingFromProto, pongFromProto } from './proto-control.js';
import { metricsFromProto } from './proto-metrics.js';
import { configUpdateFromProto } from './proto-config-update.js';
import { str } from './proto-values.js';

export * from './proto-events.js';
export * from './proto-handshake.js';
export * from './proto-response.js';
export * from './proto-control.js';
export * from './proto-metrics.js';
export * from './proto-config-update.js';
export type * from './proto-messages.js';

/** What the agent side receives on ProcessStream / ProcessEvent. */
export type ProxyToAgentMessage =
  | { type: 'handshake'; handshake: HandshakeRequest }
  | ProtoEvent
  | { type: 'cancel'; cancel: CancelMessage }
  | { type: 'ping'; ping: PingMessage }
  | { type: 'unknown' };

/**
 * Agent side: decode one ProxyToAgent. Events come back as {type:'event', kind, correlationId,
 * event}, `correlationId` being the cid to answer with. An empty message (or a member this schema
 * does not know) is {type:'unknown'}.
 */
export function proxyToAgentFromProto(msg: PbProxyToAgent): ProxyToAgentMessage {
  const which = msg.message;
  if (which === 'handshake' || (which === undefined && msg.handshake)) {
    return { type: 'handshake', handshake: handshakeRequestFromProto(msg.handshake ?? {}) };
  }
  if (which === 'cancel' || (which === undefined && msg.cancel)) {
    return { type: 'cancel', cancel: cancelFromProto(msg.cancel ?? {}) };
  }
  if (which === 'ping' || (which === undefined && msg.ping)) {
    return { type: 'ping', ping: pingFromProto(msg.ping ?? {}) };
  }
  return eventFromProto(msg) ?? { type: 'unknown' };
}

/** What the proxy receives on ProcessStream. */
export type AgentToProxyMessage =
  | { type: 'handshake'; handshake: HandshakeResponse }
  | { type: 'response'; correlationId: string; response: AgentResponse }
  | { type: 'health'; health: HealthStatus }
  | { type: 'metrics'; metrics: MetricsReport }
  | { type: 'config_update'; configUpdate: ConfigUpdateRequest }
  | { type: 'flow_control'; flowControl: FlowControlSignal }
  | { type: 'pong'; pong: PongMessage }
  | { type: 'log'; log: LogMessage }
  | { type: 'unknown' };

const AGENT_TO_PROXY_MEMBERS = ['response', 'health', 'pong', 'flow_control', 'metrics', 'config_update', 'log', 'handshake'] as const;

/**
 * Proxy side: decode one AgentToProxy. A `response` is routed by `correlationId` (field 1, §8.4).
 * An empty message is {type:'unknown'}.
 */
export function agentToProxyFromProto(msg: PbAgentToProxy): AgentToProxyMessage {
  // `message` is the oneof key proto-loader adds; without it, look for the member that is set.
  const which = msg.message ?? AGENT_TO_PROXY_MEMBERS.find((k) => msg[k] !== null && msg[k] !== undefined);
  switch (which) {
    case 'response': {
      const response = agentResponseFromProto(msg.response ?? {});
      return { type: 'response', correlationId: str(response.correlationId), response };
    }
    case 'health':
      return { type: 'health', health: healthFromProto(msg.health ?? {}) };
    case 'pong':
      return { type: 'pong', pong: pongFromProto(msg.pong ?? {}) };
    case 'flow_control':
      return { type: 'flow_control', flowControl: flowControlFromProto(msg.flow_control ?? {}) };
    case 'metrics':
      return { type: 'metrics', metrics: metricsFromProto(msg.metrics ?? {}) };
    case 'config_update':
      return { type: 'config_update', configUpdate: configUpdateFromProto(msg.config_update ?? {}) };
    case 'log':
      return { type: 'log', log: logFromProto(msg.log ?? {}) };
    case 'handshake':
      return { type: 'handshake', handshake: handshakeResponseFromProto(msg.handshake ?? {}) };
    default:
      return { type: 'unknown' };
  }
}
