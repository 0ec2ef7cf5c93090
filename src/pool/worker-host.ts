// Router-side handle of a connection-host worker thread. Sends and cancels queued during one
// event-loop turn travel as one message (the event bytes inside were encoded once, on the router);
// results come back the same way. bench/worker-messages.ts measures the formats we rejected.
import { Worker } from 'node:worker_threads';
import type {
  CancelItem,
  HostCommand,
  HostHandle,
  HostReport,
  PackedSendItem,
  ResultItem,
  SendItem,
  WorkerResult,
} from '../contract/host-messages.js';
import { onHostMessage, sendToHost } from '../contract/host-port.js';
import { fromSparse } from '../contract/sparse-response.js';
import { workerSpec } from '../worker-file.js';

export interface WorkerHostSink {
  results(items: ResultItem[]): void;
  report(report: HostReport): void;
  /** The thread died (crash, terminate, uncaught error) while still in service. */
  lost(error: Error): void;
}

export class WorkerHost implements HostHandle {
  private readonly worker: Worker;
  private sends: SendItem[] = [];
  private cancels: CancelItem[] = [];
  private scheduled = false;
  private ending = false;
  /** Resolves terminate()'s wait for the host's 'terminated' answer. */
  private onTerminated: (() => void) | undefined;
  private readonly flushBound = () => this.flush();

  constructor(
    readonly index: number,
    private readonly sink: WorkerHostSink,
  ) {
    const spec = workerSpec('connection-host');
    this.worker = new Worker(spec.file, { name: `zap-connection-host-${index}`, workerData: spec.workerData });
    onHostMessage(this.worker, {
      results: (results) => {
        const items: ResultItem[] = new Array(results.length);
        for (let i = 0; i < results.length; i++) {
          const r = results[i] as WorkerResult;
          items[i] = r[1] === null ? r : [r[0], fromSparse(r[1])];
        }
        this.sink.results(items);
      },
      report: (report) => this.sink.report(report),
      terminated: () => this.onTerminated?.(),
    });
    this.worker.on('error', (err) => this.onLost(err));
    this.worker.on('exit', (code) => this.onLost(new Error(`connection-host worker ${index} exited with code ${code}`)));
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  command(command: HostCommand): void {
    this.flush(); // keep order with sends already queued
    sendToHost(this.worker, { t: 'cmd', c: command });
  }

  send(item: SendItem): void {
    this.sends.push(item);
    this.schedule();
  }

  cancel(item: CancelItem): void {
    this.cancels.push(item);
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
    if (this.sends.length === 0 && this.cancels.length === 0) return;
    // The frames are views into Node's shared Buffer pool: cloning them would copy whole pool
    // slabs. Copy just their bytes into one fresh buffer and transfer it instead.
    const sends = this.sends;
    let total = 0;
    for (const item of sends) total += item[3].byteLength;
    const bytes = new Uint8Array(total);
    const items: PackedSendItem[] = new Array(sends.length);
    let offset = 0;
    for (let i = 0; i < sends.length; i++) {
      const [requestId, connectionId, correlationId, frame] = sends[i] as SendItem;
      bytes.set(frame, offset);
      items[i] = [requestId, connectionId, correlationId, offset, frame.byteLength];
      offset += frame.byteLength;
    }
    sendToHost(this.worker, { t: 'batch', s: items, b: bytes.buffer, c: this.cancels }, [bytes.buffer]);
    this.sends = [];
    this.cancels = [];
  }

  private onLost(error: Error): void {
    if (this.ending) return;
    this.ending = true;
    this.sink.lost(error);
  }
}
