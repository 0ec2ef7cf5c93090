// Close codes and reasons on their way out of the relay. An agent (a peer) chooses them, and ws
// throws on a code a close frame may not carry or a reason over 123 bytes, so both are made
// sendable here instead of letting one agent reply crash the relay.

/** Close code for "the agent failed and its failure mode is closed" (RFC 6455 section 7.4.1: internal error). */
export const CLOSE_AGENT_FAILED = 1011;
/** Close code used when an agent asks for a code no close frame may carry. */
export const CLOSE_POLICY = 1008;
/** A close frame's payload is at most 125 bytes: 2 for the code, 123 for the reason. */
const MAX_REASON_BYTES = 123;

/** Whether `code` may be sent in a close frame (RFC 6455 section 7.4; 1004–1006 and 1015 are reserved). */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** `code` when it is sendable, else `fallback`. */
export function sendableCloseCode(code: number, fallback: number = CLOSE_POLICY): number {
  return isSendableCloseCode(code) ? code : fallback;
}

/** `reason` cut to the 123 UTF-8 bytes a close frame holds, never inside a character. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > MAX_REASON_BYTES) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/**
 * The close code ws sent to a peer whose frames it refused (its `WS_ERR_*` error codes), so the other
 * leg can be told the same; undefined for errors that are not about the peer's frames.
 */
export function closeCodeOfFrameError(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 1009;
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  return 1002;
}
