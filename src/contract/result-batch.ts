// Host → router results of one tick as bytes (workers: N). The common replies (allow or block, a few
// header ops, string maps, the audit with string-valued custom entries) are written field by field
// and rebuilt on the router without the structured-clone machinery; every other reply, and every
// error, travels in `rare` (sparse form, cloned) and the bytes only mark its place in the order.
// An empty list or map costs no bytes (a bit of `present` says which are there), and a correlation
// id that repeats the call's own (the reply's, and `audit.custom` when it holds only that) is a bit
// too: the router has the string already, so it decodes and interns none (issue 13).
import type { SerializedAgentPoolError } from '../protocol/errors.js';
import type { AgentResponse, Decision, HeaderOp } from '../protocol/types.js';
import { BatchReader, BatchWriter } from './batch-bytes.js';
import type { ResultItem } from './host-messages.js';
import { fromSparse, toSparse, type SparseResponse } from './sparse-response.js';

const REPLY = 1;
const RARE_REPLY = 2;
const RARE_ERROR = 3;

const NEEDS_MORE = 1;
const HAS_CID = 2;
const HAS_PT = 4;
const HAS_CONFIDENCE = 8;
const BLOCK = 16;
const BLOCK_BODY = 32;
const BLOCK_HEADERS = 64;
/** The reply's correlation id is the call's own (HAS_CID is not set then). */
const CID_IS_CALLS = 128;

// Bits of `present`: which lists and maps follow (an absent one is empty).
const REQUEST_OPS = 1;
const RESPONSE_OPS = 2;
const ROUTING = 4;
const TAGS = 8;
const RULE_IDS = 16;
const REASON_CODES = 32;
const CUSTOM = 64;
/** `audit.custom` is `{ correlation_id: <the call's own id> }` and nothing else (what the SDKs send). */
const CUSTOM_IS_CALLS_CID = 128;

const OPS = ['set', 'add', 'remove'] as const;

/** What crosses for a result the bytes do not carry: a reply in sparse form, or a serialized error. */
export type RareResult = SparseResponse | SerializedAgentPoolError;

/** A tick's results: `bytes` is transferred; `rare` is cloned and is empty for the common replies. */
export interface ResultBatch {
  bytes: ArrayBuffer;
  rare: RareResult[];
}

/** Host side: collects results until `take()`. */
export class ResultBatchWriter {
  private readonly out = new BatchWriter();
  private rare: RareResult[] = [];
  private items = 0;

  get size(): number {
    return this.items;
  }

  /** `replyId`: the correlation id the call's reply is expected under, when the host knows it. */
  add(item: ResultItem, replyId?: string): void {
    this.items++;
    const response = item[1];
    if (response === null) {
      this.out.u8(RARE_ERROR);
      this.out.f64(item[0]);
      this.rare.push(item[2] as SerializedAgentPoolError);
    } else if (compact(response)) {
      this.out.u8(REPLY);
      this.out.f64(item[0]);
      this.reply(response, replyId);
    } else {
      this.out.u8(RARE_REPLY);
      this.out.f64(item[0]);
      this.rare.push(toSparse(response));
    }
  }

  /** The batch: its item count, then the items. */
  take(): ResultBatch {
    this.out.patchU32(0, this.items);
    const batch = { bytes: this.out.take(), rare: this.rare };
    this.rare = [];
    this.items = 0;
    return batch;
  }

