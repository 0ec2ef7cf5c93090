// The packed form of a JSON value (packed-json.ts writes it on the router, packed-json-frame.ts turns
// it into JSON text on a connection host): u32 struct length, the struct (the tags below, numbers
// little-endian), then the text: every string and key in walk order, ASCII only.
import { RESPONSE_HEADERS_KEYS } from '../protocol/events-other.js';
import { METADATA_KEYS, REQUEST_HEADERS_KEYS } from '../protocol/events-request.js';

export const OBJECT = 1; // u32 member count, then per member: u32 key length, value
export const ARRAY = 2; // u32 length, then the values
export const STRING = 3; // u32 length
export const NUMBER = 4; // f64
export const NULL = 5;
export const OMITTED = 6; // undefined, a function or a symbol: no member in an object, null in an array
export const TRUE = 7;
export const FALSE = 8;
export const SCHEMA = 9; // u8 schema, then one value per key of the schema, in its order (OMITTED: no member)

/**
 * Objects whose keys the host knows: their keys cross as nothing. RequestHeaders and ResponseHeaders
 * events are packed from the caller's event as their wire mappers would map them (the tests compare).
 */
export const SCHEMA_KEYS: readonly (readonly string[])[] = [REQUEST_HEADERS_KEYS, METADATA_KEYS, RESPONSE_HEADERS_KEYS];
export const REQUEST_HEADERS = 0;
export const METADATA = 1;
export const RESPONSE_HEADERS = 2;

/** Deeper wire objects are stringified on the router (JSON.stringify's own recursion limit applies there). */
export const MAX_DEPTH = 64;
/**
 * More text than this is stringified on the router too: JSON.stringify copies a long string natively,
 * faster than the host's byte loop writes it (a base64 body chunk), so packing pays for small events only.
 */
export const MAX_TEXT = 32 * 1024;
/** Most JSON bytes one text byte or one struct byte can become (`\u00XX`; a number's 24 digits and its comma). */
export const TEXT_GROWTH = 6;
export const STRUCT_GROWTH = 26;
