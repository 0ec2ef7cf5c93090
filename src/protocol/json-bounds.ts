// Shape bounds for JSON payloads, the same caps the MessagePack pre-scan applies. V8's JSON.parse is
// iterative and happily builds a value nested a million deep, but everything that later walks that
// value recursively — a structured clone over a MessagePort, JSON.stringify, msgpackr when the value
// is re-encoded — dies with an untyped RangeError. And `[{},{},…]` turns 16 MiB of text into 5.6 M
// objects (340 MiB of heap). So a peer's JSON is refused before parsing when its brackets nest deeper
// than MAX_PAYLOAD_DEPTH or open more than MAX_PAYLOAD_CONTAINERS arrays and objects.
import { MAX_PAYLOAD_CONTAINERS, MAX_PAYLOAD_DEPTH } from './msgpack-bounds.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

export interface JsonShape {
  /** Deepest bracket nesting (stops counting once past the depth limit). */
  depth: number;
  /** Arrays and objects opened (stops counting once past the container limit). */
  containers: number;
}

/**
 * The nesting depth and container count of `text`, exact for valid JSON (for invalid JSON the answer
 * does not matter: JSON.parse rejects it). Texts with no more than `maxDepth` opening brackets — every
 * usual payload — are not walked: the brackets are counted with indexOf and `{ depth: 0, containers: 0 }`
 * is returned. Otherwise the text is walked once, strings skipped with indexOf.
 */
export function jsonShape(text: string, maxDepth: number = MAX_PAYLOAD_DEPTH, maxContainers: number = MAX_PAYLOAD_CONTAINERS): JsonShape {
  const shape = { depth: 0, containers: 0 };
  if (text.length <= 2 * maxDepth || !moreOpeningsThan(text, Math.min(maxDepth, maxContainers))) return shape;
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i + 1);
      if (i < 0) return shape;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > shape.depth) shape.depth = depth;
      if (depth > maxDepth || ++shape.containers > maxContainers) return shape;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return shape;
}

/** Why `text` is refused before parsing, or null when it is within the caps. */
export function jsonBoundsViolation(text: string): string | null {
  const shape = jsonShape(text);
  if (shape.depth > MAX_PAYLOAD_DEPTH) return `nesting deeper than ${MAX_PAYLOAD_DEPTH}`;
  if (shape.containers > MAX_PAYLOAD_CONTAINERS) return `more than ${MAX_PAYLOAD_CONTAINERS} arrays and objects`;
  return null;
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