  private reply(r: AgentResponse, replyId: string | undefined): void {
    const o = this.out;
    const d = r.decision;
    const a = r.audit;
    const cidIsCalls = replyId !== undefined && r.correlationId === replyId;
    let flags = 0;
    if (r.needsMore) flags |= NEEDS_MORE;
    if (cidIsCalls) flags |= CID_IS_CALLS;
    else if (r.correlationId !== undefined) flags |= HAS_CID;
    if (r.processingTimeMs !== undefined) flags |= HAS_PT;
    if (a.confidence !== null) flags |= HAS_CONFIDENCE;
    if (d.type === 'block') {
      flags |= BLOCK;
      if (d.body !== null) flags |= BLOCK_BODY;
      if (d.headers !== null) flags |= BLOCK_HEADERS;
    }
    let present = 0;
    if (r.requestHeaders.length > 0) present |= REQUEST_OPS;
    if (r.responseHeaders.length > 0) present |= RESPONSE_OPS;
    if (hasKeys(r.routingMetadata)) present |= ROUTING;
    if (a.tags.length > 0) present |= TAGS;
    if (a.ruleIds.length > 0) present |= RULE_IDS;
    if (a.reasonCodes.length > 0) present |= REASON_CODES;
    if (replyId !== undefined && onlyCorrelationId(a.custom, replyId)) present |= CUSTOM_IS_CALLS_CID;
    else if (hasKeys(a.custom)) present |= CUSTOM;
    o.u8(flags);
    o.u8(present);
    o.u16(r.version);
    if (d.type === 'block') {
      o.u16(d.status);
      if (d.body !== null) o.str(d.body);
      if (d.headers !== null) this.map(d.headers);
    }
    if ((present & REQUEST_OPS) !== 0) this.ops(r.requestHeaders);
    if ((present & RESPONSE_OPS) !== 0) this.ops(r.responseHeaders);
    if ((present & ROUTING) !== 0) this.map(r.routingMetadata);
    if ((present & TAGS) !== 0) this.list(a.tags);
    if ((present & RULE_IDS) !== 0) this.list(a.ruleIds);
    if ((present & REASON_CODES) !== 0) this.list(a.reasonCodes);
    if (a.confidence !== null) o.f64(a.confidence);
    if ((present & CUSTOM) !== 0) this.map(a.custom as Record<string, string>);
    if ((flags & HAS_CID) !== 0) o.str(r.correlationId as string);
    if (r.processingTimeMs !== undefined) o.f64(r.processingTimeMs);
  }

  private ops(ops: HeaderOp[]): void {
    this.out.u32(ops.length);
    for (const op of ops) {
      this.out.u8(OPS.indexOf(op.op));
      this.out.str(op.name);
      if (op.op !== 'remove') this.out.str(op.value);
    }
  }

  private list(values: string[]): void {
    this.out.u32(values.length);
    for (const v of values) this.out.str(v);
  }

  private map(values: Record<string, string>): void {
    const keys = Object.keys(values);
    this.out.u32(keys.length);
    for (const k of keys) {
      this.out.str(k);
      this.out.str(values[k] as string);
    }
  }
}

/** Where the router takes each result of a batch, in the order the host produced them. */
export type ResultHandler = (item: ResultItem) => void;

/** The correlation id of call `requestId` as the router knows it; undefined once the call is gone. */
export type ReplyIdOf = (requestId: number) => string | undefined;

/**
 * Router side: rebuilds each result of `batch` and hands it on; `replyIdOf` supplies the ids the
 * bytes say are the call's own. A corrupt batch throws ZAP_ERROR (after handing on the results
 * before the damage); the caller treats its host as lost.
 */
export function readResultBatch(batch: ResultBatch, on: ResultHandler, replyIdOf: ReplyIdOf): void {
  const r = new BatchReader(batch.bytes, 'results batch');
  let rare = 0;
  const nextRare = (): RareResult => {
    const value = batch.rare[rare++];
    if (value === undefined) throw r.corrupt('more rare results marked than sent');
    return value;
  };
  for (let n = r.count(); n > 0; n--) {
    const tag = r.u8();
    const requestId = r.f64();
    if (tag === REPLY) on([requestId, readReply(r, requestId, replyIdOf)]);
    else if (tag === RARE_REPLY) on([requestId, fromSparse(nextRare() as SparseResponse)]);
    else if (tag === RARE_ERROR) on([requestId, null, nextRare() as SerializedAgentPoolError]);
    else throw r.corrupt(`unknown result tag ${tag}`);
  }
  r.end();
  if (rare !== batch.rare.length) throw r.corrupt(`${batch.rare.length - rare} rare result(s) unmarked`);
}

