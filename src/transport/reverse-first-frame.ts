// Reads exactly one frame off the start of a reverse connection (the registration request on the
// proxy side, the registration reply on the agent side) and hands back whatever arrived after it in
// the same read, so the connection that takes over the socket loses no byte. Framing checks and
// their error texts are the frame decoder's (spec §2.2).
import { FrameDecoder } from '../protocol/frame-decoder.js';
import { FRAME_HEADER_LENGTH } from '../protocol/frame-encoder.js';

export interface FirstFrame {
  type: number;
  payload: Buffer;
  /** Bytes after the frame in the read that completed it (may hold partial frames). */
  leftover: Buffer;
}

// Thrown from the decoder's callback to stop it after the first frame; never escapes this module.
const STOP = Symbol('first frame read');

export class FirstFrameReader {
  private readonly decoder: FrameDecoder;
  private pushed = 0;
  private frame: { type: number; payload: Buffer } | undefined;

  constructor() {
    this.decoder = new FrameDecoder((type, payload) => {
      this.frame = { type, payload };
      throw STOP;
    });
  }

  /** Bytes held for an incomplete first frame. */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /**
   * Feeds the next chunk; returns the frame once complete, else undefined. Throws the decoder's
   * ZAP_PROTOCOL_ERROR (Display text of §2.2) on a framing error. Call no more after a frame.
   */
  push(chunk: Buffer): FirstFrame | undefined {
    this.pushed += chunk.length;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      if (err !== STOP) throw err;
    }
    const frame = this.frame;
    if (frame === undefined) return undefined;
    // The frame started at stream offset 0 and ended inside this chunk.
    const after = this.pushed - (FRAME_HEADER_LENGTH + frame.payload.length);
    return { ...frame, leftover: after > 0 ? chunk.subarray(chunk.length - after) : Buffer.alloc(0) };
  }

  /** The stream ended before a whole frame: throws the decoder's truncation error if bytes were held. */
  end(): void {
    this.decoder.end();
  }
}
