// Sticky sessions (spec §10.4): a session id binds an agent's connection; idle expiry
// `timeoutMs` (0 = never), checked on lookup and by the maintenance sweep.

interface Binding {
  connectionId: number;
  lastUsed: number;
}

export class StickySessions {
  private readonly bindings = new Map<string, Binding>();

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.bindings.size;
  }

  get(sessionId: string, now: number): number | undefined {
    const b = this.bindings.get(sessionId);
    if (b === undefined) return undefined;
    if (this.timeoutMs > 0 && now - b.lastUsed >= this.timeoutMs) {
      this.bindings.delete(sessionId);
      return undefined;
    }
    b.lastUsed = now;
    return b.connectionId;
  }

  bind(sessionId: string, connectionId: number, now: number): void {
    this.bindings.set(sessionId, { connectionId, lastUsed: now });
  }

  dropConnection(connectionId: number): void {
    for (const [id, b] of this.bindings) if (b.connectionId === connectionId) this.bindings.delete(id);
  }

  sweep(now: number): number {
    if (this.timeoutMs === 0) return 0;
    let n = 0;
    for (const [id, b] of this.bindings) {
      if (now - b.lastUsed >= this.timeoutMs) {
        this.bindings.delete(id);
        n++;
      }
    }
    return n;
  }
}
