// One upstream: an undici Pool per origin (pooled keep-alive connections, streaming bodies, timeouts).
import { Pool } from 'undici';
import { ErrorCode, zapError } from '../protocol/errors.js';

/** How to reach one upstream. */
export interface HttpUpstreamOptions {
  /** Name in `metadata.upstream_id` and in logs. */
  id: string;
  /** `host:port`, or an `http://` / `https://` origin. */
  target: string;
  /** Keep-alive connections at most (default 64). */
  connections?: number;
  /** Connect timeout (default 10 000 ms). */
  connectTimeoutMs?: number;
  /** Wait for the response headers at most this long (default 60 000 ms); then 504. */
  headersTimeoutMs?: number;
  /** Longest silence while reading the response body (default 60 000 ms). */
  bodyTimeoutMs?: number;
}

/** An upstream the engine forwards to. Close it when the route table that uses it goes away. */
export interface HttpUpstream {
  readonly id: string;
  /** `http://host:port` */
  readonly origin: string;
  /** The pooled undici dispatcher of this upstream. */
  readonly dispatcher: Pool;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Waits for requests in flight, then closes the connections. */
  close(): Promise<void>;
}

/** The origin of a `host:port` or URL target; throws ZAP_INVALID_ARGUMENT on anything else. */
export function upstreamOrigin(target: string): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `http://${target}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw zapError(ErrorCode.InvalidArgument, `upstream target ${JSON.stringify(target)} is not host:port or a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw zapError(ErrorCode.InvalidArgument, `upstream target ${JSON.stringify(target)}: only http and https`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.username !== '') {
    throw zapError(ErrorCode.InvalidArgument, `upstream target ${JSON.stringify(target)}: no path, query or credentials`);
  }
  return url.origin;
}

/** Opens a pooled upstream (no connection is made before the first request). */
export function createUpstream(options: HttpUpstreamOptions): HttpUpstream {
  const origin = upstreamOrigin(options.target);
  const headersTimeoutMs = options.headersTimeoutMs ?? 60_000;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 60_000;
  const dispatcher = new Pool(origin, {
    connections: options.connections ?? 64,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    headersTimeout: headersTimeoutMs,
    bodyTimeout: bodyTimeoutMs,
  });
  return {
    id: options.id,
    origin,
    dispatcher,
    headersTimeoutMs,
    bodyTimeoutMs,
    close: () => dispatcher.close(),
  };
}