function readReply(r: BatchReader, requestId: number, replyIdOf: ReplyIdOf): AgentResponse {
  const flags = r.u8();
  const present = r.u8();
  // Looked up only when the bytes say the call's own id is meant. A call already gone gets its reply
  // dropped by the router as late: any id will do.
  const callsId = (flags & CID_IS_CALLS) !== 0 || (present & CUSTOM_IS_CALLS_CID) !== 0 ? (replyIdOf(requestId) ?? '') : '';
  const version = r.u16();
  let decision: Decision;
  if ((flags & BLOCK) !== 0) {
    const status = r.u16();
    const body = (flags & BLOCK_BODY) !== 0 ? r.str() : null;
    const headers = (flags & BLOCK_HEADERS) !== 0 ? readMap(r) : null;
    decision = { type: 'block', status, body, headers };
  } else decision = { type: 'allow' };
  const requestHeaders = (present & REQUEST_OPS) !== 0 ? readOps(r) : [];
  const responseHeaders = (present & RESPONSE_OPS) !== 0 ? readOps(r) : [];
  const routingMetadata = (present & ROUTING) !== 0 ? readMap(r) : {};
  const tags = (present & TAGS) !== 0 ? readList(r) : [];
  const ruleIds = (present & RULE_IDS) !== 0 ? readList(r) : [];
  const reasonCodes = (present & REASON_CODES) !== 0 ? readList(r) : [];
  const confidence = (flags & HAS_CONFIDENCE) !== 0 ? r.f64() : null;
  const custom = (present & CUSTOM_IS_CALLS_CID) !== 0 ? { correlation_id: callsId } : (present & CUSTOM) !== 0 ? readMap(r) : {};
  const response: AgentResponse = {
    version,
    decision,
    requestHeaders,
    responseHeaders,
    routingMetadata,
    audit: { tags, ruleIds, confidence, reasonCodes, custom },
    needsMore: (flags & NEEDS_MORE) !== 0,
    requestBodyMutation: null,
    responseBodyMutation: null,
    websocketDecision: null,
  };
  if ((flags & CID_IS_CALLS) !== 0) response.correlationId = callsId;
  else if ((flags & HAS_CID) !== 0) response.correlationId = r.str();
  if ((flags & HAS_PT) !== 0) response.processingTimeMs = r.f64();
  return response;
}

function readOps(r: BatchReader): HeaderOp[] {
  const count = r.u32();
  const ops: HeaderOp[] = [];
  for (let i = 0; i < count; i++) {
    const op = OPS[r.u8()];
    if (op === undefined) throw r.corrupt('unknown header op');
    const name = r.str();
    ops.push(op === 'remove' ? { op, name } : { op, name, value: r.str() });
  }
  return ops;
}

function readList(r: BatchReader): string[] {
  const count = r.u32();
  const values: string[] = [];
  for (let i = 0; i < count; i++) values.push(r.str());
  return values;
}

function readMap(r: BatchReader): Record<string, string> {
  const count = r.u32();
  const values: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const key = r.str();
    values[key] = r.str();
  }
  return values;
}

function hasKeys(m: object): boolean {
  for (const _ in m) return true;
  return false;
}

/** `custom` is exactly `{ correlation_id: id }` (own keys: the map passed stringMap() already). */
function onlyCorrelationId(custom: Record<string, unknown>, id: string): boolean {
  let keys = 0;
  for (const _ in custom) if (++keys > 1) return false;
  return keys === 1 && Object.hasOwn(custom, 'correlation_id') && custom['correlation_id'] === id;
}

/** Whether the bytes can carry `r` exactly; anything else goes the sparse way. */
function compact(r: AgentResponse): boolean {
  if (r.requestBodyMutation !== null || r.responseBodyMutation !== null || r.websocketDecision !== null) return false;
  if (!isU16(r.version)) return false;
  const d = r.decision;
  if (d.type === 'block') {
    if (!isU16(d.status) || (d.headers !== null && !stringMap(d.headers))) return false;
  } else if (d.type !== 'allow') return false;
  const a = r.audit;
  return validOps(r.requestHeaders) && validOps(r.responseHeaders) && stringMap(r.routingMetadata) && stringMap(a.custom);
}

function isU16(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

function validOps(ops: HeaderOp[]): boolean {
  for (const op of ops) if (!OPS.includes(op.op)) return false;
  return true;
}

/** Plain string values only, and no key that a plain object would not keep as its own. */
function stringMap(m: Record<string, unknown>): boolean {
  for (const k in m) {
    if (k === '__proto__' || typeof m[k] !== 'string') return false;
  }
  return Object.getPrototypeOf(m) === Object.prototype;
}
