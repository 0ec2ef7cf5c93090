// Renders a non-allow decision (spec §6.9.2) as the response to the client.
import type { ServerResponse } from 'node:http';
import type { Decision } from '../protocol/types.js';

/** `auto` (default): HTML when the client's Accept names text/html before JSON, else JSON. */
export type ChallengeFormat = 'json' | 'html' | 'auto';

export interface RenderOptions {
  /** The client's Accept header, for `auto` challenges. */
  accept?: string | undefined;
  challengeFormat?: ChallengeFormat;
  /** Extra response headers (e.g. from agents' response header ops). */
  headers?: Record<string, string | string[]>;
}

/** Challenge types answered with 429 instead of 403: the client is asked to slow down. */
const RATE_LIMIT_CHALLENGES = new Set(['rate_limit', 'rate-limit', 'ratelimit']);

/** The status of a challenge: 429 for a rate-limit challenge, else 403. */
export function challengeStatus(challengeType: string): 403 | 429 {
  return RATE_LIMIT_CHALLENGES.has(challengeType.toLowerCase()) ? 429 : 403;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function wantsHtml(accept: string | undefined, format: ChallengeFormat): boolean {
  if (format !== 'auto') return format === 'html';
  if (accept === undefined) return false;
  const html = accept.indexOf('text/html');
  const json = accept.indexOf('application/json');
  return html !== -1 && (json === -1 || html < json);
}

/**
 * The body of a challenge. JSON: `{"challenge":{"type":"captcha","params":{…}}}`. HTML: a page whose
 * `<main data-challenge-type>` holds one `<input type="hidden">` per param, for a script to act on.
 */
export function challengeBody(challengeType: string, params: Record<string, string>, html: boolean): string {
  if (!html) return JSON.stringify({ challenge: { type: challengeType, params } });
  const inputs = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>Challenge</title></head>` +
    `<body><main data-challenge-type="${escapeHtml(challengeType)}"><form>${inputs}</form></main></body></html>`
  );
}

/**
 * Writes `decision` onto `res` and ends it: block → its status, body (default the status text) and
 * headers; redirect → its status with `location`; challenge → 403 (429 for `rate_limit`) with the
 * `challengeBody`. Allow writes nothing and returns false. Headers already sent: the response is
 * destroyed instead (the client sees a cut response).
 */
export function renderDecision(res: ServerResponse, decision: Decision, options: RenderOptions = {}): boolean {
  if (decision.type === 'allow') return false;
  if (res.headersSent) {
    res.destroy();
    return true;
  }
  const headers: Record<string, string | string[]> = { ...options.headers };
  let status: number;
  let body: string;
  switch (decision.type) {
    case 'block':
      status = decision.status;
      body = decision.body ?? `${status}`;
      if (decision.body !== null || decision.headers?.['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
      Object.assign(headers, decision.headers ?? {});
      break;
    case 'redirect':
      status = decision.status;
      body = '';
      headers['location'] = decision.url;
      break;
    case 'challenge': {
      status = challengeStatus(decision.challengeType);
      const html = wantsHtml(options.accept, options.challengeFormat ?? 'auto');
      body = challengeBody(decision.challengeType, decision.params, html);
      headers['content-type'] = html ? 'text/html; charset=utf-8' : 'application/json';
      headers['cache-control'] = 'no-store';
      break;
    }
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
  return true;
}
