// Immutable reply builders (spec §6.9): `allow().addRequestHeader('x', 'v').withTag('t')`. A builder IS a
// Reply: its data sits in own enumerable properties, so a handler returns it as is, `{ ...builder }`
// spreads it, and a structured clone (threads mode) carries it as a plain Reply. Every method returns a
// new builder and leaves its receiver unchanged, so a shared base reply can be reused safely; the lists
// and maps it holds are frozen because builders share them. The builder itself is not frozen: code
// written when allow()/block() returned plain objects may still assign a field (JavaScript, or a
// variable typed `Reply`).
import type { AuditMetadata, BodyMutation, Decision, HeaderOp, WebSocketDecision } from '../protocol/types.js';
import { requestBodyMutation, responseBodyMutation } from '../protocol/body-mutation.js';
import type { Reply } from './handler.js';

type BlockDecision = Extract<Decision, { type: 'block' }>;

function frozen<T>(list: readonly T[]): T[] {
  return Object.freeze(list.slice()) as T[];
}

/**
 * The reply of a handler, built by chaining. Method names never collide with the Reply fields they set
 * (`needsMoreData()` sets `needsMore`), because the fields are own properties and would hide them.
 */
export class ReplyBuilder implements Reply {
  declare readonly decision?: Decision;
  declare readonly requestHeaders?: HeaderOp[];
  declare readonly responseHeaders?: HeaderOp[];
  declare readonly routingMetadata?: Record<string, string>;
  declare readonly audit?: Partial<AuditMetadata>;
  declare readonly needsMore?: boolean;
  declare readonly requestBodyMutation?: BodyMutation | null;
  declare readonly responseBodyMutation?: BodyMutation | null;
  declare readonly websocketDecision?: WebSocketDecision | null;

  /** Takes the fields of `reply` as they are (callers pass fresh or frozen values). */
  constructor(reply: Reply = {}) {
    Object.assign(this, reply);
  }

  /** A copy of this builder, same class, with `patch` laid over its fields. */
  protected with(patch: Reply): this {
    const Self = this.constructor as new (reply: Reply) => this;
    return new Self({ ...this, ...patch });
  }

  // Header operations (§6.9.4), applied by the proxy in the order given.

  /** Adds a request header value sent upstream (`add`: keeps the values already there). */
  addRequestHeader(name: string, value: string): this {
    return this.#requestOp({ op: 'add', name, value });
  }

  /** Sets a request header sent upstream (`set`: replaces every value of that name). */
  setRequestHeader(name: string, value: string): this {
    return this.#requestOp({ op: 'set', name, value });
  }

  /** Removes a request header before the request goes upstream. */
  removeRequestHeader(name: string): this {
    return this.#requestOp({ op: 'remove', name });
  }

  /** Adds a response header value sent to the client. */
  addResponseHeader(name: string, value: string): this {
    return this.#responseOp({ op: 'add', name, value });
  }

  /** Sets a response header sent to the client, replacing every value of that name. */
  setResponseHeader(name: string, value: string): this {
    return this.#responseOp({ op: 'set', name, value });
  }

  /** Removes a response header before the response goes to the client. */
  removeResponseHeader(name: string): this {
    return this.#responseOp({ op: 'remove', name });
  }

  #requestOp(op: HeaderOp): this {
    return this.with({ requestHeaders: frozen([...(this.requestHeaders ?? []), Object.freeze(op)]) });
  }

  #responseOp(op: HeaderOp): this {
    return this.with({ responseHeaders: frozen([...(this.responseHeaders ?? []), Object.freeze(op)]) });
  }

  // Audit (§6.9.5): what the proxy logs and counts about this decision.

  /** Appends audit tags, e.g. `withTag('xss', 'owasp-a3')`. */
  withTag(...tags: string[]): this {
    return this.#audit({ tags: frozen([...(this.audit?.tags ?? []), ...tags]) });
  }

  /** Appends the ids of the rules that matched, e.g. `withRuleId('941100')`. */
  withRuleId(...ruleIds: string[]): this {
    return this.#audit({ ruleIds: frozen([...(this.audit?.ruleIds ?? []), ...ruleIds]) });
  }

  /** Appends machine-readable reason codes, e.g. `withReasonCode('SQLI_DETECTED')`. */
  withReasonCode(...codes: string[]): this {
    return this.#audit({ reasonCodes: frozen([...(this.audit?.reasonCodes ?? []), ...codes]) });
  }

  /** The agent's confidence in its decision (0 to 1 by convention); null clears it. */
  withConfidence(confidence: number | null): this {
    return this.#audit({ confidence });
  }

  /** One entry of `audit.custom` (any JSON value). `correlation_id` is zap's to write and is overridden. */
  withAuditField(key: string, value: unknown): this {
    const custom = Object.freeze({ ...this.audit?.custom, [key]: value });
    return this.#audit({ custom });
  }

  #audit(patch: Partial<AuditMetadata>): this {
    return this.with({ audit: Object.freeze({ ...this.audit, ...patch }) });
  }

  /** One entry of `routing_metadata` (§6.9.6): string hints the proxy may route on. */
  withRoutingMetadata(key: string, value: string): this {
    return this.with({ routingMetadata: Object.freeze({ ...this.routingMetadata, [key]: value }) });
  }

  /**
   * §6.9.3: the agent wants more of the body before it decides (streaming inspection). The proxy
   * keeps sending chunks; the decision of this reply is provisional.
   */
  needsMoreData(needsMore = true): this {
    return this.with({ needsMore });
  }

  /**
   * §6.9.7, request side: replace chunk `chunkIndex` with `text` (sent as UTF-8 text; binary request
   * bodies cannot be replaced), `''` to drop the chunk, null to pass it through.
   */
  withRequestBodyMutation(text: string | null, chunkIndex = 0): this {
    return this.with({ requestBodyMutation: Object.freeze(requestBodyMutation(text, chunkIndex)) });
  }

  /** §6.9.7, response side: replace chunk `chunkIndex` with these bytes (sent as base64), `'drop'` it, or null to pass. */
  withResponseBodyMutation(bytes: Uint8Array | 'drop' | null, chunkIndex = 0): this {
    return this.with({ responseBodyMutation: Object.freeze(responseBodyMutation(bytes, chunkIndex)) });
  }

  /** §6.9.8: what to do with a WebSocket frame (`{ type: 'drop' }`, `{ type: 'close', code, reason }`). */
  withWebSocketDecision(decision: WebSocketDecision): this {
    return this.with({ websocketDecision: Object.freeze(decision) });
  }
}

/** A Block reply: also sets what the proxy answers the client with. */
export class BlockReplyBuilder extends ReplyBuilder {
  declare readonly decision: BlockDecision;

  /** The response body the client gets (text). */
  withBody(body: string | null): this {
    return this.#block({ body });
  }

  /** A JSON response body; also sets `content-type: application/json` on the block response. */
  withJsonBody(value: unknown): this {
    const headers = Object.freeze({ ...this.decision.headers, 'content-type': 'application/json' });
    return this.#block({ body: JSON.stringify(value), headers });
  }

  /** A header of the block response the client gets (not of the upstream request). */
  withBlockHeader(name: string, value: string): this {
    return this.#block({ headers: Object.freeze({ ...this.decision.headers, [name]: value }) });
  }

  /** The HTTP status the client gets. */
  withStatus(status: number): this {
    return this.#block({ status });
  }

  #block(patch: Partial<BlockDecision>): this {
    return this.with({ decision: Object.freeze({ ...this.decision, ...patch }) });
  }
}
