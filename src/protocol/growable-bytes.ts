// A byte buffer that doubles when a write needs more room, for the writers that append to one
// scratch buffer per thread: the router↔host batches (contract/batch-bytes.ts) and packed JSON
// (transport/packed-json.ts), which a send batch lets pack straight into its own buffer.

/** First size of a scratch buffer. */
export const INITIAL_BYTES = 4096;
/** A buffer grown past this by one large write is let go after it, so a burst does not pin memory. */
export const KEEP_BYTES = 1 << 20;

export class GrowableBytes {
  bytes!: Buffer;
  view!: DataView;
  /** `bytes.byteLength`, kept as a field: the room check runs on every write, and the getter is a call. */
  private capacity = 0;
  /** Bytes written so far. */
  length = 0;

  /** The buffer's size in bytes. */
  get capacityBytes(): number {
    return this.capacity;
  }

  constructor() {
    this.reset(INITIAL_BYTES);
  }

  /**
   * Writes go on in `other`'s buffer (grown or not, with what it holds), from this writer's own
   * `length`: two writers that take turns appending to one buffer (a send batch and its packer).
   */
  useBufferOf(other: GrowableBytes): void {
    this.bytes = other.bytes;
    this.view = other.view;
    this.capacity = other.capacity;
  }

  /**
   * Hands the whole buffer out (to transfer; the caller knows how much of it is written) and goes on
   * in `next`, or in a new buffer of the same size (the first size after one grown past KEEP_BYTES, as
   * release() does). `length` is the caller's to reset.
   */
  handOver(next: ArrayBuffer | undefined): ArrayBuffer {
    // Ours from Buffer.allocUnsafeSlow or a transfer: an ArrayBuffer of its own, never a shared one.
    const out = this.bytes.buffer as ArrayBuffer;
    if (next === undefined) this.reset(this.capacity > KEEP_BYTES ? INITIAL_BYTES : this.capacity);
    else this.install(Buffer.from(next));
    return out;
  }

  /** Lets a buffer grown past KEEP_BYTES go (call once its bytes were copied or handed out). */
  release(): void {
    if (this.capacity > KEEP_BYTES) this.reset(INITIAL_BYTES);
  }

  /** Room for `extra` more bytes after `length`; what is written stays. */
  protected room(extra: number): void {
    if (this.length + extra > this.capacity) this.grow(this.length + extra);
  }

  private grow(need: number): void {
    let size = this.capacity * 2;
    while (size < need) size *= 2;
    const kept = this.bytes.subarray(0, this.length);
    this.reset(size);
    this.bytes.set(kept);
  }

  private reset(size: number): void {
    this.install(Buffer.allocUnsafeSlow(size));
  }

  private install(bytes: Buffer): void {
    this.bytes = bytes;
    this.capacity = bytes.byteLength;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}
