// Reads exactly one frame off the start of a reverse connection (the registration request on the
// proxy side, the registration reply on the agent side) and hands back whatever arrived after it in
// the same read, so the connection that takes over the socket loses no byte.
//
// The peer is not authenticated yet, so this reader bounds its memory itself: the length prefix is
// checked as soon as its 4 bytes are in (an announced length over `maxFrameBytes` fails at once,
// nothing is buffered), and the frame is then copied into one buffer of exactly that size, however
// finely the peer drips it. Error texts are the §2.2 Display texts, with our limit as the max.
import { protocolError } from '../protocol/errors.js';
import { FRAME_HEADER_LENGTH } from '../protocol/frame-encoder.js';
import { MessageType, unknownMessageTypeText } from '../protocol/message-type.js';
import { foreignFrameText } from '../protocol/docs-dialect.js';

/** Default bound on a registration frame's N (type byte + payload): 64 KiB (ours, §13.2). */
export const DEFAULT_MAX_REGISTRATION_BYTES = 65_536;

export interface FirstFrame {
  type: number;
  payload: Buffer;
  /** Bytes after the frame in the read that completed it (may hold partial frames). */
  leftover: Buffer;
}

const KNOWN = new Set<number>(Object.values(MessageType));
const LENGTH_BYTES = FRAME_HEADER_LENGTH - 1;

export class FirstFrameReader {
  /** The 4 length bytes, then (once N is known and allowed) the whole frame body. */
  private readonly header = Buffer.alloc(LENGTH_BYTES);
  private headerFill = 0;
  private body: Buffer | undefined;
  private bodyFill = 0;
  private done = false;

  /**
   * `maxFrameBytes` bounds N, the announced length (type byte + payload). `readsRegistration`: the
   * proxy side, where a docs-dialect registration (type 0x03) gets named in the error.
   */
  constructor(
    private readonly maxFrameBytes: number = DEFAULT_MAX_REGISTRATION_BYTES,
    private readonly readsRegistration = false,
  ) {}

  /** Bytes held for an incomplete first frame (at most 4 + maxFrameBytes). */
  get bufferedBytes(): number {
    return this.headerFill + this.bodyFill;
  }

  /**
   * Feeds the next chunk; returns the frame once complete, else undefined. Throws ZAP_PROTOCOL_ERROR
   * (a §2.2 Display text) on a framing error or a length over the limit. Call no more after a frame.
   */
  push(chunk: Buffer): FirstFrame | undefined {
    if (this.done) return undefined;
    let at = 0;
    if (this.body === undefined) {
      const take = Math.min(LENGTH_BYTES - this.headerFill, chunk.length);
      chunk.copy(this.header, this.headerFill, 0, take);
      this.headerFill += take;
      at = take;
      if (this.headerFill < LENGTH_BYTES) return undefined;
      const n = this.header.readUInt32BE(0);
      if (n === 0) throw protocolError('Invalid message format: Zero-length message');
      if (n > this.maxFrameBytes) throw protocolError(`Message too large: ${n} bytes (max: ${this.maxFrameBytes})`);
      this.body = Buffer.allocUnsafe(n);
    }
    const body = this.body;
    const take = Math.min(body.length - this.bodyFill, chunk.length - at);
    chunk.copy(body, this.bodyFill, at, at + take);
    // The type byte is checked as soon as it is in (§2.2 step 4).
    if (this.bodyFill === 0 && take > 0 && !KNOWN.has(body[0] as number)) {
      const type = body[0] as number;
      const foreign = foreignFrameText(type, take > 1 ? body[1] : undefined, this.readsRegistration);
      throw protocolError(foreign === undefined ? unknownMessageTypeText(type) : `${unknownMessageTypeText(type)}: ${foreign}`);
    }
    this.bodyFill += take;
    if (this.bodyFill < body.length) return undefined;
    this.done = true;
    return { type: body[0] as number, payload: body.subarray(1), leftover: chunk.subarray(at + take) };
  }
}
