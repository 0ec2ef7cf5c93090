// The JSON AgentResponse nearly every agent sends, read in one pass straight into the typed reply
// (spec §6.9.1, §6.10 step 4), without JSON.parse's intermediate object: on the proxy's thread that
// parse and the walk over its result cost about as much as the rest of a call (issue 13). It takes
// a strict subset only — ASCII text without escapes or whitespace, each §6.9.1 key at most once,
// decision allow or block, header ops in the tagged form of §6.9.3, routing metadata and
// audit.custom with string values, no body mutation and no WebSocket decision — and answers
// undefined for anything else, so the general path (JSON.parse, then agentResponseFromWire) decides
// every other text. Its answer is always the general path's: test/json-reply-scanner.property.test.ts
// holds them equal.
import { MAX_PAYLOAD_CONTAINERS } from './msgpack-bounds.js';
import { CLOSE_OBJECT, FALSE, MISS, NULL, OPEN_OBJECT, ReplyCursor, TRUE, ascii, startsWith } from './json-reply-cursor.js';
import type { AgentResponse, Decision, HeaderOp } from './types.js';

/** A reply the scanner took: the correlation id by §6.9.1 precedence, and the validated reply. */
export interface ScannedReply {
  correlationId: string | null;
  response: AgentResponse;
}

const ALLOW = ascii('"allow"');
const BLOCK = ascii('{"block":{');
const K_STATUS = ascii('status');
const K_BODY = ascii('body');
const K_HEADERS = ascii('headers');

// Keys, quotes excluded.
const K_VERSION = ascii('version');
const K_DECISION = ascii('decision');
const K_REQUEST_HEADERS = ascii('request_headers');
const K_RESPONSE_HEADERS = ascii('response_headers');
const K_ROUTING = ascii('routing_metadata');
const K_AUDIT = ascii('audit');
const K_NEEDS_MORE = ascii('needs_more');
const K_REQUEST_MUTATION = ascii('request_body_mutation');
const K_RESPONSE_MUTATION = ascii('response_body_mutation');
const K_WEBSOCKET = ascii('websocket_decision');
const K_CORRELATION = ascii('correlation_id');
const K_TAGS = ascii('tags');
const K_RULE_IDS = ascii('rule_ids');
const K_CONFIDENCE = ascii('confidence');
const K_REASON_CODES = ascii('reason_codes');
const K_CUSTOM = ascii('custom');

// Bits of the keys seen, so that a key twice (JSON.parse keeps the last) goes to the general path.
const VERSION = 1;
const DECISION = 2;
const REQUEST_HEADERS = 4;
const RESPONSE_HEADERS = 8;
const ROUTING = 16;
const AUDIT = 32;
const NEEDS_MORE = 64;
const REQUEST_MUTATION = 128;
const RESPONSE_MUTATION = 256;
const WEBSOCKET = 512;
const CORRELATION = 1024;
const TAGS = 1;
const RULE_IDS = 2;
const CONFIDENCE = 4;
const REASON_CODES = 8;
const CUSTOM = 16;

/** The bit of the top-level key key() read; 0 for a key of no §6.9.1 field. */
function replyKey(s: ReplyCursor): number {
  switch (s.keyEnd - s.keyStart) {
    case 5:
      return s.keyIs(K_AUDIT) ? AUDIT : 0;
    case 7:
      return s.keyIs(K_VERSION) ? VERSION : 0;
    case 8:
      return s.keyIs(K_DECISION) ? DECISION : 0;
    case 10:
      return s.keyIs(K_NEEDS_MORE) ? NEEDS_MORE : 0;
    case 14:
      return s.keyIs(K_CORRELATION) ? CORRELATION : 0;
    case 15:
      return s.keyIs(K_REQUEST_HEADERS) ? REQUEST_HEADERS : 0;
    case 16:
      return s.keyIs(K_RESPONSE_HEADERS) ? RESPONSE_HEADERS : s.keyIs(K_ROUTING) ? ROUTING : 0;
    case 18:
      return s.keyIs(K_WEBSOCKET) ? WEBSOCKET : 0;
    case 21:
      return s.keyIs(K_REQUEST_MUTATION) ? REQUEST_MUTATION : 0;
    case 22:
      return s.keyIs(K_RESPONSE_MUTATION) ? RESPONSE_MUTATION : 0;
    default:
      return 0;
  }
}

/** The bit of the audit key key() read; 0 for another key. */
function auditKey(s: ReplyCursor): number {
  switch (s.keyEnd - s.keyStart) {
    case 4:
      return s.keyIs(K_TAGS) ? TAGS : 0;
    case 6:
      return s.keyIs(K_CUSTOM) ? CUSTOM : 0;
    case 8:
      return s.keyIs(K_RULE_IDS) ? RULE_IDS : 0;
    case 10:
      return s.keyIs(K_CONFIDENCE) ? CONFIDENCE : 0;
    case 12:
      return s.keyIs(K_REASON_CODES) ? REASON_CODES : 0;
    default:
      return 0;
  }
}

const STATUS = 1;
const BODY = 2;
const HEADERS = 4;
const U16_MAX = 0xffff;

/**
 * `{"block":{"status":…,"body":…,"headers":…}}` (§6.9.2): status an integer of 0–65535 and
 * required, body a string or null, headers an object of strings or null. The cursor goes to
 * `s.next`; undefined when the decision is not such a block.
 */
