// Public API of the package root: the pool (proxy side) and the agent API. Re-exports only.
// Kept cheap to import: no KDL loader (see ./config), no codecs or frame tools (./protocol), no
// xstate machine or fault hooks (./testing); gRPC and piscina load on first use.

// Domain types and typed errors (handle failures by `err.code`).
export * from './protocol/types.js';
export * from './protocol/errors.js';
export { applyHeaderOps } from './protocol/header-ops.js';
export { applyBodyMutation, requestBodyMutation, responseBodyMutation } from './protocol/body-mutation.js';

// Proxy side.
export type { AddAgentOptions, AddAgentResult } from './pool/add-agent-result.js';
export {
  AgentPool,
  type AgentPoolEvents,
  type AgentStats,
  type PoolStats,
  type SendOptions,
  type AuthToken,
  type ReverseListenOptions,
  type ReverseListenerHandle,
} from './pool/agent-pool.js';
export type {
  HostReport,
  StateReport,
  ControlReport,
  BufferReport,
  ReverseListenerReport,
  ReverseRegisteredReport,
  ReverseRefusedReport,
} from './contract/host-messages.js';
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
export type { ConnectionStateName } from './contract/connection-state.js';
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
export { runAgent, type RunAgentOptions, type ReplyBuilder, type BlockReplyBuilder, type LogLevel } from './agent/run-agent.js';
export { EXAMPLES, createExampleHandler, type ExampleName } from './agent/examples/index.js';

export { VERSION } from './version.js';
