// A single-producer, single-consumer byte ring in a SharedArrayBuffer, with Atomics.waitAsync as
// the doorbell: the writer notifies only when the reader said it is going to sleep. Measured by
// bench/worker-messages.ts against transferred batches; not used by the pool (see its header).
const HEAD = 0;
const TAIL = 1;
const SLEEPING = 2;
const SEQ = 3;
const WRAP = 0xffffffff;

/** Atomics.waitAsync (V8 ≥ 8.7, Node ≥ 16), which the ES2022 lib we compile against does not declare. */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** The shared memory of one direction: `data` holds length-prefixed records, `control` the indices. */
export interface RingBuffers {
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

export function ringBuffers(capacity: number): RingBuffers {
  return { data: new SharedArrayBuffer(capacity), control: new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT) };
}

export class RingWriter {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly control: Int32Array;

  constructor(buffers: RingBuffers) {
    this.bytes = new Uint8Array(buffers.data);
    this.view = new DataView(buffers.data);
    this.control = new Int32Array(buffers.control);
  }

  /** Appends one record; throws when the ring is full (a bench sizes its ring to never be). */
  write(record: Uint8Array): void {
    const capacity = this.bytes.byteLength;
    const head = Atomics.load(this.control, HEAD);
    let tail = Atomics.load(this.control, TAIL);
    const need = 4 + record.byteLength;
    if (tail + need > capacity) {
      if (head > tail || head <= need) throw new Error('ring full');
      if (tail + 4 <= capacity) this.view.setUint32(tail, WRAP, true);
      tail = 0;
    } else if (head > tail && tail + need >= head) throw new Error('ring full');
    this.view.setUint32(tail, record.byteLength, true);
    this.bytes.set(record, tail + 4);
    Atomics.store(this.control, TAIL, tail + need);
    if (Atomics.load(this.control, SLEEPING) === 1) {
      Atomics.store(this.control, SLEEPING, 0);
      Atomics.add(this.control, SEQ, 1);
      Atomics.notify(this.control, SEQ);
    }
  }
}

export class RingReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly control: Int32Array;
  private stopped = false;

  constructor(
    buffers: RingBuffers,
    private readonly onRecord: (bytes: ArrayBuffer) => void,
  ) {
    this.bytes = new Uint8Array(buffers.data);
    this.view = new DataView(buffers.data);
    this.control = new Int32Array(buffers.control);
  }

  start(): void {
    this.drainThenWait();
  }

  stop(): void {
    this.stopped = true;
    Atomics.add(this.control, SEQ, 1);
    Atomics.notify(this.control, SEQ);
  }

  private drain(): boolean {
    let head = Atomics.load(this.control, HEAD);
    let any = false;
    while (head !== Atomics.load(this.control, TAIL)) {
      if (head + 4 > this.bytes.byteLength || this.view.getUint32(head, true) === WRAP) {
        head = 0;
        continue;
      }
      const length = this.view.getUint32(head, true);
      // A copy: the writer reuses the space as soon as HEAD moves.
      const record = this.bytes.slice(head + 4, head + 4 + length);
      head += 4 + length;
      Atomics.store(this.control, HEAD, head);
      this.onRecord(record.buffer);
      any = true;
    }
    return any;
  }

  private drainThenWait(): void {
    while (!this.stopped) {
      this.drain();
      const seq = Atomics.load(this.control, SEQ);
      Atomics.store(this.control, SLEEPING, 1);
      // A record written before SLEEPING was set rang no bell: look once more before waiting.
      if (Atomics.load(this.control, HEAD) !== Atomics.load(this.control, TAIL)) {
        Atomics.store(this.control, SLEEPING, 0);
        continue;
      }
      const wait = waitAsync(this.control, SEQ, seq);
      if (wait.async) {
        void wait.value.then(() => this.drainThenWait());
        return;
      }
    }
  }
}