function blockDecision(s: ReplyCursor, at: number): Decision | undefined {
  const b = s.b;
  if (!startsWith(b, at, BLOCK)) return undefined;
  s.containers += 2;
  at += BLOCK.length;
  let seen = 0;
  let status = -1;
  let body: string | null = null;
  let headers: Record<string, string> | null = null;
  for (;;) {
    at = s.key(at);
    if (at < 0) return undefined;
    let bit: number;
    if (s.keyIs(K_STATUS)) {
      bit = STATUS;
      at = s.number(at);
      status = s.num;
      if (!Number.isSafeInteger(status) || status < 0 || status > U16_MAX) return undefined;
    } else if (s.keyIs(K_BODY)) {
      bit = BODY;
      if (startsWith(b, at, NULL)) at += 4;
      else {
        at = s.string(at);
        body = s.str;
      }
    } else if (s.keyIs(K_HEADERS)) {
      bit = HEADERS;
      if (startsWith(b, at, NULL)) at += 4;
      else {
        at = s.stringMap(at);
        headers = s.map;
      }
    } else return undefined;
    if (at < 0 || (seen & bit) !== 0) return undefined;
    seen |= bit;
    const more = s.more(at, CLOSE_OBJECT);
    at = s.next;
    if (more < 0) return undefined;
    if (more === 0) break;
  }
  // The decision object has exactly one key, and status is required.
  if (b[at] !== CLOSE_OBJECT || (seen & STATUS) === 0) return undefined;
  s.next = at + 1;
  return { type: 'block', status, body, headers };
}

const scan = new ReplyCursor();

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
  s.b = EMPTY;
  s.text = '';
  return reply;
}
const EMPTY = new Uint8Array(0);

function topLevel(s: ReplyCursor): ScannedReply | undefined {
  const b = s.b;
  if (b[0] !== OPEN_OBJECT) return undefined;
  s.containers++;
  let at = 1;
  let seen = 0;
  let version = 0;
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
  for (;;) {
    at = s.key(at);
    if (at < 0) return undefined;
    const bit = replyKey(s);
    switch (bit) {
      case VERSION:
        at = s.number(at);
        if (at < 0 || !Number.isSafeInteger(s.num)) return undefined;
        version = s.num;
        break;
      case DECISION:
        if (startsWith(b, at, ALLOW)) {
          at += ALLOW.length;
          decision = { type: 'allow' };
        } else {
          decision = blockDecision(s, at);
          at = decision === undefined ? MISS : s.next;
        }
        break;
      case REQUEST_HEADERS:
        at = s.headerOps(at);
        requestHeaders = s.ops;
        break;
      case RESPONSE_HEADERS:
        at = s.headerOps(at);
        responseHeaders = s.ops;
        break;
      case ROUTING:
        at = s.stringMap(at);
        routingMetadata = s.map;
        break;
      case AUDIT:
        if (startsWith(b, at, NULL)) {
          at += 4;
          break;
        }
        if (b[at] !== OPEN_OBJECT) return undefined;
        s.containers++;
        at++;
        if (b[at] === CLOSE_OBJECT) {
          at++;
          break;
        }
        for (let auditSeen = 0; ;) {
          at = s.key(at);
          if (at < 0) return undefined;
          const auditBit = auditKey(s);
          switch (auditBit) {
            case TAGS:
              at = s.strings(at);
              tags = s.strs;
              break;
            case RULE_IDS:
              at = s.strings(at);
              ruleIds = s.strs;
              break;
            case CONFIDENCE:
              if (startsWith(b, at, NULL)) at += 4;
              else {
                at = s.number(at);
                confidence = s.num;
              }
              break;
            case REASON_CODES:
              at = s.strings(at);
              reasonCodes = s.strs;
              break;
            case CUSTOM:
              at = s.stringMap(at);
              custom = s.map;
              break;
            default:
              return undefined;
          }
          if (at < 0 || (auditSeen & auditBit) !== 0) return undefined;
          auditSeen |= auditBit;
          const more = s.more(at, CLOSE_OBJECT);
          at = s.next;
          if (more < 0) return undefined;
          if (more === 0) break;
        }
        break;
      case NEEDS_MORE:
        if (startsWith(b, at, TRUE)) {
          needsMore = true;
          at += 4;
        } else if (startsWith(b, at, FALSE)) at += 5;
        else if (startsWith(b, at, NULL)) at += 4;
        else return undefined;
        break;
      case CORRELATION:
        if (startsWith(b, at, NULL)) at += 4;
        else {
          at = s.string(at);
          correlationId = s.str;
        }
        break;
      case REQUEST_MUTATION:
      case RESPONSE_MUTATION:
      case WEBSOCKET:
        // The body mutations and the WebSocket decision: null only.
        if (!startsWith(b, at, NULL)) return undefined;
        at += 4;
        break;
      default:
        return undefined;
    }
    if (at < 0 || (seen & bit) !== 0) return undefined;
    seen |= bit;
    const more = s.more(at, CLOSE_OBJECT);
    at = s.next;
    if (more < 0) return undefined;
    if (more === 0) break;
  }
  // Both required keys, nothing after the object, and the container cap of the general path. (A text
  // refused this late is read twice, here and by the general path: at most twice the work.)
  if ((seen & VERSION) === 0 || decision === undefined || at !== b.length || s.containers > MAX_PAYLOAD_CONTAINERS) return undefined;
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
