// The upstream leg's handshake: its URL and the request headers it may carry. `ws` writes the
// handshake headers itself (upgrade, connection, sec-websocket-key/-version/-extensions, and the
// subprotocols from the client's offer), so those and every hop-by-hop header are left out.

import type { OutgoingHttpHeaders } from 'node:http';
import { HOP_BY_HOP, namedByConnection } from './node-headers.js';

/** RFC 9110 section 7.6.1 hop-by-hop headers, plus the ones the WebSocket handshake owns. */
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  'content-length',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
]);

/** The upstream URL of a request: `origin` (`http:`/`https:`) as `ws:`/`wss:`, with the request's path and query. */
export function upstreamWebSocketUrl(origin: string, path: string | undefined): URL {
  // Concatenated, not resolved: a path of `//host/…` must not name another host.
  const url = new URL(origin + (path !== undefined && path.startsWith('/') ? path : '/'));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

/** `headers` without hop-by-hop ones (including those the `connection` header names) and handshake ones. */
export function upstreamHandshakeHeaders(headers: OutgoingHttpHeaders): Record<string, string | string[]> {
  const connection = headers['connection'];
  // The same rule as for HTTP requests: the client cannot strip the proxy's own headers by naming them.
  const named = namedByConnection(Array.isArray(connection) ? connection : connection === undefined ? [] : [String(connection)]);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || NOT_FORWARDED.has(lower) || named.has(lower)) continue;
    out[lower] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}
