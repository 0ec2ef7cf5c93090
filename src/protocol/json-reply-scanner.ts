// The JSON AgentResponse nearly every agent sends, read in one pass straight into the typed reply
// (spec §6.9.1, §6.10 step 4), without JSON.parse's intermediate object: on the proxy's thread that
// parse and the walk over its result were about a quarter of a call's cost (issue 13). It takes
// a strict subset only — ASCII text without escapes or whitespace, each §6.9.1 key at most once,
// decision allow or block, header ops in the tagged form of §6.9.3, routing metadata and
// audit.custom with string values, no body mutation and no WebSocket decision — and answers
// undefined for anything else, so the general path (JSON.parse, then agentResponseFromWire) decides
// every other text. Its answer is always the general path's: test/json-reply-scanner.property.test.ts
// holds them equal.
import { MAX_PAYLOAD_CONTAINERS } from './msgpack-bounds.js';
import { AGENT_RESPONSE_KEYS, AUDIT_KEYS } from './agent-response.js';
import { BLOCK_KEYS } from './agent-response-decision.js';
import { U16_MAX } from './events-common.js';
import { CLOSE_OBJECT, EMPTY, FALSE, NULL, OPEN_OBJECT, ReplyCursor, TRUE, ascii, quotedKey, startsWith } from './json-reply-cursor.js';
import type { AgentResponse, Decision, HeaderOp } from './types.js';

/** A reply the scanner took: the correlation id by §6.9.1 precedence, and the validated reply. */
export interface ScannedReply {
  correlationId: string | null;
  response: AgentResponse;
}

const ALLOW = ascii('"allow"');
const BLOCK = ascii('{"block":{');

// The keys as agentResponseFromWire knows them, in §6.9.1 order (the order our SDK and the reference
// write them). Index i is bit 1 << i of the keys seen, so that a key twice (JSON.parse keeps the
// last) goes to the general path.
const REPLY_KEYS = AGENT_RESPONSE_KEYS.map(quotedKey);
const VERSION = AGENT_RESPONSE_KEYS.indexOf('version');
const DECISION = AGENT_RESPONSE_KEYS.indexOf('decision');
const REQUEST_HEADERS = AGENT_RESPONSE_KEYS.indexOf('request_headers');
const RESPONSE_HEADERS = AGENT_RESPONSE_KEYS.indexOf('response_headers');
const ROUTING = AGENT_RESPONSE_KEYS.indexOf('routing_metadata');
const AUDIT = AGENT_RESPONSE_KEYS.indexOf('audit');
const NEEDS_MORE = AGENT_RESPONSE_KEYS.indexOf('needs_more');
const REQUEST_MUTATION = AGENT_RESPONSE_KEYS.indexOf('request_body_mutation');
const RESPONSE_MUTATION = AGENT_RESPONSE_KEYS.indexOf('response_body_mutation');
const WEBSOCKET = AGENT_RESPONSE_KEYS.indexOf('websocket_decision');
const CORRELATION = AGENT_RESPONSE_KEYS.indexOf('correlation_id');

const REPLY_AUDIT_KEYS = AUDIT_KEYS.map(quotedKey);
const TAGS = AUDIT_KEYS.indexOf('tags');
const RULE_IDS = AUDIT_KEYS.indexOf('rule_ids');
const CONFIDENCE = AUDIT_KEYS.indexOf('confidence');
const REASON_CODES = AUDIT_KEYS.indexOf('reason_codes');
const CUSTOM = AUDIT_KEYS.indexOf('custom');

const REPLY_BLOCK_KEYS = BLOCK_KEYS.map(quotedKey);
const STATUS = BLOCK_KEYS.indexOf('status');
const BODY = BLOCK_KEYS.indexOf('body');
const HEADERS = BLOCK_KEYS.indexOf('headers');

/**
 * `{"block":{"status":…,"body":…,"headers":…}}` (§6.9.2): status an integer of 0–65535 and
 * required, body a string or null, headers an object of strings or null; the position after it goes
 * to `s.next`.
 */
function blockDecision(s: ReplyCursor, at: number): Decision | undefined {
  const b = s.b;
  if (!startsWith(b, at, BLOCK)) return undefined;
  s.containers += 2;
  at += BLOCK.length;
  let seen = 0;
  let status: number | undefined;
  let body: string | null = null;
  let headers: Record<string, string> | null = null;
  for (let expect = 0; ; expect++) {
    const key = s.keyOf(at, REPLY_BLOCK_KEYS, expect);
    if (key < 0 || (seen & (1 << key)) !== 0) return undefined;
    seen |= 1 << key;
    expect = key;
    at = s.next;
    if (key === STATUS) {
      status = s.number(at);
      if (status === undefined || !Number.isSafeInteger(status) || status < 0 || status > U16_MAX) return undefined;
    } else if (startsWith(b, at, NULL)) s.next = at + 4;
    else if (key === BODY) {
      const v = s.string(at);
      if (v === undefined) return undefined;
      body = v;
    } else if (key === HEADERS) {
      const v = s.stringMap(at);
      if (v === undefined) return undefined;
      headers = v;
    }
    const more = s.more(s.next, CLOSE_OBJECT);
    at = s.next;
    if (more < 0) return undefined;
    if (more === 0) break;
  }
  // The decision object has exactly one key, and status is required.
  if (b[at] !== CLOSE_OBJECT || status === undefined) return undefined;
  s.next = at + 1;
  return { type: 'block', status, body, headers };
}

const scan = new ReplyCursor();
const NO_BYTES = new Uint8Array(0);

