// Public API of zap. Re-exports only.

// Protocol: domain types, typed errors, codecs (for tools and tests that speak the wire directly).
export * from './protocol/types.js';
export * from './protocol/errors.js';
export { jsonCodec, msgpackCodec, codecFor, type PayloadCodec, type ParsedResponse } from './protocol/payload-codec.js';
export { encodeFrame, MAX_FRAME_LENGTH, MAX_PAYLOAD_LENGTH } from './protocol/frame-encoder.js';
export { FrameDecoder } from './protocol/frame-decoder.js';
export { MessageType, messageTypeName } from './protocol/message-type.js';
export { applyHeaderOps } from './protocol/header-ops.js';
export { applyBodyMutation, requestBodyMutation, responseBodyMutation } from './protocol/body-mutation.js';
export { PROTO_FILE } from './transport/proto-schema.js';

// Proxy side.
export type { AddAgentOptions, AddAgentResult } from './pool/add-agent-result.js';
export {
  AgentPool,
  type AgentStats,
  type PoolStats,
  type SendOptions,
  type AuthToken,
  type ReverseListenOptions,
  type ReverseListenerHandle,
} from './pool/agent-pool.js';
export {
  DEFAULT_AGENT_OPTIONS,
  defaultWorkerCount,
  type AgentPoolConfig,
  type AgentOptions,
  type AgentConnectionOptions,
  type LoadBalanceStrategy,
  type FlowControlMode,
  type ConfigUpdateCallback,
} from './pool/pool-config.js';
export type { ConnectionView, CustomPicker, PickContext } from './pool/picker.js';
export { failClosedResponse, syntheticAllow, type FailureMode } from './pool/failure-mode.js';
export type { PushStatus, PushState, PushTimings } from './pool/config-push.js';
export { CircuitState, type CircuitBreakerConfig, type CircuitStateCode } from './pool/circuit-breaker.js';
export { PoolMetrics, type GaugeSnapshot, type PoolMetricsOptions } from './metrics/pool-metrics.js';
export { loadConfig, loadConfigFile, endpointOf, agentPoolOptions, renderConfigReference } from './config/index.js';
export type { ZapConfig, AgentConfig, ReverseListenerConfig } from './config/index.js';
export { connectionMachine } from './connection/connection-machine.js';
export type { ConnectionStateName } from './contract/connection-state.js';
export { FramedConnection, type CallOptions } from './connection/framed-connection.js';
export { connectUdsAgent, type UdsAgentClientOptions } from './connection/uds-agent-client.js';
export { connectGrpcAgent, type GrpcAgentClientOptions } from './connection/grpc-agent-client.js';
export type { GrpcConnection } from './connection/grpc-connection.js';
export { parseEndpoint, formatEndpoint, type Endpoint } from './transport/endpoint.js';

// Agent side.
export { AgentServer, type AgentServerOptions, type AgentServerStats } from './agent/agent-server.js';
export {
  ReverseConnector,
  type ReverseConnectorOptions,
  type ReverseBackoffOptions,
  type ReverseConnectorEvents,
  type ReverseRegisteredInfo,
} from './agent/reverse-connector.js';
export type { ReverseTlsOptions } from './agent/reverse-dial.js';
export type { AgentHandler, HandlerContext, Reply, HandlerResult, HandlerFactory } from './agent/handler.js';
export { allow, block, redirect, challenge, replaceRequestChunk, replaceResponseChunk, dropChunk, guardrailReply } from './agent/reply.js';
export { EXAMPLES, createExampleHandler, type ExampleName } from './agent/examples/index.js';

export { VERSION } from './version.js';
