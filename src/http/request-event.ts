// RequestHeadersEvent (spec §6.2) of a Node request.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RequestHeadersEvent } from '../protocol/types.js';
import { headerMapOf } from './node-headers.js';

export interface RequestEventOptions {
  /** The correlation id (also `request_id`). */
  correlationId: string;
  routeId?: string | null;
  upstreamId?: string | null;
  /** Default: now. */
  timestamp?: Date;
}

/** `HTTP/1.1` from `req.httpVersion` (`2.0` → `HTTP/2`). */
function protocolOf(req: IncomingMessage): string {
  return req.httpVersionMajor >= 2 ? `HTTP/${req.httpVersionMajor}` : `HTTP/${req.httpVersion}`;
}

/**
 * The RequestHeadersEvent of `req`: method, path with query as received, headers (pseudo-headers of
 * HTTP/2 left out), and metadata from the socket (client address, TLS version, cipher and SNI when
 * the socket is TLS). `traceparent` is copied from the request's header when present.
 */
export function requestHeadersEvent(req: IncomingMessage, options: RequestEventOptions): RequestHeadersEvent {
  const socket = req.socket as Partial<TLSSocket> & IncomingMessage['socket'];
  const tls = socket.encrypted === true;
  const headers = headerMapOf(req.headers);
  for (const name of Object.keys(headers)) if (name.startsWith(':')) delete headers[name];
  const traceparent = req.headers['traceparent'];
  const event: RequestHeadersEvent = {
    metadata: {
      correlationId: options.correlationId,
      requestId: options.correlationId,
      clientIp: socket.remoteAddress ?? '',
      clientPort: socket.remotePort ?? 0,
      serverName: tls && typeof socket.servername === 'string' ? socket.servername : null,
      protocol: protocolOf(req),
      tlsVersion: tls ? (socket.getProtocol?.() ?? null) : null,
      tlsCipher: tls ? (socket.getCipher?.()?.standardName ?? null) : null,
      routeId: options.routeId ?? null,
      upstreamId: options.upstreamId ?? null,
      timestamp: (options.timestamp ?? new Date()).toISOString(),
    },
    method: req.method ?? 'GET',
    uri: req.url ?? '/',
    headers,
  };
  if (typeof traceparent === 'string') event.metadata.traceparent = traceparent;
  return event;
}
