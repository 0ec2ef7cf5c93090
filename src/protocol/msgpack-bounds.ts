// Structural pre-scan of a MessagePack payload, run before msgpackr sees it. msgpackr trusts the
// headers it reads: an array32 header claiming 16 M elements makes it allocate `new Array(16M)`
// (128 MiB) before it reads one element, so 205 bytes of nested headers could exhaust the heap.
// This walk allocates nothing and reads every header once: each container count and each
// str/bin/ext length must fit in the bytes that are left, nesting stops at MAX_PAYLOAD_DEPTH, at
// most MAX_PAYLOAD_CONTAINERS arrays and maps may appear (an empty map is one byte on the wire but a
// ~64-byte object once decoded: 16 MiB of them decoded to 1 GiB), and the bytes must hold exactly
// one value. A payload that passes cannot make the decoder allocate more than a small multiple of
// its own size, nor recurse deeper than the cap.
import { protocolError } from './errors.js';

/**
 * Deepest nesting of arrays and maps (MessagePack) or arrays and objects (JSON) a peer payload may
 * have. Far above anything the protocol writes; low enough that no recursive walker (msgpackr, a
 * structured clone, JSON.stringify) can run out of stack on a decoded value.
 */
export const MAX_PAYLOAD_DEPTH = 64;

/**
 * Most arrays and maps (objects) one peer payload may hold, all levels together. Far above what an
 * event, a reply or a control message carries (a config push of 100 000 rules stays under it);
 * bounds the decoded objects of one payload to ~16 MiB.
 */
export const MAX_PAYLOAD_CONTAINERS = 262_144;

// The one extension we accept: msgpack's standard timestamp (type -1), which our encoder writes for
// a Date. Every other extension is refused: the protocol defines none, and msgpackr's own (records,
// structured-clone references, Error, RegExp, typed arrays, string bundles) would hand a peer
// control over what gets built.
const TIMESTAMP_EXT = 0xff;

function invalid(reason: string): never {
  throw protocolError(`invalid MessagePack payload: ${reason}`);
}

/**
 * Throws ZAP_PROTOCOL_ERROR unless `bytes` is exactly one well-formed MessagePack value whose every
 * declared length is backed by real bytes, whose nesting is at most `maxDepth` and which holds at
 * most `maxContainers` arrays and maps. Iterative; allocates nothing but a stack of `maxDepth` counts.
 */
export function checkMsgpackBounds(
  bytes: Uint8Array,
  maxDepth: number = MAX_PAYLOAD_DEPTH,
  maxContainers: number = MAX_PAYLOAD_CONTAINERS,
): void {
  const end = bytes.length;
  let containers = 0;
  if (end === 0) invalid('empty payload');
  // left[d]: values still to read in the container open at depth d (depth 0: the one top-level value).
  const left: number[] = [1];
  let depth = 0;
  let pos = 0;
  for (;;) {
    while (left[depth] === 0) {
      if (depth === 0) {
        if (pos !== end) invalid(`${end - pos} trailing bytes after the value`);
        return;
      }
      depth--;
    }
    (left[depth] as number)--;
    if (pos >= end) invalid(`truncated at byte ${pos}: a container announced more values than present`);
    const t = bytes[pos++] as number;
    // Fixed forms: positive/negative fixint, fixmap, fixarray, fixstr.
    if (t < 0x80 || t >= 0xe0) continue;
    let items = 0; // values in a container that starts here
    let skip = 0; // raw bytes (string, bin, ext data, number) that follow the header
    let isMap = false;
    let isContainer = false;
    if (t < 0x90) {
      items = t & 0x0f;
      isMap = isContainer = true;
    } else if (t < 0xa0) {
      items = t & 0x0f;
      isContainer = true;
    } else if (t < 0xc0) {
      skip = t & 0x1f;
    } else {
      const avail = end - pos;
      switch (t) {
        case 0xc0: // nil
        case 0xc2: // false
        case 0xc3: // true
          continue;
        case 0xc4: // bin8
        case 0xd9: // str8
          if (avail < 1) invalid(`truncated header at byte ${pos - 1}`);
          skip = bytes[pos++] as number;
          break;
        case 0xc5: // bin16
        case 0xda: // str16
          if (avail < 2) invalid(`truncated header at byte ${pos - 1}`);
          skip = u16(bytes, pos);
          pos += 2;
          break;
        case 0xc6: // bin32
        case 0xdb: // str32
          if (avail < 4) invalid(`truncated header at byte ${pos - 1}`);
          skip = u32(bytes, pos);
          pos += 4;
          break;
        case 0xca: // float32
        case 0xce: // uint32
        case 0xd2: // int32
          skip = 4;
          break;
        case 0xcb: // float64
        case 0xcf: // uint64
        case 0xd3: // int64
          skip = 8;
          break;
        case 0xcc: // uint8
        case 0xd0: // int8
          skip = 1;
          break;
        case 0xcd: // uint16
        case 0xd1: // int16
          skip = 2;
          break;
        case 0xdc: // array16
        case 0xde: // map16
          if (avail < 2) invalid(`truncated header at byte ${pos - 1}`);
          items = u16(bytes, pos);
          pos += 2;
          isMap = t === 0xde;
          isContainer = true;
          break;
        case 0xdd: // array32
        case 0xdf: // map32
          if (avail < 4) invalid(`truncated header at byte ${pos - 1}`);
          items = u32(bytes, pos);
          pos += 4;
          isMap = t === 0xdf;
          isContainer = true;
          break;
        case 0xd6: // fixext4: the 32-bit timestamp
        case 0xd7: // fixext8: the 64-bit timestamp
          if (avail < 1) invalid(`truncated header at byte ${pos - 1}`);
          if (bytes[pos] !== TIMESTAMP_EXT) invalid(`extension type ${bytes[pos] as number} is not accepted`);
          skip = 1 + (t === 0xd6 ? 4 : 8);
          break;
        case 0xc7: // ext8: only the 96-bit timestamp (12 data bytes)
          if (avail < 2) invalid(`truncated header at byte ${pos - 1}`);
          if (bytes[pos + 1] !== TIMESTAMP_EXT || bytes[pos] !== 12) {
            invalid(`extension type ${bytes[pos + 1] as number} is not accepted`);
          }
          skip = 2 + 12;
          break;
        default:
          // 0xc1 (never used), other ext forms (0xc8, 0xc9, 0xd4, 0xd5, 0xd8).
          invalid(`byte 0x${t.toString(16)} at ${pos - 1} is not accepted`);
      }
    }
    if (skip > 0) {
      if (skip > end - pos) invalid(`length ${skip} at byte ${pos} exceeds the ${end - pos} bytes left`);
      pos += skip;
      continue;
    }
    if (!isContainer) continue;
    if (++containers > maxContainers) invalid(`more than ${maxContainers} arrays and maps`);
    // Every element takes at least one byte, every map entry two: a count the bytes cannot back is a lie.
    const needed = isMap ? items * 2 : items;
    if (needed > end - pos) invalid(`count ${items} at byte ${pos} exceeds the ${end - pos} bytes left`);
    // Empty containers count too, as `[]` does in JSON: the same depth limit for both encodings.
    if (depth >= maxDepth) invalid(`nesting deeper than ${maxDepth}`);
    if (items > 0) left[++depth] = needed;
  }
}

function u16(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}

function u32(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}
