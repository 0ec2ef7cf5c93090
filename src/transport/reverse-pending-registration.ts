// One accepted reverse socket before its registration is decided (spec §9.4 steps 1–2): the
// handshake-timeout clock (running from the TCP/UDS accept, TLS handshake included), the first
// frame, and the way out — refused with a RegistrationResponse, handed over, or gone.
import type { Socket } from 'node:net';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { encodeFrame } from '../protocol/frame-encoder.js';
import { MessageType } from '../protocol/message-type.js';
import { encodeRegistrationResponse, registrationRefusal } from '../protocol/registration.js';
import { VERSION } from '../version.js';
import { FirstFrameReader, type FirstFrame } from './reverse-first-frame.js';

/** How long a refused peer may take to read the refusal and close before we cut it off. */
const REFUSAL_GRACE_MS = 1_000;

export interface PendingRegistrationEvents {
  /** The first frame is complete (the socket is still ours: refuse or hand it over). */
  frame(p: PendingRegistration, frame: FirstFrame): void;
  /** The bytes are not a valid frame; `text` is the §2.2 Display text to send. */
  failed(p: PendingRegistration, text: string): void;
  /** No complete frame within the handshake timeout (the socket is readable, so a refusal can go out). */
  timedOut(p: PendingRegistration): void;
  /** EOF, error or close before a decision: nothing can be sent. */
  gone(p: PendingRegistration): void;
}

const noop = (): void => {};

export class PendingRegistration {
  /** True once refused, handed over or gone. */
  done = false;
  private socket: Socket | undefined;
  private readonly reader: FirstFrameReader;
  private readonly timer: NodeJS.Timeout;
  private readonly onData = (chunk: Buffer): void => this.read(chunk);
  private readonly onEnd = (): void => this.ended();

  /**
   * `raw` is the accepted socket; for TLS, attach() gets the TLS socket once it is secure.
   * `maxFrameBytes` bounds the registration frame (checked on its length prefix, before buffering).
   */
  constructor(
    readonly raw: Socket,
    timeoutMs: number,
    maxFrameBytes: number,
    private readonly events: PendingRegistrationEvents,
  ) {
    this.reader = new FirstFrameReader(maxFrameBytes);
    raw.on('error', noop);
    raw.once('close', () => this.lost());
    this.timer = setTimeout(() => this.timedOut(), timeoutMs);
  }

  /** Starts reading the registration frame from `socket` (raw, or the TLS socket over it). */
  attach(socket: Socket): void {
    if (this.done) {
      socket.destroy();
      return;
    }
    this.socket = socket;
    if (socket !== this.raw) {
      socket.on('error', noop);
      socket.once('close', () => this.lost());
    }
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
  }

  /**
   * Sends `success:false` with `text`, then closes (spec §9.4: the refusal goes out before the close).
   * `closed` runs once the socket is gone (at the latest after the grace period).
   */
  refuse(text: string, closed: () => void): void {
    const socket = this.finish();
    if (socket === undefined) {
      this.raw.destroy();
      closed();
    } else {
      writeRefusal(socket, text, closed);
    }
  }

  /** Ends our part: the caller now owns the socket, paused, with none of our listeners on it. */
  handOver(): Socket {
    const socket = this.finish();
    // Only a bug of ours gets here (the listener hands over once, after the registration): internal.
    if (socket === undefined) throw zapError(ErrorCode.Error, 'reverse listener: no registered socket to hand over');
    return socket;
  }

  /** Drops the socket without a word (listener closing, or TLS never completed). */
  destroy(): void {
    this.finish();
    this.raw.destroy();
    this.socket?.destroy();
  }

  private finish(): Socket | undefined {
    this.done = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    if (socket !== undefined) {
      socket.pause();
      socket.off('data', this.onData);
      socket.off('end', this.onEnd);
    }
    return socket;
  }

  private read(chunk: Buffer): void {
    if (this.done) return;
    let frame: FirstFrame | undefined;
    try {
      frame = this.reader.push(chunk);
    } catch (err) {
      this.events.failed(this, err instanceof Error ? err.message : String(err));
      return;
    }
    if (frame !== undefined) this.events.frame(this, frame);
  }

  private ended(): void {
    if (this.done) return;
    this.finish();
    this.raw.destroy();
    this.socket?.destroy();
    this.events.gone(this);
  }

  private lost(): void {
    if (this.done) return;
    this.finish();
    this.events.gone(this);
  }

  private timedOut(): void {
    if (this.done) return;
    if (this.socket === undefined) {
      // TLS not even negotiated: nothing can be written, just close.
      this.destroy();
      this.events.gone(this);
      return;
    }
    this.events.timedOut(this);
  }
}

/** Writes a `success:false` RegistrationResponse, ends the socket, and cuts it off after a grace period. */
function writeRefusal(socket: Socket, text: string, closed: () => void = noop): void {
  const frame = encodeFrame(MessageType.HandshakeResponse, encodeRegistrationResponse(registrationRefusal(text, VERSION)));
  // Keep reading (and dropping) what the peer still sends, so a TCP reset cannot swallow the refusal.
  socket.on('error', noop);
  socket.on('data', noop);
  if (socket.destroyed) closed();
  else socket.once('close', closed);
  socket.resume();
  socket.end(frame);
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}
