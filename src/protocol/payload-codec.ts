// The payload codec of each encoding (spec §4): objects that turn events and AgentResponses into
// payload bytes and back (the seam: payload-codec-types.ts). Framing is not their business
// (frame-encoder / frame-decoder).
import type { Encoding } from './types.js';
import { ErrorCode, zapError } from './errors.js';
import { jsonCodec } from './json-codec.js';
import { msgpackCodec } from './msgpack-codec.js';
import type { ParsedResponse, PayloadCodec } from './payload-codec-types.js';

export type { ParsedResponse, PayloadCodec };
export { jsonCodec, msgpackCodec };

export function codecFor(encoding: Encoding): PayloadCodec {
  if (encoding === 'json') return jsonCodec;
  if (encoding === 'msgpack') return msgpackCodec;
  throw zapError(ErrorCode.InvalidConfig, `unknown encoding '${String(encoding)}'`);
}
