// What a configured agent asks of the pool: its `pool { }` keys plus the agent-level settings the
// pool also owns (failure mode, circuit breaker, gRPC TLS files, config to deliver).
import type { AgentOptions } from '../pool/pool-config.js';
import type { AgentConfig } from './config-types.js';

/** The AgentPool options for one configured agent (pass with `endpointOf(agent)`). */
export function agentPoolOptions(agent: AgentConfig): AgentOptions {
  const options: AgentOptions = { ...agent.pool, failureMode: agent.failureMode, circuitBreaker: { ...agent.circuitBreaker } };
  if (agent.config !== undefined) options.config = agent.config;
  const t = agent.transport;
  if (t.kind === 'grpc' && t.tls) {
    const tls: NonNullable<AgentOptions['tls']> = {};
    if (t.caCert !== undefined) tls.ca = t.caCert;
    if (t.clientCert !== undefined) tls.cert = t.clientCert;
    if (t.clientKey !== undefined) tls.key = t.clientKey;
    if (t.tlsInsecure) tls.insecure = true;
    options.tls = tls;
  }
  return options;
}
