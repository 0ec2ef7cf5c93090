// AgentToProxy{response} protobuf bytes written straight from the reply (spec §8.5), for the replies
// most events get: Allow, header operations, an empty audit. The general path (agentResponseToProto
// + protobufjs) builds an object per header op and walks it into writer ops; this writes the same
// bytes (test/proto-reply.test.ts) in two passes over the ops. Any other reply (another decision,
// audit content) returns undefined and takes the general path. A lone UTF-16 surrogate is written
// as U+FFFD, as in proto-request-headers.ts.
import { ErrorCode, zapError } from './errors.js';
import { ByteWriter, LEN, stringFieldSize, utf8Length, varintSize } from './proto-bytes.js';
import type { AgentResponse, AuditMetadata, HeaderOp } from './types.js';

/** AgentToProxy.response = 2 */
const TAG_RESPONSE = (2 << 3) | LEN;

function auditIsEmpty(a: AuditMetadata): boolean {
  if (a.confidence !== null || a.tags.length > 0 || a.ruleIds.length > 0 || a.reasonCodes.length > 0) return false;
  for (const key in a.custom) if (a.custom[key] !== undefined) return false;
  return true;
}

/** Size of one HeaderOp message (oneof: set = 1 / add = 2 Header{name, value}, remove = 3 name). */
function opSize(op: HeaderOp): number {
  if (op.op === 'remove') return stringFieldSize(utf8Length(op.name));
  const header = stringFieldSize(utf8Length(op.name)) + stringFieldSize(utf8Length(op.value));
  return 1 + varintSize(header) + header;
}

/** Size of a repeated HeaderOp field (one-byte tag per entry). */
function opsSize(ops: readonly HeaderOp[]): number {
  let n = 0;
  for (const op of ops) {
    const size = opSize(op);
    n += 1 + varintSize(size) + size;
  }
  return n;
}

/** Writes the ops, measuring each string once (the sizes are opSize's, derived from the same lengths). */
function writeOps(w: ByteWriter, field: number, ops: readonly HeaderOp[]): void {
  for (const op of ops) {
    w.byte((field << 3) | LEN);
    const nameB = utf8Length(op.name);
    if (op.op === 'remove') {
      w.varint(stringFieldSize(nameB));
      w.optString(3, op.name, nameB);
      continue;
    }
    const valueB = utf8Length(op.value);
    const header = stringFieldSize(nameB) + stringFieldSize(valueB);
    w.varint(1 + varintSize(header) + header);
    w.byte(((op.op === 'set' ? 1 : 2) << 3) | LEN);
    w.varint(header);
    w.optString(1, op.name, nameB);
    w.optString(2, op.value, valueB);
  }
}

/**
 * The AgentToProxy bytes of `response` under `correlationId`, or undefined when its shape needs
 * the general path. What gRPC cannot carry (routing metadata, body mutations, WebSocket decision)
 * is left out, as there; the caller names it (grpcDroppedResponseFields).
 */
export function writeAllowReplyProto(response: AgentResponse, correlationId: string): Buffer | undefined {
  if (response.decision.type !== 'allow' || !auditIsEmpty(response.audit)) return undefined;
  const time = response.processingTimeMs;
  if (time !== undefined && !(Number.isSafeInteger(time) && time >= 0)) return undefined;
  const cid = correlationId || undefined;
  const cidB = cid === undefined ? 0 : utf8Length(cid);
  const size =
    (cid === undefined ? 0 : stringFieldSize(cidB)) +
    2 + // allow = 2: an empty message
    opsSize(response.requestHeaders) +
    opsSize(response.responseHeaders) +
    (time === undefined ? 0 : 1 + varintSize(time)) +
    (response.needsMore ? 2 : 0);
  const w = new ByteWriter(Buffer.allocUnsafe(1 + varintSize(size) + size));
  w.byte(TAG_RESPONSE);
  w.varint(size);
  w.optString(1, cid, cidB);
  w.byte((2 << 3) | LEN);
  w.byte(0);
  writeOps(w, 10, response.requestHeaders);
  writeOps(w, 11, response.responseHeaders);
  if (time !== undefined) {
    w.byte(13 << 3);
    w.varint(time);
  }
  if (response.needsMore) {
    w.byte(14 << 3);
    w.byte(1);
  }
  // The two passes must agree; a mismatch is a bug here, never the agent's reply.
  if (w.offset !== w.buf.length) throw zapError(ErrorCode.Error, `reply writer: wrote ${w.offset} of ${w.buf.length} bytes`);
  return w.buf;
}
