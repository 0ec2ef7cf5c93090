// Agents' header text on its way into HTTP: header ops and the headers / `location` of a decision.
// A name or value Node would refuse (CR, LF, NUL, a non-token name…) would throw mid-response or,
// written by hand, smuggle a header; such an op or header is dropped with a warning instead, and a
// redirect whose URL cannot be a `location`, or a status outside 100–999, becomes a 502 (the agent
// meant to stop the request).
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { quotedPeerText } from '../protocol/peer-text.js';
import type { Decision, HeaderOp } from '../protocol/types.js';

/** Longest piece of a refused name or value quoted in a warning. */
const QUOTE_MAX = 64;

const badGateway = (): Decision => ({ type: 'block', status: 502, body: 'Bad gateway', headers: null });

/** Whether Node would write `name: value` as one header line. */
export function isWritableHeader(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/** `ops` without those whose name or value cannot be written; `warn` hears of each one dropped. */
export function writableHeaderOps(ops: readonly HeaderOp[], warn: (message: string) => void): HeaderOp[] {
  const kept: HeaderOp[] = [];
  for (const op of ops) {
    if (isWritableHeader(op.name, op.op === 'remove' ? '' : op.value)) kept.push(op);
    else warn(`header op ${op.op} ${quotedPeerText(op.name, QUOTE_MAX)} dropped: invalid header name or value`);
  }
  return kept;
}

/**
 * `decision` with only writable headers: a block's invalid headers are dropped, a redirect to a
 * `location` that cannot be written becomes a 502 block. `warn` hears of each change.
 */
export function writableDecision(decision: Decision, warn: (message: string) => void): Decision {
  // An agent's status is any u16; HTTP/1.1 writes three digits (Node throws outside 100–999).
  if ((decision.type === 'block' || decision.type === 'redirect') && (decision.status < 100 || decision.status > 999)) {
    warn(`${decision.type} status ${decision.status} refused: not a three-digit status; answered 502`);
    return badGateway();
  }
  if (decision.type === 'redirect' && !isWritableHeader('location', decision.url)) {
    warn(`redirect to ${quotedPeerText(decision.url, QUOTE_MAX)} refused: invalid location; answered 502`);
    return badGateway();
  }
  if (decision.type !== 'block' || decision.headers === null) return decision;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(decision.headers)) {
    if (isWritableHeader(name, value)) headers[name] = value;
    else warn(`block header ${quotedPeerText(name, QUOTE_MAX)} dropped: invalid header name or value`);
  }
  return { ...decision, headers };
}
