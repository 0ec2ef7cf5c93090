// Outbound frame queue of one framed connection (spec §2.3). Frames are whole units written in
// order and go out together once per flush, which is what lets a multiplexed connection reach high
// request rates: up to 64 KiB copied into one buffer and written once, larger flushes as one corked
// write (writev) of the frames themselves. The flush adapts to the load: after a flush of one frame
// the next one runs as a microtask (a lone event leaves at once, not a turn later), after a
// larger batch it waits for the next turn (setImmediate), where it gathers about twice the frames
// per writev at 256 in flight. The queue is bounded by
// `channelBufferSize` frames: past it, callers wait for room (`whenRoom`).
import type { Socket } from 'node:net';

export interface QueuedFrame {
  readonly frame: Buffer;
  /** Set by `withdraw`: the frame is skipped if it has not been handed to the socket yet. */
  withdrawn: boolean;
  /** True once handed to the socket. */
  written: boolean;
}

/** A flush of at most this many bytes is copied into one buffer and written once. */
const COALESCE_BYTES = 64 * 1024;

/** The frames not withdrawn, copied in order into one buffer of `bytes` (marking each written). */
function joined(batch: readonly QueuedFrame[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const entry of batch) {
    if (entry.withdrawn) continue;
    entry.written = true;
    out.set(entry.frame, at);
    at += entry.frame.byteLength;
  }
  return out;
}

export class FrameWriter {
  private queue: QueuedFrame[] = [];
  private scheduled = false;
  private blocked = false;
  private closed = false;
  /** Frames written by the last flush: the load signal that picks the next flush's timing. */
  private lastBatch = 0;
  private roomWaiters: Array<() => void> = [];
  private readonly flushBound = () => this.flush();

  constructor(
    private readonly socket: Socket,
    readonly channelBufferSize = 64,
  ) {
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  get hasRoom(): boolean {
    return this.queue.length < this.channelBufferSize;
  }

  /** Queues a frame regardless of the bound (callers check `hasRoom` / `whenRoom` first). */
  enqueue(frame: Buffer): QueuedFrame {
    const entry: QueuedFrame = { frame, withdrawn: false, written: false };
    if (this.closed) return entry;
    this.queue.push(entry);
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      if (this.lastBatch <= 1) queueMicrotask(this.flushBound);
      else setImmediate(this.flushBound);
    }
    return entry;
  }

  /** Resolves when the queue is below its bound. */
  whenRoom(): Promise<void> {
    if (this.hasRoom || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.wakeWaiters();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.closed || this.blocked || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    let bytes = 0;
    let frames = 0;
    for (const entry of batch) {
      if (entry.withdrawn) continue;
      bytes += entry.frame.byteLength;
      frames++;
    }
    let ok = true;
    // Small frames go out copied into one buffer: one stream write instead of one per frame (each
    // costs the stream's bookkeeping, more than the copy); a lone frame and large ones as they are.
    if (frames > 1 && bytes <= COALESCE_BYTES) ok = this.socket.write(joined(batch, bytes));
    else if (frames > 0) ok = this.writeEach(batch);
    this.lastBatch = batch.length;
    if (!ok) this.blocked = true;
    this.wakeWaiters();
  }

  private writeEach(batch: readonly QueuedFrame[]): boolean {
    const socket = this.socket;
    socket.cork();
    let ok = true;
    for (const entry of batch) {
      if (entry.withdrawn) continue;
      entry.written = true;
      ok = socket.write(entry.frame);
    }
    socket.uncork();
    return ok;
  }

  private wakeWaiters(): void {
    while (this.roomWaiters.length > 0 && (this.hasRoom || this.closed)) this.roomWaiters.shift()?.();
  }
}
