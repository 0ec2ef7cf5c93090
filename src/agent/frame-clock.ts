// The completion deadline of the partial frame a framed connection holds: once a frame's first byte
// is in, the whole frame must arrive within `timeoutMs` (slowloris, a length announced and never
// sent). The clock runs only while a partial frame is buffered; a new partial frame starts it anew.
export class FrameClock {
  readonly timeoutMs: number;
  readonly #onExpired: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, onExpired: () => void) {
    this.timeoutMs = timeoutMs;
    this.#onExpired = onExpired;
  }

  /**
   * After a read: `heldBytes` of a partial frame are buffered (0: none); `newFrame` when a frame
   * completed in that read, so the partial one held now is a different frame.
   */
  update(heldBytes: number, newFrame: boolean): void {
    if (heldBytes === 0) {
      this.stop();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#onExpired();
      }, this.timeoutMs);
      this.#timer.unref();
    } else if (newFrame) {
      this.#timer.refresh();
    }
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
