// The pool-side half of the reverse entry rules (spec §9.5, ours): every host learns how each agent
// id is declared (forward endpoint, `reverse://`, or not at all), so that its listeners refuse a
// registration for a forward agent or, without the opt-in, for an undeclared id. Entries a
// registration creates (undeclared ids, admitted with `allowUndeclaredAgents`) are "implicit": they
// go away with their last connection. Admission happens on the host; this side re-checks when the
// report arrives, because a declaration may have changed while the report was on its way.
import { ErrorCode, zapError } from '../protocol/errors.js';
import { AgentEntry, ConnectionRecord } from './agent-entry.js';
import type { AgentDeclaration, HostHandle, ReverseRegisteredReport, StateReport } from '../contract/host-messages.js';
import type { AgentConnectionOptions } from './pool-config.js';
import type { Router } from './router.js';

export class ReverseEntries {
  /** Connection ids of implicit entries' connections → their agent id. */
  private readonly implicitConnections = new Map<number, string>();

  constructor(
    private readonly router: Router,
    private readonly hosts: readonly HostHandle[],
    private readonly base: AgentConnectionOptions,
    private readonly circuitListener: (agentId: string, state: number) => void,
  ) {}

  /** Tells every host how `agent` is declared now (null: the id is gone). */
  declare(agentId: string, declared: AgentDeclaration | null): void {
    for (const host of this.hosts) host.command({ type: 'agent-declared', agentId, declared });
  }

  /** A replacement host starts empty: give it every declaration. */
  redeclareAll(host: HostHandle): void {
    for (const agent of this.router.agentEntries()) {
      const declared = declarationOf(agent);
      if (declared !== undefined) host.command({ type: 'agent-declared', agentId: agent.id, declared });
    }
  }

  /**
   * A host admitted a registration: the connection joins its declared reverse entry, or a new
   * implicit one when the listener allows undeclared ids. Returns undefined (and closes the
   * connection) when the declaration changed under it.
   */
  registered(report: ReverseRegisteredReport, host: HostHandle, hostIndex: number, allowUndeclared: boolean): ConnectionRecord | undefined {
    let agent = this.router.findAgent(report.agentId);
    const joinable = agent === undefined ? allowUndeclared : declarationOf(agent) !== 'forward' && !agent.closing;
    if (!joinable) {
      host.command({ type: 'close', connectionId: report.connectionId });
      return undefined;
    }
    if (agent === undefined) {
      agent = AgentEntry.implicitReverse(report.agentId, { ...this.base }, this.circuitListener);
      this.router.addAgent(agent);
    }
    if (agent.implicit) this.implicitConnections.set(report.connectionId, agent.id);
    const record = new ConnectionRecord(report.connectionId, agent, host, hostIndex);
    record.capabilities = report.capabilities;
    this.router.registerConnection(record);
    return record;
  }

  /** After the router saw `report`: an implicit entry whose last connection closed is removed. */
  stateReported(report: StateReport): void {
    if (report.state === 'closed') this.connectionGone(report.connectionId);
  }

  /** A connection is gone (closed, or lost with its worker): its implicit entry goes with its last one. */
  connectionGone(connectionId: number): void {
    const agentId = this.implicitConnections.get(connectionId);
    if (agentId === undefined) return;
    this.implicitConnections.delete(connectionId);
    const agent = this.router.findAgent(agentId);
    if (agent === undefined || !agent.implicit || agent.connections.size > 0) return;
    for (const call of this.router.callsOf(agent)) {
      const error = zapError(ErrorCode.ConnectionLost, `Agent '${agentId}' has no reverse connection left`, {
        agentId,
        correlationId: call.correlationId,
      });
      this.router.abortCall(call, 'manual', error);
    }
    this.router.removeAgent(agent);
  }
}

/** How the hosts see an entry: implicit entries are undeclared (they count against the undeclared cap). */
export function declarationOf(agent: AgentEntry): AgentDeclaration | undefined {
  if (agent.implicit) return undefined;
  return agent.endpoint.transport === 'reverse' ? 'reverse' : 'forward';
}
