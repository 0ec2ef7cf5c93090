// Peer-supplied strings (agent ids, metric names, refusal reasons, log lines) on their way into our
// logs and replies. A peer controls every byte of them, so before they are written anywhere a person
// or a log shipper reads they are bounded and their control characters made visible: a newline could
// forge a log line, an ANSI escape could rewrite a terminal, a bidi override could hide text.

/** Default cap, in UTF-16 code units, before a peer string is cut. */
export const PEER_TEXT_MAX = 128;

// C0 controls, DEL, C1 controls, the Unicode line/paragraph separators and the bidi controls.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A peer string made safe for one log line or reply text: cut to `max` code units (the cut is
 * marked with how much was dropped), then control characters written as `\n`, `\xNN` or `\uNNNN`.
 * Non-strings (a peer may send a number where a string belongs) are rendered with String() first.
 */
export function peerText(value: unknown, max: number = PEER_TEXT_MAX): string {
  let s = typeof value === 'string' ? value : String(value);
  let tail = '';
  if (s.length > max) {
    // Never split a surrogate pair: a lone half would become U+FFFD downstream.
    let cut = max;
    const last = s.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut -= 1;
    tail = `…(+${s.length - cut} more)`;
    s = s.slice(0, cut);
  }
  return s.replace(UNSAFE, escapeChar) + tail;
}

/** peerText wrapped in single quotes, for a value that sits inside a sentence. */
export function quotedPeerText(value: unknown, max: number = PEER_TEXT_MAX): string {
  return `'${peerText(value, max).replace(/'/g, "\\'")}'`;
}
