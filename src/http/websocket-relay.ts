// WebSocket relay (spec §6.6): placeholder until the relay lands; answers 501.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { OutgoingHttpHeaders } from 'node:http';
import type { EngineLog, EnginePool } from './engine-types.js';
import type { HttpUpstream } from './upstream.js';
import type { RouteAgent, HttpRoute } from './route.js';

/** Everything the relay needs for one upgraded request; the request headers phase has already run. */
export interface WebSocketRelayContext {
  pool: EnginePool;
  /** The route's agents subscribed to `websocket_frame`, in configured order (may be empty). */
  agents: readonly RouteAgent[];
  route: HttpRoute;
  /** Correlation id of the upgrade request; frames carry it. */
  cid: string;
  clientIp: string;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  upstream: HttpUpstream;
  /**
   * Headers for the upstream upgrade request, with agent header ops, hop-by-hop removal and
   * x-forwarded-* applied; the relay sets `upgrade` and `connection` itself.
   */
  upstreamHeaders: OutgoingHttpHeaders;
  /** The engine's log (peer text must be escaped before it goes in). */
  log: EngineLog;
  /** Call exactly once when the relay is over (sends nothing; ends the request in the pool). */
  done: (error?: string | null) => void;
}

/** Relays one upgraded connection. */
export function relayWebSocket(ctx: WebSocketRelayContext): void {
  ctx.socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  ctx.done('websocket relay not implemented');
}
