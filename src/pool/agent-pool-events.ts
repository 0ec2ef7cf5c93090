// The events an AgentPool emits (its public contract, typed for EventEmitter).
import type { ConfigUpdateRequest, ConfigUpdateResponse } from '../protocol/types.js';
import type { CircuitStateCode } from './circuit-breaker.js';
import type { HostReport } from '../contract/host-messages.js';

export interface AgentPoolEvents {
  /** A connection changed state, or an agent sent a control message. */
  report: [agentId: string, report: HostReport];
  /** A connection-host worker died; its calls failed with ZAP_WORKER_LOST and it was replaced. */
  'worker-lost': [index: number, error: Error];
  /** An agent asked for a config change; `response` is what the callback (or the §7.6 default) decided. */
  'config-update': [agentId: string, request: ConfigUpdateRequest, response: ConfigUpdateResponse];
  /** The agent's circuit breaker changed state (0 closed, 1 open, 2 half-open). */
  'circuit-state': [agentId: string, state: CircuitStateCode];
  /** A reverse connection was admitted (spec §9.5). */
  'reverse-registered': [agentId: string, connectionId: number, metadata: unknown];
  /**
   * A reverse registration was refused; `error` is the text sent to the agent (peer parts escaped),
   * `agentId` the id it claimed, escaped and bounded (peerText), or null. Sockets closed over the
   * pending bound come as one report a second at most, with agentId null.
   */
  'reverse-refused': [agentId: string | null, error: string];
}
