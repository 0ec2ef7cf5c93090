// `upgrade` requests (WebSocket): the request headers phase runs as for any request, then the
// relay (websocket-relay.ts) takes the socket; a non-allow is written as a plain HTTP response.
// Either way the request ends as any other: request_complete with the status the client got (101
// for a relayed connection, once it is over), then endRequest.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { applyHeaderOps } from '../protocol/header-ops.js';
import { peerText } from '../protocol/peer-text.js';
import type { Decision } from '../protocol/types.js';
import type { EngineLog, EnginePool } from './engine-types.js';
import { agentsFor, type HttpRoute } from './route.js';
import { requestHeadersEvent } from './request-event.js';
import { isAbort } from './agent-call.js';
import { requestHeadersPhase } from './request-headers-phase.js';
import { forwardedHeaders, nodeHeadersOf } from './node-headers.js';
import { relayWebSocket } from './websocket-relay.js';
import { writableDecision } from './header-guard.js';
import { challengeBody, challengeStatus } from './render-decision.js';
import { completeRequest } from './request-complete.js';
import { performance } from 'node:perf_hooks';

export interface UpgradeDeps {
  pool: EnginePool;
  resolve: (req: IncomingMessage) => HttpRoute | undefined;
  trust: boolean;
  log: EngineLog;
}

/** A decision as raw HTTP/1.1 on the socket (no ServerResponse exists for an upgrade); returns its status. */
function writeDecision(socket: Duplex, agentDecision: Decision, warn: (message: string) => void): number {
  // Only headers Node itself would write: a name or value with CR/LF must not add a header line.
  const decision = writableDecision(agentDecision, warn);
  let status = 403;
  let body = '';
  const headers: Record<string, string> = { connection: 'close' };
  if (decision.type === 'block') {
    status = decision.status;
    body = decision.body ?? '';
    Object.assign(headers, decision.headers ?? {});
  } else if (decision.type === 'redirect') {
    status = decision.status;
    headers['location'] = decision.url;
  } else if (decision.type === 'challenge') {
    status = challengeStatus(decision.challengeType);
    body = challengeBody(decision.challengeType, decision.params, false);
    headers['content-type'] = 'application/json';
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('')}\r\n${body}`);
  return status;
}

async function runUpgrade(deps: UpgradeDeps, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  // Node's server takes its own error listener off an upgraded socket: without one, a client that
  // resets the connection (ECONNRESET) while the agents are asked would crash the process.
  socket.on('error', () => {});
  const route = deps.resolve(req);
  if (route === undefined) {
    writeDecision(socket, { type: 'block', status: 404, body: 'Not found', headers: null }, () => {});
    return;
  }
  const cid = randomUUID();
  const started = performance.now();
  const abort = new AbortController();
  socket.once('close', () => abort.abort('client_disconnect'));
  let ended = false;
  const done = (error: string | null, status: number): void => {
    if (ended) return;
    ended = true;
    const outcome = {
      correlationId: cid,
      status,
      durationMs: Math.round(performance.now() - started),
      requestBodySize: 0,
      responseBodySize: 0,
      error: error ?? (status === 499 ? 'client_disconnect' : null),
    };
    void completeRequest(deps.pool, route, outcome, deps.log);
  };
  try {
    const event = requestHeadersEvent(req, { correlationId: cid, routeId: route.id, upstreamId: route.upstream.id });
    const options = (timeoutMs: number) => ({ signal: abort.signal, timeoutMs, cancelReason: 'client_disconnect' as const });
    const phase = await requestHeadersPhase({ pool: deps.pool, route, cid, options, log: deps.log }, event);
    if (!('request' in phase))
      return done(
        null,
        writeDecision(socket, phase, (message) => deps.log('warn', `${cid}: ${message}`)),
      );
    // Response header ops have no response to land on: the 101 comes from the upstream's handshake.
    const forwarded = forwardedHeaders(req, event.headers, deps.trust);
    relayWebSocket({
      pool: deps.pool,
      agents: agentsFor(route, 'websocket_frame'),
      route,
      cid,
      clientIp: req.socket.remoteAddress ?? '',
      req,
      socket,
      head,
      upstream: route.upstream,
      upstreamHeaders: nodeHeadersOf(applyHeaderOps(forwarded, phase.request)),
      log: deps.log,
      done,
    });
  } catch (error) {
    if (isAbort(error) || ended || !socket.writable) {
      socket.destroy();
      return done('client_disconnect', 499);
    }
    const why = `upgrade failed: ${peerText((error as Error).message)}`;
    deps.log('error', `${cid}: ${why}`);
    done(
      why,
      writeDecision(socket, { type: 'block', status: 502, body: 'Bad gateway', headers: null }, () => {}),
    );
  }
}

/** Handles one `upgrade` event; never throws (failures close the socket). */
export function handleUpgrade(deps: UpgradeDeps, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  void runUpgrade(deps, req, socket, head);
}
