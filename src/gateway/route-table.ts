// Route selection for `zap gateway`, compiled once per configuration: routes sorted by priority
// (higher first, then the order written), each route's conditions turned into one predicate, regular
// expressions built once. The request path only runs `pick()`.
import type { RouteConfig, RouteMatchConfig } from '../config/config-types.js';

/** What a route is chosen on: the request line and Host header, nothing else. */
export interface RouteRequest {
  readonly method: string;
  /** The request target as received (path and query). */
  readonly url: string;
  readonly host: string | undefined;
}

/** The request as the predicates read it: path and host name worked out once per pick. */
interface Prepared {
  readonly path: string;
  /** `hostName(req.host)`; '' when no route matches on the host. */
  readonly host: string;
  readonly method: string;
}

type Predicate = (at: Prepared) => boolean;

/** Lowercase host name without the port (`[::1]:80` → `[::1]`). */
export function hostName(host: string | undefined): string {
  if (host === undefined) return '';
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

function compile(m: RouteMatchConfig): Predicate {
  switch (m.kind) {
    case 'path-prefix':
      return (at) => at.path.startsWith(m.value);
    case 'path':
      return (at) => at.path === m.value;
    case 'path-regex': {
      const re = new RegExp(m.value);
      return (at) => re.test(at.path);
    }
    case 'host':
      return (at) => at.host === m.value;
    case 'method': {
      const methods = new Set(m.values);
      return (at) => methods.has(at.method.toUpperCase());
    }
  }
}

interface CompiledRoute<T> {
  readonly route: RouteConfig;
  readonly matches: readonly Predicate[];
  readonly target: T;
}

/** The path part of a request target (before `?` or `#`). */
export function requestPath(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

/**
 * Routes in evaluation order, each carrying what the caller built for it (`target`, e.g. its
 * upstream and agents), so a pick is one pass over precompiled predicates.
 */
export class RouteTable<T> {
  readonly #routes: readonly CompiledRoute<T>[];
  readonly #byId: ReadonlyMap<string, CompiledRoute<T>>;
  readonly #matchesHost: boolean;

  constructor(routes: readonly RouteConfig[], build: (route: RouteConfig) => T) {
    const compiled = routes.map((route, order) => ({ route, order, matches: route.matches.map(compile), target: build(route) }));
    compiled.sort((a, b) => b.route.priority - a.route.priority || a.order - b.order);
    this.#routes = compiled;
    this.#byId = new Map(compiled.map((c) => [c.route.id, c]));
    this.#matchesHost = routes.some((r) => r.matches.some((m) => m.kind === 'host'));
  }

  /** Route ids in the order they are tried. */
  get order(): string[] {
    return this.#routes.map((r) => r.route.id);
  }

  /** The first route whose conditions all hold, else the listener's default route, else undefined. */
  pick(req: RouteRequest, listener?: { readonly defaultRoute?: string | undefined }): { route: RouteConfig; target: T } | undefined {
    const at: Prepared = { path: requestPath(req.url), host: this.#matchesHost ? hostName(req.host) : '', method: req.method };
    for (const r of this.#routes) {
      if (r.matches.every((m) => m(at))) return r;
    }
    return listener?.defaultRoute === undefined ? undefined : this.#byId.get(listener.defaultRoute);
  }
}
