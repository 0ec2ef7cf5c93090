// Drain without polling: whoever waits for "nothing outstanding" gets a promise, and the code that
// brings the outstanding count to 0 calls notify(). The count itself stays with its owner (a Set,
// a call table); this unit only holds the waiters, so the owner's hot path pays one length check.

const MAX_TIMER_MS = 2_147_483_647;

export class IdleSignal {
  private waiters: Array<(idle: boolean) => void> = [];

  /** Someone waits: the owner only needs to call notify() when this is true. */
  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /**
   * Resolves true at the next notify(), or false once `timeoutMs` has passed (the timer keeps the
   * process alive, as a drain in progress should). The caller checks "idle now?" before waiting.
   */
  whenIdle(timeoutMs = Infinity): Promise<boolean> {
    return new Promise((resolve) => {
      if (timeoutMs <= 0) return resolve(false);
      let timer: NodeJS.Timeout | undefined;
      const waiter = (idle: boolean): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(idle);
      };
      this.waiters.push(waiter);
      if (timeoutMs === Infinity) return;
      // setTimeout takes at most 2^31-1 ms; a longer wait ends there and the caller waits again.
      timer = setTimeout(
        () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          resolve(false);
        },
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
    });
  }

  /** The outstanding count reached 0: every waiter resolves true. */
  notify(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(true);
  }
}
