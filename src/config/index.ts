// KDL configuration (spec §13): the loader, the typed result and the generated reference.
export type {
  AgentConfig,
  AgentTransport,
  BodyMode,
  BodyModeConfig,
  CircuitBreakerConfig,
  FailureMode,
  GatewayConfig,
  GatewayListenerConfig,
  PoolOptionsConfig,
  ReverseListenerConfig,
  ReverseListenerTlsConfig,
  RouteConfig,
  RouteMatchConfig,
  UpstreamConfig,
  UpstreamTargetConfig,
  ZapConfig,
} from './config-types.js';
export { agentPoolOptions } from './agent-pool-options.js';
export { endpointOf } from './endpoint-of.js';
export { loadConfig, loadConfigFile } from './load-config.js';
export { renderConfigReference } from './render-reference.js';
