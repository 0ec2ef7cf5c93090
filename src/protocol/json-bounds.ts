// Nesting bound for JSON payloads. V8's JSON.parse is iterative and happily builds a value nested a
// million deep, but everything that later walks that value recursively — a structured clone over a
// MessagePort, JSON.stringify, msgpackr when the value is re-encoded — dies with an untyped
// RangeError. So a peer's JSON is refused before parsing when its brackets nest deeper than
// MAX_PAYLOAD_DEPTH, the same cap the MessagePack pre-scan applies.
import { MAX_PAYLOAD_DEPTH } from './msgpack-bounds.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Deepest bracket nesting of `text`, stopping early once it passes `limit` (returns limit + 1). When
 * the text has too few brackets to nest deeper than `limit` it is not walked and 0 is returned.
 * Strings are skipped with indexOf, so long base64 bodies cost almost nothing. Exact for valid JSON;
 * for invalid JSON the answer does not matter (JSON.parse rejects it).
 */
export function jsonNestingDepth(text: string, limit: number = MAX_PAYLOAD_DEPTH): number {
  const n = text.length;
  // Nesting deeper than `limit` needs more than `limit` opening brackets: count them first with
  // indexOf (native, fast), and walk the text only when there are that many.
  if (n <= 2 * limit || !moreOpeningsThan(text, limit)) return 0;
  let depth = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i + 1);
      if (i < 0) return max;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return max;
}

function moreOpeningsThan(text: string, limit: number): boolean {
  let count = 0;
  for (let at = text.indexOf('{'); at >= 0; at = text.indexOf('{', at + 1)) if (++count > limit) return true;
  for (let at = text.indexOf('['); at >= 0; at = text.indexOf('[', at + 1)) if (++count > limit) return true;
  return false;
}

/** Index of the quote that closes a string whose body starts at `from`; -1 when unterminated. */
function closingQuote(text: string, from: number): number {
  let at = text.indexOf('"', from);
  while (at > 0) {
    // The quote is escaped when an odd number of backslashes precede it.
    let k = at - 1;
    while (k >= from && text.charCodeAt(k) === BACKSLASH) k--;
    if ((at - 1 - k) % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return -1;
}
