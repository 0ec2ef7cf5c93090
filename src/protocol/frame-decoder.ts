// Streaming UDS / reverse frame reader (spec §2.2). Accepts any chunking of the byte stream and
// hands out complete frames in order. A frame that lies wholly inside one pushed chunk is delivered
// as a view into it (no copy). The bytes of a frame split across chunks are copied, as they arrive,
// into one buffer the decoder owns and grows geometrically, so its memory stays within about twice
// the bytes it holds whatever the chunking: keeping each chunk (a Buffer object per 1-byte read,
// each pinning its socket allocation) cost ~250 bytes per byte held (issue 11). The announced length
// is never allocated up front: a peer can announce 16 MiB and send nothing. Header checks run as
// soon as their bytes arrive, so an oversize length or an unknown type fails at once.
import type { AgentPoolError } from './errors.js';
import { protocolError } from './errors.js';
import { MAX_FRAME_LENGTH } from './frame-encoder.js';
import { MessageType, unknownMessageTypeText } from './message-type.js';
import { foreignFrameText } from './docs-dialect.js';

export type FrameHandler = (type: number, payload: Buffer) => void;

const KNOWN = new Uint8Array(256);
for (const code of Object.values(MessageType)) KNOWN[code] = 1;

/**
 * Smallest owned buffer once the frame's length is known (never more than the frame itself): a split
 * event of a few hundred bytes then takes one allocation, like the join it replaces.
 */
const MIN_CAPACITY = 4096;
/** Owned buffer for the first bytes of a frame whose length prefix is not complete yet. */
const PREFIX_CAPACITY = 16;
const HEADER = 5;

function zeroLength(): AgentPoolError {
  return protocolError('Invalid message format: Zero-length message');
}

function tooLarge(n: number): AgentPoolError {
  return protocolError(`Message too large: ${n} bytes (max: ${MAX_FRAME_LENGTH})`);
}

export class FrameDecoder {
  private readonly onFrame: FrameHandler;
  /**
   * Owned copy of buffered stream bytes, starting at a frame boundary: normally the head of one
   * incomplete frame; after an onFrame exception, the whole unread rest of that chunk.
   */
  private buf: Buffer | null = null;
  /** Valid bytes at the start of `buf`. */
  private held = 0;
  private error: AgentPoolError | null = null;

  /** `onFrame` runs synchronously inside push(), once per complete frame, in stream order. */
  constructor(onFrame: FrameHandler) {
    this.onFrame = onFrame;
  }

  /** True once a framing error was thrown; every later push() rethrows it. */
  get failed(): boolean {
    return this.error !== null;
  }

  /** Bytes held for a frame that is not complete yet. */
  get bufferedBytes(): number {
    return this.held;
  }

  /**
   * Bytes allocated to hold them: at most max(2 × bufferedBytes, 4096) and never more than the frame
   * being assembled (after an onFrame exception: what is left of the chunk it was in).
   */
  get capacity(): number {
    return this.buf === null ? 0 : this.buf.length;
  }

  /**
   * Feed the next bytes of the stream. Throws ZAP_PROTOCOL_ERROR (Display texts of §2.2) on a
   * framing error; the stream cannot be trusted afterwards, so the decoder stays failed.
   * An exception thrown by `onFrame` propagates unchanged and does not fail the decoder: the
   * bytes after that frame stay buffered and are processed by the next push() or end().
   */
  push(chunk: Buffer): void {
    if (this.error !== null) throw this.error;
    const offset = this.held === 0 ? 0 : this.feedHeld(chunk);
    if (offset < chunk.length) this.parse(chunk, offset);
  }

  /**
   * The peer closed the stream. EOF between frames is an orderly close (no-op); EOF inside a frame
   * throws ZAP_PROTOCOL_ERROR 'Truncated frame: …' and fails the decoder.
   */
  end(): void {
    if (this.error !== null) throw this.error;
    if (this.held > 0) this.feedHeld(EMPTY);
    if (this.held === 0) return;
    const text =
      this.held < 4
        ? `Truncated frame: stream ended inside the length prefix (${this.held} of 4 bytes)`
        : `Truncated frame: stream ended after ${this.held} of ${4 + (this.buf as Buffer).readUInt32BE(0)} bytes`;
    throw this.fail(protocolError(text));
  }

  private fail(err: AgentPoolError): AgentPoolError {
    this.error = err;
    this.buf = null;
    this.held = 0;
    return err;
  }

  /** Checks the length prefix at `at`; returns N. */
  private frameLength(b: Buffer, at: number): number {
    const n = b.readUInt32BE(at);
    if (n === 0) throw this.fail(zeroLength());
    if (n > MAX_FRAME_LENGTH) throw this.fail(tooLarge(n));
    return n;
  }

