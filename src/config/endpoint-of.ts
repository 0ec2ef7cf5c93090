// The pool endpoint string of a configured agent (spec §10.13, §9.5).
import type { AgentConfig } from './config-types.js';

/** `unix:<path>` for UDS, the URL as written for gRPC, `reverse://<id>` for a reverse agent. */
export function endpointOf(agent: Pick<AgentConfig, 'id' | 'transport'>): string {
  switch (agent.transport.kind) {
    case 'uds':
      return `unix:${agent.transport.path}`;
    case 'grpc':
      return agent.transport.url;
    case 'reverse':
      return `reverse://${agent.id}`;
  }
}
