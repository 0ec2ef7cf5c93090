// UDS Ping payload (spec §7.2), always JSON. The agent's Pong (0x42) echoes these bytes unchanged,
// so decodePing also reads a Pong payload.
import type { PingMessage } from './types.js';
import { asStruct, intOr, parseJsonPayload, reqInt } from './wire-reader.js';

const PING_KEYS = ['sequence', 'timestamp_ms'] as const;
const WHAT = 'Ping';

/** {"sequence":…,"timestamp_ms":…} */
export function encodePing(p: PingMessage): Buffer {
  return Buffer.from(JSON.stringify({ sequence: p.sequence, timestamp_ms: p.timestampMs }), 'utf8');
}

export function decodePing(payload: Uint8Array): PingMessage {
  const s = asStruct(parseJsonPayload(payload, WHAT), PING_KEYS, WHAT);
  return { sequence: reqInt(s, 'sequence', WHAT), timestampMs: intOr(s, 'timestamp_ms', WHAT, 0) };
}
