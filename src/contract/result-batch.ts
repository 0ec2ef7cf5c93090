// Host → router results of one tick as bytes (workers: N). The common replies (allow or block, a few
// header ops, string maps, the audit with string-valued custom entries) are written field by field
// and rebuilt on the router without the structured-clone machinery; every other reply, and every
// error, travels in `rare` (sparse form, cloned) and the bytes only mark its place in the order.
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

  add(item: ResultItem): void {
    this.items++;
    const response = item[1];
    if (response === null) {
      this.out.u8(RARE_ERROR);
      this.out.f64(item[0]);
      this.rare.push(item[2] as SerializedAgentPoolError);
    } else if (compact(response)) {
      this.out.u8(REPLY);
      this.out.f64(item[0]);
      this.reply(response);
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

  private reply(r: AgentResponse): void {
    const o = this.out;
    const d = r.decision;
    const a = r.audit;
    let flags = 0;
    if (r.needsMore) flags |= NEEDS_MORE;
    if (r.correlationId !== undefined) flags |= HAS_CID;
    if (r.processingTimeMs !== undefined) flags |= HAS_PT;
    if (a.confidence !== null) flags |= HAS_CONFIDENCE;
    if (d.type === 'block') {
      flags |= BLOCK;
      if (d.body !== null) flags |= BLOCK_BODY;
      if (d.headers !== null) flags |= BLOCK_HEADERS;
    }
    o.u8(flags);
    o.u16(r.version);
    if (d.type === 'block') {
      o.u16(d.status);
      if (d.body !== null) o.str(d.body);
      if (d.headers !== null) this.map(d.headers);
    }
    this.ops(r.requestHeaders);
    this.ops(r.responseHeaders);
    this.map(r.routingMetadata);
    this.list(a.tags);
    this.list(a.ruleIds);
    this.list(a.reasonCodes);
    if (a.confidence !== null) o.f64(a.confidence);
    this.map(a.custom as Record<string, string>);
    if (r.correlationId !== undefined) o.str(r.correlationId);
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

/**
 * Router side: rebuilds each result of `batch` and hands it on. A corrupt batch throws ZAP_ERROR
 * (after handing on the results before the damage); the caller treats its host as lost.
 */
export function readResultBatch(batch: ResultBatch, on: ResultHandler): void {
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
    if (tag === REPLY) on([requestId, readReply(r)]);
    else if (tag === RARE_REPLY) on([requestId, fromSparse(nextRare() as SparseResponse)]);
    else if (tag === RARE_ERROR) on([requestId, null, nextRare() as SerializedAgentPoolError]);
    else throw r.corrupt(`unknown result tag ${tag}`);
  }
  r.end();
  if (rare !== batch.rare.length) throw r.corrupt(`${batch.rare.length - rare} rare result(s) unmarked`);
}

function readReply(r: BatchReader): AgentResponse {
  const flags = r.u8();
  const version = r.u16();
  let decision: Decision;
  if ((flags & BLOCK) !== 0) {
    const status = r.u16();
    const body = (flags & BLOCK_BODY) !== 0 ? r.str() : null;
    const headers = (flags & BLOCK_HEADERS) !== 0 ? readMap(r) : null;
    decision = { type: 'block', status, body, headers };
  } else decision = { type: 'allow' };
  const requestHeaders = readOps(r);
  const responseHeaders = readOps(r);
  const routingMetadata = readMap(r);
  const tags = readList(r);
  const ruleIds = readList(r);
  const reasonCodes = readList(r);
  const confidence = (flags & HAS_CONFIDENCE) !== 0 ? r.f64() : null;
  const custom = readMap(r);
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
  if ((flags & HAS_CID) !== 0) response.correlationId = r.str();
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
