// HeaderMap (spec §6.2) ↔ Node's header objects, and the header rules of a forwarding proxy:
// hop-by-hop removal (RFC 9110, section 7.6.1) and x-forwarded-*.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { HeaderMap } from '../protocol/types.js';

/**
 * A HeaderMap of Node headers (`req.headers`, `res.getHeaders()`, undici's response headers):
 * lower-case names, one array entry per value, numbers as text.
 */
export function headerMapOf(headers: IncomingHttpHeaders | OutgoingHttpHeaders): HeaderMap {
  const map: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    map[name.toLowerCase()] = Array.isArray(value) ? value.map(String) : [String(value)];
  }
  return map;
}

/**
 * Node outgoing headers of a HeaderMap, as `http.request`, `res.writeHead` and undici take them:
 * one value as a string (single-valued headers such as `host` refuse an array), several as an array.
 */
export function nodeHeadersOf(map: HeaderMap): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, values] of Object.entries(map)) {
    if (values.length === 1) out[name] = values[0];
    else if (values.length > 1) out[name] = values;
  }
  return out;
}

/** Headers that describe one connection, never forwarded (RFC 9110, section 7.6.1). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Headers a `connection` header may not remove: the ones this proxy sets itself (x-forwarded-*, set
 * after the removal) or needs to frame and route the request. `Connection: host` would otherwise
 * send the upstream a request with no Host, or one whose x-forwarded-* a trusted hop added.
 */
const NOT_NAMEABLE = new Set(['host', 'content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/**
 * A copy of `map` without hop-by-hop headers, nor those the `connection` header names (as proxies
 * do: a client may drop its own headers, `authorization` included), except the NOT_NAMEABLE ones.
 */
export function withoutHopByHop(map: HeaderMap): HeaderMap {
  const named = namedByConnection(map['connection'] ?? []);
  const out: HeaderMap = {};
  for (const [name, values] of Object.entries(map)) {
    const lower = name.toLowerCase();
    if (!HOP_BY_HOP.has(lower) && !named.has(lower)) out[name] = values;
  }
  return out;
}

/** The header names the `connection` values list (lower case), less the NOT_NAMEABLE ones. */
export function namedByConnection(values: readonly string[]): Set<string> {
  const named = new Set<string>();
  for (const value of values) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && !NOT_NAMEABLE.has(name)) named.add(name);
    }
  }
  return named;
}

/** What the proxy knows about the client connection. */
export interface ForwardedFacts {
  clientIp: string;
  /** `http` or `https` (the client's side). */
  proto: string;
  /** The Host the client asked for; absent when it sent none. */
  host: string | undefined;
}

/**
 * Sets `x-forwarded-for` / `-proto` / `-host` on a copy of `map`. With `trust` the client's own
 * `x-forwarded-for` is kept and the address appended; without, every x-forwarded-* it sent is replaced.
 */
export function withForwarded(map: HeaderMap, facts: ForwardedFacts, trust: boolean): HeaderMap {
  const out: HeaderMap = {};
  for (const [name, values] of Object.entries(map)) {
    if (!/^x-forwarded-(for|proto|host)$/i.test(name)) out[name] = values;
    else if (trust) out[name.toLowerCase()] = values;
  }
  const prior = trust ? (out['x-forwarded-for'] ?? []).join(', ') : '';
  out['x-forwarded-for'] = [prior === '' ? facts.clientIp : `${prior}, ${facts.clientIp}`];
  if (!trust || out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = [facts.proto];
  if (facts.host !== undefined && (!trust || out['x-forwarded-host'] === undefined)) out['x-forwarded-host'] = [facts.host];
  return out;
}

/** The client's headers as the upstream gets them: hop-by-hop removed, x-forwarded-* set from `req`. */
export function forwardedHeaders(req: IncomingMessage, map: HeaderMap, trust: boolean): HeaderMap {
  const proto = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  return withForwarded(withoutHopByHop(map), { clientIp: req.socket.remoteAddress ?? '', proto, host: req.headers.host }, trust);
}