/**
 * The typed reply for `payload`, whose UTF-8 decoding is `text`; undefined when the general path
 * must decide (anything outside the subset above, non-ASCII text included).
 */
export function scanAgentResponse(payload: Uint8Array, text: string): ScannedReply | undefined {
  // A shorter text holds non-ASCII, which the general path reads (the cursor refuses it too).
  if (text.length !== payload.length) return undefined;
  const s = scan;
  s.b = payload;
  s.text = text;
  s.containers = 0;
  const reply = topLevel(s);
  s.b = NO_BYTES;
  s.text = '';
  return reply;
}

function topLevel(s: ReplyCursor): ScannedReply | undefined {
  const b = s.b;
  if (b[0] !== OPEN_OBJECT) return undefined;
  s.containers++;
  let at = 1;
  let seen = 0;
  let version: number | undefined;
  let decision: Decision | undefined;
  let requestHeaders: HeaderOp[] = [];
  let responseHeaders: HeaderOp[] = [];
  let routingMetadata: Record<string, string> = {};
  let tags: string[] = [];
  let ruleIds: string[] = [];
  let confidence: number | null = null;
  let reasonCodes: string[] = [];
  let custom: Record<string, string> = {};
  let needsMore = false;
  let correlationId: string | null = null;
  for (let expect = 0; ; expect++) {
    const key = s.keyOf(at, REPLY_KEYS, expect);
    if (key < 0 || (seen & (1 << key)) !== 0) return undefined;
    seen |= 1 << key;
    expect = key;
    at = s.next;
    switch (key) {
      case VERSION:
        version = s.number(at);
        if (version === undefined || !Number.isSafeInteger(version)) return undefined;
        break;
      case DECISION:
        if (startsWith(b, at, ALLOW)) {
          s.next = at + ALLOW.length;
          decision = { type: 'allow' };
        } else {
          decision = blockDecision(s, at);
          if (decision === undefined) return undefined;
        }
        break;
      case REQUEST_HEADERS:
      case RESPONSE_HEADERS: {
        const ops = s.headerOps(at);
        if (ops === undefined) return undefined;
        if (key === REQUEST_HEADERS) requestHeaders = ops;
        else responseHeaders = ops;
        break;
      }
      case ROUTING: {
        const map = s.stringMap(at);
        if (map === undefined) return undefined;
        routingMetadata = map;
        break;
      }
      case AUDIT: {
        at = s.open(at, OPEN_OBJECT, CLOSE_OBJECT);
        if (at === EMPTY) break;
        if (at < 0) return undefined;
        for (let auditSeen = 0, auditExpect = 0; ; auditExpect++) {
          const auditKey = s.keyOf(at, REPLY_AUDIT_KEYS, auditExpect);
          if (auditKey < 0 || (auditSeen & (1 << auditKey)) !== 0) return undefined;
          auditSeen |= 1 << auditKey;
          auditExpect = auditKey;
          at = s.next;
          if (auditKey === CONFIDENCE) {
            if (startsWith(b, at, NULL)) {
              s.next = at + 4;
              confidence = null;
            } else {
              const v = s.number(at);
              if (v === undefined) return undefined;
              confidence = v;
            }
          } else if (auditKey === CUSTOM) {
            const v = s.stringMap(at);
            if (v === undefined) return undefined;
            custom = v;
          } else {
            const v = s.strings(at);
            if (v === undefined) return undefined;
            if (auditKey === TAGS) tags = v;
            else if (auditKey === RULE_IDS) ruleIds = v;
            else if (auditKey === REASON_CODES) reasonCodes = v;
          }
          const more = s.more(s.next, CLOSE_OBJECT);
          at = s.next;
          if (more < 0) return undefined;
          if (more === 0) break;
        }
        s.next = at;
        break;
      }
      case NEEDS_MORE:
        if (startsWith(b, at, TRUE)) {
          needsMore = true;
          s.next = at + 4;
        } else if (startsWith(b, at, FALSE)) s.next = at + 5;
        else if (startsWith(b, at, NULL)) s.next = at + 4;
        else return undefined;
        break;
      case CORRELATION:
        if (startsWith(b, at, NULL)) s.next = at + 4;
        else {
          const cid = s.string(at);
          if (cid === undefined) return undefined;
          correlationId = cid;
        }
        break;
      case REQUEST_MUTATION:
      case RESPONSE_MUTATION:
      case WEBSOCKET:
        // Null only.
        if (!startsWith(b, at, NULL)) return undefined;
        s.next = at + 4;
    }
    const more = s.more(s.next, CLOSE_OBJECT);
    at = s.next;
    if (more < 0) return undefined;
    if (more === 0) break;
  }
  // Both required keys, nothing after the object, and the container cap of the general path. (A text
  // refused this late is read twice, here and by the general path: at most twice the work.)
  if (version === undefined || decision === undefined || at !== b.length || s.containers > MAX_PAYLOAD_CONTAINERS) return undefined;
  const response: AgentResponse = {
    version,
    decision,
    requestHeaders,
    responseHeaders,
    routingMetadata,
    audit: { tags, ruleIds, confidence, reasonCodes, custom },
    needsMore,
    requestBodyMutation: null,
    responseBodyMutation: null,
    websocketDecision: null,
  };
  if (correlationId !== null) response.correlationId = correlationId;
  // §6.9.1: audit.custom.correlation_id first (every custom value here is a string).
  const fromCustom = Object.hasOwn(custom, 'correlation_id') ? custom['correlation_id'] : undefined;
  return { correlationId: fromCustom ?? correlationId, response };
}
