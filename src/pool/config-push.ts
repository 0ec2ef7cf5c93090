// Configuration push records (spec §10.7): every Configure the pool sends has a `push-<n>` record
// tracking its delivery to each targeted connection: Pending → Sent → Acknowledged | Failed, or
// Expired when superseded / the agent is removed. Acknowledgement timeout 10 s, then 2 s pause and
// a resend to the connections that did not answer, at most 3 resends; records are purged 60 s
// after completion.

export type PushState = 'pending' | 'sent' | 'acknowledged' | 'failed' | 'expired';
/** 'sent': written to a gRPC agent that does not acknowledge pushes (no config_push): fire-and-forget. */
export type PushTargetState = 'sending' | 'sent' | 'acknowledged' | 'rejected' | 'failed';

export interface PushTargetStatus {
  connectionId: number;
  state: PushTargetState;
  /** Resends so far (0 = only the first delivery). */
  resends: number;
  error: string | null;
}

export interface PushStatus {
  pushId: string;
  agentId: string;
  configVersion: string;
  state: PushState;
  createdAt: number;
  completedAt: number | null;
  targets: PushTargetStatus[];
  error: string | null;
}

const PUSH_ACK_TIMEOUT_MS = 10_000;
const PUSH_RETRY_DELAY_MS = 2_000;
const PUSH_MAX_RESENDS = 3;
const PUSH_PURGE_AFTER_MS = 60_000;

export interface PushTimings {
  ackTimeoutMs: number;
  retryDelayMs: number;
  maxResends: number;
  purgeAfterMs: number;
}

export const DEFAULT_PUSH_TIMINGS: Readonly<PushTimings> = {
  ackTimeoutMs: PUSH_ACK_TIMEOUT_MS,
  retryDelayMs: PUSH_RETRY_DELAY_MS,
  maxResends: PUSH_MAX_RESENDS,
  purgeAfterMs: PUSH_PURGE_AFTER_MS,
};

const TERMINAL: ReadonlySet<PushState> = new Set(['acknowledged', 'failed', 'expired']);

export class ConfigPushRecords {
  private readonly records = new Map<string, PushStatus>();
  private next = 1;

  nextId(): string {
    return `push-${this.next++}`;
  }

  create(pushId: string, agentId: string, configVersion: string, connectionIds: number[], now: number): PushStatus {
    // A newer push supersedes unfinished ones to the same agent.
    for (const r of this.records.values())
      if (r.agentId === agentId && !TERMINAL.has(r.state)) this.finish(r, 'expired', now, `superseded by ${pushId}`);
    const record: PushStatus = {
      pushId,
      agentId,
      configVersion,
      state: connectionIds.length === 0 ? 'pending' : 'sent',
      createdAt: now,
      completedAt: null,
      targets: connectionIds.map((connectionId) => ({ connectionId, state: 'sending', resends: 0, error: null })),
      error: null,
    };
    this.records.set(pushId, record);
    return record;
  }

  get(pushId: string): PushStatus | undefined {
    return this.records.get(pushId);
  }

  isLive(pushId: string): boolean {
    const r = this.records.get(pushId);
    return r !== undefined && !TERMINAL.has(r.state);
  }

  /** A pending push was carried by a connection's initial Configure. */
  deliveredByInitial(agentId: string, connectionId: number, now: number): void {
    for (const r of this.records.values()) {
      if (r.agentId !== agentId || r.state !== 'pending') continue;
      r.targets.push({ connectionId, state: 'acknowledged', resends: 0, error: null });
      this.finish(r, 'acknowledged', now, null);
    }
  }

  targetOutcome(pushId: string, connectionId: number, state: Exclude<PushTargetState, 'sending'>, error: string | null, now: number): void {
    const r = this.records.get(pushId);
    if (r === undefined || TERMINAL.has(r.state)) return;
    const t = r.targets.find((x) => x.connectionId === connectionId);
    if (t === undefined) return;
    t.state = state;
    t.error = error;
    if (state === 'rejected' || state === 'failed') {
      this.finish(r, 'failed', now, `connection ${connectionId}: ${error ?? state}`);
      return;
    }
    if (r.targets.every((x) => x.state === 'acknowledged' || x.state === 'sent')) {
      // Sent is terminal for fire-and-forget gRPC targets (spec §10.7); acknowledged needs every answer.
      this.finish(r, r.targets.some((x) => x.state === 'sent') ? 'sent' : 'acknowledged', now, null);
    }
  }

  /** Counts a resend; false when the resend budget is spent. */
  resend(pushId: string, connectionId: number, maxResends: number): boolean {
    const t = this.records.get(pushId)?.targets.find((x) => x.connectionId === connectionId);
    if (t === undefined || t.resends >= maxResends) return false;
    t.resends++;
    return true;
  }

  expireAgent(agentId: string, now: number, why: string): void {
    for (const r of this.records.values()) if (r.agentId === agentId && !TERMINAL.has(r.state)) this.finish(r, 'expired', now, why);
  }

  purge(now: number, purgeAfterMs: number): void {
    for (const [id, r] of this.records) if (r.completedAt !== null && now - r.completedAt >= purgeAfterMs) this.records.delete(id);
  }

  private finish(r: PushStatus, state: PushState, now: number, error: string | null): void {
    r.state = state;
    r.completedAt = now;
    r.error = error;
  }
}
