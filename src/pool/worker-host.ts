// Router-side handle of a connection-host worker thread. Sends and cancels queued during one
// event-loop turn travel as one send batch (bytes, contract/send-batch.ts; the event bytes inside
// were encoded once, on the router); results come back the same way (result-batch.ts). When the
// host has nothing of ours outstanding, a send goes at once instead of waiting for the turn to end:
// at low load that saves a turn of latency, under load the batches stay whole.
// Traced hop by hop at 1 in flight, no turn waits any more on either side; what the worker path
// still adds is two thread wake-ups (a bare postMessage round trip: ~17 µs with both threads on one
// core, ~50 µs when each wake crosses cores on a 2-vCPU VM) and the reply decode moved to the
// worker. No flush timing removes those.
// bench/worker-messages.ts measures the formats.
import { Worker } from 'node:worker_threads';
import type { CancelItem, HostCommand, HostHandle, HostReport, ResultItem, SendItem } from '../contract/host-messages.js';
import { onHostMessage, sendBatchToHost, sendToHost } from '../contract/host-port.js';
import { readResultBatch } from '../contract/result-batch.js';
import { SendBatchWriter } from '../contract/send-batch.js';
import type { EventEncoder } from '../transport/event-encoder.js';
import { workerSpec } from '../worker-file.js';

export interface WorkerHostSink {
  result(item: ResultItem): void;
  /** The correlation id of a call in flight (results batches leave out a reply's own). */
  replyIdOf(requestId: number): string | undefined;
  report(report: HostReport): void;
  /** The thread died (crash, terminate, uncaught error, a corrupt batch) while still in service. */
  lost(error: Error): void;
}

export class WorkerHost implements HostHandle {
  readonly onOtherThread = true;
  private readonly worker: Worker;
  private readonly batch = new SendBatchWriter();
  private scheduled = false;
  private ending = false;
  /**
   * Sends posted whose result has not come back yet (a hint for the flush, not bookkeeping: a cancel
   * that crosses its result makes it low by one, which only makes one batch smaller).
   */
  private outstanding = 0;
  /** Resolves terminate()'s wait for the host's 'terminated' answer. */
  private onTerminated: (() => void) | undefined;
  private readonly flushBound = () => this.flush();
  /** The first error the router's handler threw while a batch was read (not the batch's fault). */
  private handlerError: { error: unknown } | undefined;
  private readonly replyIdBound = (requestId: number) => this.sink.replyIdOf(requestId);
  private readonly resultBound = (item: ResultItem) => {
    if (this.outstanding > 0) this.outstanding--;
    try {
      this.sink.result(item);
    } catch (error) {
      this.handlerError ??= { error };
    }
  };

  constructor(
    readonly index: number,
    private readonly sink: WorkerHostSink,
  ) {
    const spec = workerSpec('connection-host');
    this.worker = new Worker(spec.file, { name: `zap-connection-host-${index}`, workerData: spec.workerData });
    onHostMessage(this.worker, {
      results: (batch) => {
        this.handlerError = undefined;
        try {
          readResultBatch(batch, this.resultBound, this.replyIdBound);
        } catch (err) {
          // The bytes between our own threads are wrong: that host cannot be trusted any more.
          this.onLost(err as Error);
          void this.worker.terminate();
        }
        // A router bug is not a corrupt batch: it surfaces as it is, after the batch's other results.
        const failure = this.handlerError as { error: unknown } | undefined; // set by resultBound, not seen by the narrowing
        if (failure !== undefined) throw failure.error;
      },
      spare: (buffer) => this.batch.giveBack(buffer),
      report: (report) => this.sink.report(report),
      terminated: () => this.onTerminated?.(),
    });
    this.worker.on('error', (err) => this.onLost(err));
    this.worker.on('exit', (code) => this.onLost(new Error(`connection-host worker ${index} exited with code ${code}`)));
  }

  /** JSON events are packed straight into this host's send batch (no copy); other encodings are the router's. */
  eventEncoder(encoding: string): EventEncoder | undefined {
    return encoding === 'json' ? this.batch.jsonEncoder : undefined;
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  command(command: HostCommand): void {
    this.flush(); // keep order with sends already queued
    sendToHost(this.worker, { t: 'cmd', c: command });
  }

  send(item: SendItem): void {
    this.batch.send(item);
    if (this.outstanding++ === 0 && !this.scheduled) this.flush();
    else this.schedule();
  }

  cancel(item: CancelItem): void {
    if (this.outstanding > 0) this.outstanding--;
    this.batch.cancel(item);
    this.schedule();
  }

  /** Asks the host to close its connections, then stops the thread. */
  async terminate(): Promise<void> {
    if (this.ending) return;
    this.ending = true;
    this.flush();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1_000);
      this.onTerminated = () => {
        clearTimeout(timer);
        resolve();
      };
      sendToHost(this.worker, { t: 'terminate' });
    });
    await this.worker.terminate();
  }

  /** Test and fault-injection hook: kills the thread as a crash would. */
  kill(): Promise<number> {
    return this.worker.terminate();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushBound);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.batch.size === 0) return;
    sendBatchToHost(this.worker, this.batch.take());
  }

  private onLost(error: Error): void {
    if (this.ending) return;
    this.ending = true;
    this.sink.lost(error);
  }
}
