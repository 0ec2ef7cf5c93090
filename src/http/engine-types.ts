// The public shape of the HTTP lifecycle engine (spec §10.2): options, the engine, the pool it needs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentPool } from '../pool/agent-pool.js';
import type { HttpRoute } from './route.js';
import type { ChallengeFormat } from './render-decision.js';

/** The AgentPool methods the engine calls (an AgentPool, or a test double). */
export type EnginePool = Pick<
  AgentPool,
  | 'sendRequestHeaders'
  | 'sendRequestBodyChunk'
  | 'sendResponseHeaders'
  | 'sendResponseBodyChunk'
  | 'sendRequestComplete'
  | 'sendWebSocketFrame'
  | 'cancelRequest'
  | 'endRequest'
>;

/** Picks the route of a request; undefined = no route (404, or `next()` in middleware). */
export type RouteResolver = (req: IncomingMessage) => HttpRoute | undefined;

/** One line for the embedder's log; peer text in it is already escaped. */
export type EngineLog = (level: 'warn' | 'error', message: string) => void;

export interface HttpEngineOptions {
  pool: EnginePool;
  /** A fixed route, or a function that picks one per request. */
  route: HttpRoute | RouteResolver;
  /**
   * Trust an incoming `x-forwarded-for` / `-proto` / `-host` (append to it) instead of replacing it.
   * Default false: a client could otherwise forge its address.
   */
  trustForwarded?: boolean;
  /** How a challenge decision is rendered (default: by the client's Accept header). */
  challengeFormat?: ChallengeFormat;
  /** Where warnings go (default: process.emitWarning). */
  log?: EngineLog;
}

/** The outcome of one request, as `request_complete` reports it. */
export interface RequestOutcome {
  correlationId: string;
  status: number;
  durationMs: number;
  requestBodySize: number;
  responseBodySize: number;
  /** Why the request did not complete normally, e.g. `client_disconnect`, `upstream: …`; null when it did. */
  error: string | null;
}

export interface HttpEngine {
  /**
   * Runs the whole lifecycle of one request. Resolves when the response is finished or abandoned;
   * never rejects (failures are rendered as responses). `route` overrides the resolver.
   */
  handle(req: IncomingMessage, res: ServerResponse, route?: HttpRoute): Promise<RequestOutcome>;
  /** For `server.on('upgrade', engine.upgrade)`: WebSocket upgrades (spec §6.6). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Picks the route of a request with the engine's `route` option. */
  resolve(req: IncomingMessage): HttpRoute | undefined;
  /** Called with each finished request's outcome (metrics); set by the embedder. */
  onOutcome?: (outcome: RequestOutcome, route: HttpRoute) => void;
}