  /** `next`: the byte after the type, when it has arrived (only read on failure, to name a foreign framing). */
  private checkType(type: number, next: number | undefined): void {
    if (KNOWN[type] === 1) return;
    const foreign = foreignFrameText(type, next, false);
    throw this.fail(protocolError(foreign === undefined ? unknownMessageTypeText(type) : `${unknownMessageTypeText(type)}: ${foreign}`));
  }

  /**
   * Complete the held frame(s) from `chunk`, copying only the bytes they still need; delivers every
   * frame that completes. Returns the offset of the first byte of `chunk` not taken.
   */
  private feedHeld(chunk: Buffer): number {
    let offset = 0;
    while (this.held > 0) {
      const b = this.buf as Buffer;
      let target: number; // bytes the head frame needs before the next check or its delivery
      if (this.held < 4) {
        target = 4;
      } else {
        const n = this.frameLength(b, 0);
        if (this.held < HEADER) {
          target = HEADER;
        } else {
          this.checkType(b[4] as number, this.held > HEADER ? b[5] : undefined);
          target = 4 + n;
          if (this.held >= target) {
            try {
              this.deliverHeld(target);
            } catch (err) {
              // As in parse(): the handler failed, the unread rest of the chunk waits for the next call.
              if (offset < chunk.length) this.append(chunk, offset, chunk.length - offset, Infinity);
              throw err;
            }
            continue;
          }
        }
      }
      if (offset >= chunk.length) break;
      const take = Math.min(target - this.held, chunk.length - offset);
      this.append(chunk, offset, take, this.held >= 4 ? 4 + b.readUInt32BE(0) : Infinity);
      offset += take;
    }
    return offset;
  }

  /** Hand out the held frame of `size` bytes; whatever follows it moves to a fresh buffer first. */
  private deliverHeld(size: number): void {
    const b = this.buf as Buffer;
    const rest = this.held - size;
    this.buf = null;
    this.held = 0;
    // The delivered payload may be kept by its consumer: never write into `b` again.
    if (rest > 0) this.append(b, size, rest, Infinity);
    this.onFrame(b[4] as number, b.subarray(HEADER, size));
  }

  /**
   * Copy `length` bytes of `src` at `from` after the held bytes, growing the owned buffer
   * geometrically. `frameSize`: 4 + N of the held frame, Infinity while its prefix is incomplete.
   */
  private append(src: Buffer, from: number, length: number, frameSize: number): void {
    const want = this.held + length;
    const cap = this.buf === null ? 0 : this.buf.length;
    if (want > cap) {
      // Double (at least MIN_CAPACITY), but never past the frame's own size nor below what is needed.
      const grown =
        frameSize === Infinity
          ? Math.max(want, cap * 2, PREFIX_CAPACITY)
          : Math.max(want, Math.min(Math.max(cap * 2, MIN_CAPACITY), frameSize));
      // Every byte a frame's payload exposes is written before delivery, so uninitialised memory is
      // fine; below 4 KiB allocUnsafe takes a slice of Node's 8 KiB pool (fast, pins 8 KiB at most).
      const next = Buffer.allocUnsafe(grown);
      if (this.buf !== null && this.held > 0) this.buf.copy(next, 0, 0, this.held);
      this.buf = next;
    }
    src.copy(this.buf as Buffer, this.held, from, from + length);
    this.held = want;
  }

  /** Deliver every complete frame of `chunk` from `offset` as views; copy the incomplete tail (nothing is held on entry). */
  private parse(chunk: Buffer, offset: number): void {
    const length = chunk.length;
    while (offset < length) {
      const remaining = length - offset;
      if (remaining < 4) break;
      const n = this.frameLength(chunk, offset);
      if (remaining < HEADER) break;
      const type = chunk[offset + 4] as number;
      this.checkType(type, chunk[offset + HEADER]);
      const end = offset + 4 + n;
      if (end > length) break;
      const payload = chunk.subarray(offset + HEADER, end);
      offset = end;
      try {
        this.onFrame(type, payload);
      } catch (err) {
        // The handler's failure is not a framing error: keep the unread rest for the next call.
        if (offset < length) this.append(chunk, offset, length - offset, Infinity);
        throw err;
      }
    }
    if (offset < length) {
      const frameSize = length - offset >= 4 ? 4 + chunk.readUInt32BE(offset) : Infinity;
      this.append(chunk, offset, length - offset, frameSize);
    }
  }
}

const EMPTY = Buffer.alloc(0);
