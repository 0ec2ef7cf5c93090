// When a connection host's results leave for the router (workers: N). At low load a result goes at
// once (no other call of the host outstanding: no turn spent waiting); under load the results of a
// turn go together at its end, one message per turn; and a turn that gathered many waits one more
// turn, so that its results travel with the next turn's. The router's thread then wakes half as
// often under heavy load: about 8 % of its CPU per call at 256 in flight on 2 cores (issue 13), with
// no change at 1 or 8 in flight, where no turn gathers that many.
import type { HostSink, ResultItem } from './host-messages.js';
import { ResultBatchWriter, type ResultBatch } from './result-batch.js';

/** A turn that gathered this many results, with calls still outstanding, is under load. */
export const HOLD_FROM = 32;

export class ResultSender implements Pick<HostSink, 'result'> {
  private readonly results = new ResultBatchWriter();
  private scheduled = false;
  /** The scheduled send has let its results wait one turn already. */
  private held = false;
  /** A send batch is being read: results wait for its end, so one batch in gives at most one message out. */
  private reading = false;
  private readonly atTurnEndBound = () => this.atTurnEnd();

  constructor(
    private readonly post: (batch: ResultBatch) => void,
    /** Calls of the host still outstanding. */
    private readonly pending: () => number,
    /** Runs a function at the end of this turn (setImmediate; a test passes its own queue). */
    private readonly atEndOfTurn: (fn: () => void) => void = setImmediate,
  ) {}

  result(item: ResultItem, replyId?: string): void {
    this.results.add(item, replyId);
    if (!this.reading && this.pending() === 0) this.send();
    else if (!this.scheduled) {
      this.scheduled = true;
      this.atEndOfTurn(this.atTurnEndBound);
    }
  }

  /** Reads a send batch with `read`; results it produced go after it, at once if nothing else is outstanding. */
  whileReading(read: () => void): void {
    this.reading = true;
    try {
      read();
    } finally {
      this.reading = false;
    }
    if (this.results.size > 0 && this.pending() === 0) this.send();
  }

  private atTurnEnd(): void {
    if (!this.held && this.results.size >= HOLD_FROM && this.pending() > 0) {
      this.held = true;
      this.atEndOfTurn(this.atTurnEndBound);
      return;
    }
    this.send();
  }

  private send(): void {
    this.scheduled = false;
    this.held = false;
    if (this.results.size > 0) this.post(this.results.take());
  }
}
