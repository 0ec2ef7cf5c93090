// The pool's control plane towards agents (spec §10.7, §7.6): pushes a new configuration to an
// agent's connections and follows each delivery (ack timeout, pause, resend), keeping the push
// records (config-push.ts); and answers an agent's own ConfigUpdateRequest.
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import { defaultConfigUpdateDecision } from '../protocol/config-update.js';
import type { ConfigUpdateRequest, ConfigUpdateResponse } from '../protocol/types.js';
import type { AgentEntry, ConnectionRecord } from './agent-entry.js';
import { ConfigPushRecords, DEFAULT_PUSH_TIMINGS, type PushStatus, type PushTimings } from './config-push.js';
import type { HostSet } from './host-set.js';
import type { ConfigUpdateCallback } from './pool-config.js';
import type { Router } from './router.js';

export class ConfigPusher {
  private readonly records = new ConfigPushRecords();
  private readonly timings: PushTimings;

  constructor(
    private readonly router: Router,
    private readonly hosts: HostSet,
    /** Overrides of the spec's push timings (tests shorten them). */
    timings: Partial<PushTimings> | undefined,
    private readonly onConfigUpdate: ConfigUpdateCallback | undefined,
    /** Every answer to a ConfigUpdateRequest (the pool emits 'config-update'). */
    private readonly answered: (agentId: string, request: ConfigUpdateRequest, response: ConfigUpdateResponse) => void,
  ) {
    this.timings = { ...DEFAULT_PUSH_TIMINGS, ...(timings ?? {}) };
  }

  /**
   * Stores `config` as the agent's current one (new connections get it in their handshake and
   * initial Configure) and sends a Configure to every connection that takes it. Returns the push id.
   */
  push(agent: AgentEntry, config: unknown, version?: string): string {
    agent.setConfig(config);
    this.hosts.broadcast({ type: 'agent-config', agentId: agent.id, config });
    const pushId = this.records.nextId();
    const configVersion = version ?? pushId;
    const targets = [...agent.connections.values()].filter((c) => c.acceptsBound && !c.health.isFeatureDisabled('config_push'));
    const now = Date.now();
    this.records.create(
      pushId,
      agent.id,
      configVersion,
      targets.map((c) => c.id),
      now,
    );
    for (const c of targets) void this.deliver(agent, c, pushId, config, configVersion);
    return pushId;
  }

  status(pushId: string): PushStatus | undefined {
    return this.records.get(pushId);
  }

  /** A connection became ready: its initial Configure carried the current config, so a pending push is delivered. */
  connectionReady(agent: AgentEntry, connection: ConnectionRecord): void {
    if (agent.options.config !== undefined && agent.options.config !== null)
      this.records.deliveredByInitial(agent.id, connection.id, Date.now());
  }

  /** The agent is being removed: its unfinished pushes expire. */
  agentRemoved(agentId: string): void {
    this.records.expireAgent(agentId, Date.now(), 'agent removed');
  }

  /** Maintenance: completed records go after `purgeAfterMs`. */
  purge(now: number): void {
    this.records.purge(now, this.timings.purgeAfterMs);
  }

  /** An agent's ConfigUpdateRequest (spec §7.6): the callback decides; the answer is returned and emitted
   *  (no UDS / reverse frame type exists for it, and gRPC's ProcessStream cannot carry it, spec §14.2). */
  async answer(agentId: string, request: ConfigUpdateRequest): Promise<ConfigUpdateResponse> {
    let decision: { accepted: boolean; error?: string | null };
    try {
      decision = this.onConfigUpdate === undefined ? defaultConfigUpdateDecision(request) : await this.onConfigUpdate(agentId, request);
    } catch (err) {
      decision = { accepted: false, error: err instanceof Error ? err.message : String(err) };
    }
    const response: ConfigUpdateResponse = {
      requestId: request.requestId,
      accepted: decision.accepted,
      error: decision.error ?? null,
      timestampMs: Date.now(),
    };
    this.answered(agentId, request, response);
    return response;
  }

  /** One connection's delivery: ack timeout, then pause and resend, at most `maxResends` times. */
  private async deliver(
    agent: AgentEntry,
    connection: ConnectionRecord,
    pushId: string,
    config: unknown,
    configVersion: string,
  ): Promise<void> {
    const t = this.timings;
    const event = { correlationId: pushId, config, configVersion, isInitial: false };
    // gRPC agents that do not advertise config_push never acknowledge: the Configure is
    // fire-and-forget there, and Sent is its final state (spec §10.7).
    const fireAndForget = connection.encoding === 'protobuf' && connection.capabilities?.features.configPush !== true;
    for (;;) {
      if (!this.records.isLive(pushId)) return;
      try {
        const reply = await this.router.send(agent.id, 'configure', event, pushId, { timeoutMs: t.ackTimeoutMs }, { forced: connection });
        if (fireAndForget) {
          this.records.targetOutcome(pushId, connection.id, 'sent', null, Date.now());
          return;
        }
        if (reply.synthetic === true) throw zapError(ErrorCode.Error, 'agent unavailable');
        const accepted = reply.decision.type === 'allow';
        const body = reply.decision.type === 'block' && reply.decision.body !== null ? `: ${reply.decision.body}` : '';
        const why = accepted ? null : `rejected (${reply.decision.type}${body})`;
        this.records.targetOutcome(pushId, connection.id, accepted ? 'acknowledged' : 'rejected', why, Date.now());
        return;
      } catch (err) {
        const timedOut = err instanceof AgentPoolError && err.code === ErrorCode.Timeout;
        if (!timedOut || !this.records.resend(pushId, connection.id, t.maxResends)) {
          const why = err instanceof Error ? err.message : String(err);
          this.records.targetOutcome(
            pushId,
            connection.id,
            'failed',
            timedOut ? `no acknowledgement after ${t.maxResends} resends` : why,
            Date.now(),
          );
          return;
        }
        await new Promise((r) => setTimeout(r, t.retryDelayMs));
      }
    }
  }
}
