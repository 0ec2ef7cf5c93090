// The ordered frame queue of one relayed WebSocket: frames of both directions are inspected one at
// a time, in arrival order, and each is answered before the next is forwarded. The queue is
// bounded per direction: at `maxQueued` frames from one side that side is paused (its socket stops
// being read) until the queue has room again.
import type { WebSocketOpcode } from '../protocol/types.js';

/** Which peer sent a frame. */
export type FrameSource = 'client' | 'upstream';

export interface QueuedFrame {
  source: FrameSource;
  opcode: WebSocketOpcode;
  data: Buffer;
  fin: boolean;
}

/** What the agents made of one frame. */
export type FrameVerdict =
  | { type: 'forward' }
  | { type: 'drop'; agentId: string }
  | { type: 'close'; code: number; reason: string; agentId: string; failed: boolean }
  | { type: 'cancelled' };

export interface FramePumpHooks {
  /** Consults the agents about a frame; `index` is 0-based per direction. Never rejects. */
  inspect(frame: QueuedFrame, index: number): Promise<FrameVerdict>;
  /** Sends an allowed frame to the other side; resolves when the next one may be sent. Never rejects. */
  forward(frame: QueuedFrame): Promise<void>;
  /** An agent closed the connection (or failed closed). Called at most once. */
  close(verdict: Extract<FrameVerdict, { type: 'close' }>): void;
  pause(source: FrameSource): void;
  resume(source: FrameSource): void;
}

/** Frame counts of one relayed connection. */
export interface FrameCounts {
  forwardedClientToServer: number;
  forwardedServerToClient: number;
  /** Frames an agent answered with drop, or with close (that frame is not forwarded either). */
  dropped: number;
  /** Frames still queued or outstanding when the connection ended (never forwarded). */
  discarded: number;
}

export class FramePump {
  private readonly queue: QueuedFrame[] = [];
  private readonly queued: Record<FrameSource, number> = { client: 0, upstream: 0 };
  private readonly indexes: Record<FrameSource, number> = { client: 0, upstream: 0 };
  private running = false;
  private stopped = false;
  readonly counts: FrameCounts = { forwardedClientToServer: 0, forwardedServerToClient: 0, dropped: 0, discarded: 0 };

  constructor(
    private readonly hooks: FramePumpHooks,
    private readonly maxQueued: number,
  ) {}

  push(frame: QueuedFrame): void {
    if (this.stopped) {
      this.counts.discarded++;
      return;
    }
    this.queue.push(frame);
    if (++this.queued[frame.source] === this.maxQueued) this.hooks.pause(frame.source);
    if (!this.running) void this.run();
  }

  /** Ends the pump: queued frames are discarded (counted), the one being inspected is not forwarded. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.counts.discarded += this.queue.length;
    this.queue.length = 0;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let frame = this.queue.shift(); frame !== undefined; frame = this.queue.shift()) {
        if (this.queued[frame.source]-- === this.maxQueued) this.hooks.resume(frame.source);
        const verdict = await this.hooks.inspect(frame, this.indexes[frame.source]++);
        if (this.stopped || verdict.type === 'cancelled') {
          this.counts.discarded++;
          return;
        }
        if (verdict.type === 'drop') {
          this.counts.dropped++;
        } else if (verdict.type === 'close') {
          this.counts.dropped++;
          this.stop();
          this.hooks.close(verdict);
          return;
        } else {
          if (frame.source === 'client') this.counts.forwardedClientToServer++;
          else this.counts.forwardedServerToClient++;
          await this.hooks.forward(frame);
          if (this.stopped) return;
        }
      }
    } finally {
      this.running = false;
    }
  }
}
