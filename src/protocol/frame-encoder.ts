// UDS / reverse frame writer (spec §2.1, §2.3): 4-byte big-endian N = 1 + payload length, the type
// byte, the payload. The writer rejects what its own reader would reject (unlike the reference,
// which writes a 16 MiB payload that no reader accepts).
import { ErrorCode, zapError } from './errors.js';
import { isKnownMessageType, messageTypeName } from './message-type.js';

/** Largest N (type byte + payload) a reader accepts. */
export const MAX_FRAME_LENGTH = 16_777_216;
/** Largest payload a writer may send, so that N never exceeds MAX_FRAME_LENGTH. */
export const MAX_PAYLOAD_LENGTH = MAX_FRAME_LENGTH - 1;
/** Length prefix plus type byte. */
export const FRAME_HEADER_LENGTH = 5;

function checkFrame(type: number, payloadLength: number): void {
  if (payloadLength > MAX_PAYLOAD_LENGTH) {
    throw zapError(
      ErrorCode.FrameTooLarge,
      `Frame too large: ${messageTypeName(type)} payload of ${payloadLength} bytes (max: ${MAX_PAYLOAD_LENGTH})`,
    );
  }
  // A code our peers would reject is the caller's mistake: fail this call, not the connection.
  if (!isKnownMessageType(type)) {
    throw zapError(ErrorCode.InvalidArgument, `Cannot write a frame of unknown message type ${messageTypeName(type)}`);
  }
}

/**
 * One contiguous Buffer holding the whole frame (a frame is written as one unit, §2.3).
 * A payload over MAX_PAYLOAD_LENGTH throws ZAP_FRAME_TOO_LARGE before anything is produced, so
 * only that call fails; the connection is untouched.
 */
export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const length = payload.byteLength;
  checkFrame(type, length);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  writeFrameHeader(frame, 0, length, type);
  frame.set(payload, FRAME_HEADER_LENGTH);
  return frame;
}

/**
 * The §2.1 header at `offset` of `target`, for writers that build the payload in place: the u32
 * length N = 1 + payload bytes (big-endian; N counts the type byte), then the type. No checks.
 */
export function writeFrameHeader(target: Uint8Array, offset: number, payloadLength: number, type: number): void {
  const n = payloadLength + 1;
  target[offset] = n >>> 24;
  target[offset + 1] = (n >>> 16) & 0xff;
  target[offset + 2] = (n >>> 8) & 0xff;
  target[offset + 3] = n & 0xff;
  target[offset + 4] = type;
}

/**
 * Only the 5 header bytes, for writers that send a large payload with writev/cork instead of
 * copying it. Same checks as encodeFrame.
 */
export function encodeFrameHeader(type: number, payloadLength: number): Buffer {
  checkFrame(type, payloadLength);
  const header = Buffer.allocUnsafe(FRAME_HEADER_LENGTH);
  writeFrameHeader(header, 0, payloadLength, type);
  return header;
}

/**
 * The checks of encodeTextFrame without building the frame (the text is framed later, where it is
 * copied anyway). UTF-8 takes at most 3 bytes per UTF-16 unit, so only a long text is measured.
 */
export function checkTextFrame(type: number, text: string): void {
  checkFrame(type, text.length * 3 > MAX_PAYLOAD_LENGTH ? Buffer.byteLength(text, 'utf8') : 0);
}

/**
 * A frame whose payload is `text` as UTF-8, built with one allocation and one copy (no
 * intermediate payload Buffer): the hot path of JSON events.
 */
export function encodeTextFrame(type: number, text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  checkFrame(type, length);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  writeFrameHeader(frame, 0, length, type);
  frame.write(text, FRAME_HEADER_LENGTH, length, 'utf8');
  return frame;
}
