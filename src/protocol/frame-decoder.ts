// Streaming UDS / reverse frame reader (spec §2.2). Accepts any chunking of the byte stream and
// hands out complete frames in order. A frame that lies wholly inside one pushed chunk is delivered
// as a view into it (no copy); a frame split across chunks is joined with exactly one copy once its
// last byte is in. Header checks run as soon as their bytes arrive, so an oversize length or an
// unknown type fails at once instead of after buffering up to 16 MiB.
import type { AgentPoolError } from './errors.js';
import { protocolError } from './errors.js';
import { MAX_FRAME_LENGTH } from './frame-encoder.js';
import { MessageType, unknownMessageTypeText } from './message-type.js';

export type FrameHandler = (type: number, payload: Buffer) => void;

const KNOWN = new Uint8Array(256);
for (const code of Object.values(MessageType)) KNOWN[code] = 1;

// What is known about the partial frame at the head of the buffered bytes.
const Head = {
  /** Fewer than 4 bytes seen; need the length prefix. */
  None: 0,
  /** Length validated; need the type byte. */
  Length: 1,
  /** Length and type validated; need the rest of the frame. */
  Type: 2,
} as const;
type Head = (typeof Head)[keyof typeof Head];

function zeroLength(): AgentPoolError {
  return protocolError('Invalid message format: Zero-length message');
}

function tooLarge(n: number): AgentPoolError {
  return protocolError(`Message too large: ${n} bytes (max: ${MAX_FRAME_LENGTH})`);
}

export class FrameDecoder {
  private readonly onFrame: FrameHandler;
  /** Bytes of an incomplete frame (views into pushed chunks), in arrival order. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  private head: Head = Head.None;
  /** N of the partial frame, once known. */
  private frameLength = 0;
  /** Buffered byte count at which the next header check or the frame completion can happen. */
  private need = 4;
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
    return this.partsLength;
  }

  /**
   * Feed the next bytes of the stream. Throws ZAP_PROTOCOL_ERROR (Display texts of §2.2) on a
   * framing error; the stream cannot be trusted afterwards, so the decoder stays failed.
   * An exception thrown by `onFrame` propagates unchanged and does not fail the decoder: the
   * bytes after that frame stay buffered and are processed by the next push() or end().
   */
  push(chunk: Buffer): void {
    if (this.error !== null) throw this.error;
    if (chunk.length === 0) return;
    if (this.partsLength === 0) {
      this.parse(chunk);
      return;
    }
    this.parts.push(chunk);
    this.partsLength += chunk.length;
    this.drain();
  }

  /**
   * The peer closed the stream. EOF between frames is an orderly close (no-op); EOF inside a frame
   * throws ZAP_PROTOCOL_ERROR 'Truncated frame: …' and fails the decoder.
   */
  end(): void {
    if (this.error !== null) throw this.error;
    this.drain();
    if (this.partsLength === 0) return;
    const text =
      this.head === Head.None
        ? `Truncated frame: stream ended inside the length prefix (${this.partsLength} of 4 bytes)`
        : `Truncated frame: stream ended after ${this.partsLength} of ${4 + this.frameLength} bytes`;
    throw this.fail(protocolError(text));
  }

  private fail(err: AgentPoolError): AgentPoolError {
    this.error = err;
    this.parts = [];
    this.partsLength = 0;
    return err;
  }

  /** Advance header checks over the buffered parts; parse once a whole frame is in. */
  private drain(): void {
    while (this.partsLength > 0 && this.partsLength >= this.need) {
      if (this.head === Head.None) {
        const n = ((this.peek(0) << 24) | (this.peek(1) << 16) | (this.peek(2) << 8) | this.peek(3)) >>> 0;
        if (n === 0) throw this.fail(zeroLength());
        if (n > MAX_FRAME_LENGTH) throw this.fail(tooLarge(n));
        this.frameLength = n;
        this.head = Head.Length;
        this.need = 5;
      } else if (this.head === Head.Length) {
        const type = this.peek(4);
        if (KNOWN[type] !== 1) throw this.fail(protocolError(unknownMessageTypeText(type)));
        this.head = Head.Type;
        this.need = 4 + this.frameLength;
      } else {
        const parts = this.parts;
        const joined = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, this.partsLength);
        this.parts = [];
        this.partsLength = 0;
        this.head = Head.None;
        this.need = 4;
        this.parse(joined);
        return;
      }
    }
  }

  /** Byte `index` of the buffered parts (only used for the 5 header bytes). */
  private peek(index: number): number {
    for (const part of this.parts) {
      if (index < part.length) return part[index] as number;
      index -= part.length;
    }
    return 0;
  }

  /** Deliver every complete frame of `buf`; keep the incomplete tail (the decoder holds nothing on entry). */
  private parse(buf: Buffer): void {
    const length = buf.length;
    let offset = 0;
    while (offset < length) {
      const remaining = length - offset;
      if (remaining < 4) {
        this.keep(buf, offset, Head.None, 0, 4);
        return;
      }
      const n = buf.readUInt32BE(offset);
      if (n === 0) throw this.fail(zeroLength());
      if (n > MAX_FRAME_LENGTH) throw this.fail(tooLarge(n));
      if (remaining < 5) {
        this.keep(buf, offset, Head.Length, n, 5);
        return;
      }
      const type = buf[offset + 4] as number;
      if (KNOWN[type] !== 1) throw this.fail(protocolError(unknownMessageTypeText(type)));
      const end = offset + 4 + n;
      if (end > length) {
        this.keep(buf, offset, Head.Type, n, 4 + n);
        return;
      }
      const payload = buf.subarray(offset + 5, end);
      offset = end;
      try {
        this.onFrame(type, payload);
      } catch (err) {
        // The handler's failure is not a framing error: keep the unread rest for the next call.
        if (offset < length) this.keep(buf, offset, Head.None, 0, 4);
        throw err;
      }
    }
  }

  private keep(buf: Buffer, offset: number, head: Head, frameLength: number, need: number): void {
    this.parts = [buf.subarray(offset)];
    this.partsLength = buf.length - offset;
    this.head = head;
    this.frameLength = frameLength;
    this.need = need;
  }
}
