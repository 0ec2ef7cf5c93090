// The HTTP lifecycle engine (spec §10.2): one request from the client through the agents and the
// upstream and back. Phases: request headers (agents in parallel), request body and upstream exchange,
// response headers, response body (agents one after another), then request_complete and endRequest.
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { applyHeaderOps } from '../protocol/header-ops.js';
import { peerText } from '../protocol/peer-text.js';
import type { Decision, HeaderMap, HeaderOp } from '../protocol/types.js';
import type { EngineLog, HttpEngine, HttpEngineOptions, RequestOutcome } from './engine-types.js';
import { agentsFor, type HttpRoute } from './route.js';
import { RequestLife } from './request-life.js';
import { requestHeadersEvent } from './request-event.js';
import { renderDecision } from './render-decision.js';
import { callAgent, isAbort } from './agent-call.js';
import { forwardedHeaders, headerMapOf, nodeHeadersOf, withoutHopByHop } from './node-headers.js';
import { BodyStage, runStages, type BodyDirection, type ChunkSender } from './body-stage.js';
import { handleUpgrade } from './upgrade.js';
import { requestHeadersPhase } from './request-headers-phase.js';
import { writableDecision, writableHeaderOps } from './header-guard.js';
import { countedBody, discardBody, upstreamFailure, writeOrWait } from './upstream-io.js';

/** Thrown out of the upstream body when an agent stops the request mid-body. */
class StopRequest extends Error {
  constructor(readonly decision: Decision) {
    super('stopped by an agent');
  }
}

/**
 * Notes an agent's stop on the request body. The upstream may answer before its body has ended: a
 * stop that comes after is still rendered when nothing has gone to the client yet.
 */
function stopRequest(life: RequestLife, decision: Decision): StopRequest {
  life.stopped = decision;
  return new StopRequest(decision);
}

/** Request headers the upstream client refuses or that describe this hop only. */
const NOT_FORWARDED = ['expect'];

function defaultLog(level: 'warn' | 'error', message: string): void {
  process.emitWarning(message, { code: level === 'error' ? 'ZAP_HTTP_ERROR' : 'ZAP_HTTP_WARNING' });
}

/** The declared length of a body, or null when it is chunked or absent. */
function declaredLength(value: string | string[] | undefined): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

function hasRequestBody(req: IncomingMessage): boolean {
  const length = declaredLength(req.headers['content-length']);
  return (length !== null && length > 0) || req.headers['transfer-encoding'] !== undefined;
}

/** The rest of a generator whose first step was taken already. */
async function* resumed(first: IteratorResult<Buffer>, rest: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  try {
    if (first.done === true) return;
    yield first.value;
    yield* rest;
  } finally {
    // Left after the first piece: `rest` must still run its own end (it reports the verdict).
    await rest.return(undefined);
  }
}

/** A request no route takes: 404, with no agent consulted. */
function notFound(res: ServerResponse): RequestOutcome {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '9' }).end('Not found');
  return { correlationId: '', status: 404, durationMs: 0, requestBodySize: 0, responseBodySize: 0, error: 'no route' };
}

/** Creates the engine; see HttpEngineOptions. */
export function createHttpEngine(options: HttpEngineOptions): HttpEngine {
  const log: EngineLog = options.log ?? defaultLog;
  const trust = options.trustForwarded ?? false;
  const resolve = (req: IncomingMessage): HttpRoute | undefined =>
    typeof options.route === 'function' ? options.route(req) : options.route;

  const render = (life: RequestLife, decision: Decision): void => {
    if (life.disconnected) return;
    const accept = life.req.headers.accept;
    decision = writableDecision(decision, (message) => log('warn', `${life.cid}: ${message}`));
    renderDecision(life.res, decision, { accept, ...(options.challengeFormat && { challengeFormat: options.challengeFormat }) });
  };

  function stagesFor(life: RequestLife, direction: BodyDirection, totalSize: number | null): BodyStage[] {
    const kind = direction === 'request' ? 'request_body_chunk' : 'response_body_chunk';
    const warn = (message: string): void => log('warn', `${life.cid}: ${message}`);
    return agentsFor(life.route, kind).map((agent) => {
      const send: ChunkSender =
        direction === 'request'
          ? (c, timeoutMs) =>
              life.pool.sendRequestBodyChunk(
                agent.id,
                life.cid,
                { correlationId: life.cid, data: c.data, isLast: c.isLast, totalSize, chunkIndex: c.chunkIndex, bytesReceived: c.bytes },
                life.options(timeoutMs),
              )
          : (c, timeoutMs) =>
              life.pool.sendResponseBodyChunk(
                agent.id,
                life.cid,
                { correlationId: life.cid, data: c.data, isLast: c.isLast, totalSize, chunkIndex: c.chunkIndex, bytesSent: c.bytes },
                life.options(timeoutMs),
              );
      return new BodyStage(agent, direction, totalSize, send, warn);
    });
  }

  /**
   * The request body as the upstream gets it: through the body stages, chunk by chunk. When the
   * upstream answers and stops reading early, the rest still goes through the agents (their output
   * dropped): their verdict on the whole body comes before the answer reaches the client.
   */
  async function* inspectedBody(life: RequestLife, stages: BodyStage[], total: number | null, over: () => void): AsyncGenerator<Buffer> {
    // Not for-await: leaving that loop early would destroy the client's request stream.
    const source = (life.req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let seen = 0;
    let ended = false;
    const step = async (): Promise<Buffer[] | null> => {
      if (ended) return null;
      const next = await source.next();
      if (next.done === true) ended = true;
      else {
        seen += next.value.length;
        life.requestBodySize = seen;
        ended = total !== null && seen >= total;
      }
      const result = await runStages(stages, next.done === true ? Buffer.alloc(0) : next.value, ended);
      if (result.type === 'stop') throw stopRequest(life, result.decision);
      return result.chunks;
    };
    let complete = false;
    try {
      for (let chunks = await step(); chunks !== null; chunks = await step()) yield* chunks;
      complete = true;
    } finally {
      try {
        while (!complete && life.stopped === null && !life.disconnected && (await step()) !== null);
      } catch {
        // A stop is noted on the request; anything else ends the inspection like a disconnect.
      } finally {
        over();
      }
    }
  }

  /** Response headers to the subscribers one after another; their ops and the earlier ones applied. */
  async function responseHeadersPhase(life: RequestLife, status: number, headers: HeaderMap): Promise<HeaderOp[] | Decision> {
    const ops: HeaderOp[] = [];
    for (const agent of agentsFor(life.route, 'response_headers')) {
      const event = { correlationId: life.cid, status, headers };
      const outcome = await callAgent(agent, () => life.pool.sendResponseHeaders(agent.id, life.cid, event, life.options(agent.timeoutMs)));
      if (outcome.kind === 'failed') return outcome.decision;
      if (outcome.kind === 'skipped') {
        log('warn', `${life.cid}: agent ${agent.id}: ${outcome.error.code} on response headers, skipped (fail-open)`);
        continue;
      }
      if (outcome.response.decision.type !== 'allow') return outcome.response.decision;
      ops.push(...writableHeaderOps(outcome.response.responseHeaders, (m) => log('warn', `${life.cid}: agent ${agent.id}: ${m}`)));
    }
    return ops;
  }

  /** Streams the upstream body to the client through the response body stages. */
  async function responsePhase(life: RequestLife, status: number, headers: HeaderMap, body: Readable): Promise<void> {
    const { res } = life;
    const total = declaredLength(headers['content-length']);
    // HEAD answers and 1xx/204/304 carry no body: their content-length describes another response.
    const bodyless = life.req.method === 'HEAD' || status < 200 || status === 204 || status === 304;
    const stages = bodyless ? [] : stagesFor(life, 'response', total);
    if (stages.length === 0) {
      res.writeHead(status, nodeHeadersOf(headers));
      for await (const chunk of body as AsyncIterable<Buffer>) {
        life.responseBodySize += chunk.length;
        await writeOrWait(res, chunk);
      }
      res.end();
      return;
    }
    // Agents may change the length: the body goes out chunked, unless it is all known before the head.
    const head = { ...headers };
    delete head['content-length'];
    let seen = 0;
    const emit = async (chunks: Buffer[], last: boolean): Promise<void> => {
      if (!res.headersSent) {
        if (!last && chunks.length === 0) return;
        if (last) head['content-length'] = [String(chunks.reduce((n, c) => n + c.length, 0))];
        res.writeHead(status, nodeHeadersOf(head));
      }
      for (const chunk of chunks) {
        life.responseBodySize += chunk.length;
        await writeOrWait(res, chunk);
      }
    };
    let ended = false;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      seen += chunk.length;
      ended = total !== null && seen >= total;
      const result = await runStages(stages, chunk, ended);
      if (result.type === 'stop') {
        discardBody(body);
        render(life, result.decision);
        return;
      }
      await emit(result.chunks, ended);
    }
    if (!ended) {
      const result = await runStages(stages, Buffer.alloc(0), true);
      if (result.type === 'stop') return render(life, result.decision);
      await emit(result.chunks, true);
    }
    res.end();
  }

  async function run(life: RequestLife): Promise<void> {
    const { req, route } = life;
    // Origin form only: an absolute-form target (a forward-proxy request) has no upstream path here.
    if (!(req.url ?? '/').startsWith('/')) return render(life, { type: 'block', status: 400, body: 'Bad request target', headers: null });
    const event = requestHeadersEvent(req, { correlationId: life.cid, routeId: route.id, upstreamId: route.upstream.id });
    const phase = await requestHeadersPhase({ pool: life.pool, route, cid: life.cid, options: (t) => life.options(t), log }, event);
    if (!('request' in phase)) return render(life, phase);

    const upstreamHeaders = applyHeaderOps(forwardedHeaders(req, event.headers, trust), phase.request);
    for (const name of NOT_FORWARDED) delete upstreamHeaders[name];

    let body: Readable | null = null;
    let bodyInspected: Promise<void> = Promise.resolve();
    if (hasRequestBody(req)) {
      const total = declaredLength(req.headers['content-length']);
      const stages = stagesFor(life, 'request', total);
      if (stages.length === 0) {
        body = countedBody(req, (bytes) => (life.requestBodySize += bytes));
      } else {
        // Agents may change the length: the body goes upstream chunked.
        delete upstreamHeaders['content-length'];
        // The upstream hears of the request only once the agents release its first bytes (or all
        // of it, for buffering agents): a body blocked before that never reaches it.
        let over = (): void => {};
        bodyInspected = new Promise<void>((resolve) => (over = resolve));
        const inspected = inspectedBody(life, stages, total, () => over());
        let first: IteratorResult<Buffer>;
        try {
          first = await inspected.next();
        } catch (error) {
          if (error instanceof StopRequest) return render(life, error.decision);
          throw error;
        }
        body = Readable.from(resumed(first, inspected), { objectMode: false });
      }
    }

    // The upstream's signal is an EventEmitter (request-life.ts), which cannot say it has fired already.
    if (life.disconnected) return;
    let response: Dispatcher.ResponseData;
    try {
      response = await route.upstream.dispatcher.request({
        origin: route.upstream.origin,
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: nodeHeadersOf(upstreamHeaders) as Record<string, string | string[]>,
        body,
        signal: life.upstreamSignal,
      });
    } catch (error) {
      const stop = error instanceof StopRequest ? error : (error as { cause?: unknown }).cause;
      if (stop instanceof StopRequest) return render(life, stop.decision);
      if (isAbort(error) || life.disconnected) return;
      life.error = `upstream: ${peerText((error as Error).message)}`;
      return render(life, upstreamFailure(error, route.upstream.id, log));
    }

    // The upstream may answer before its request body has ended; the agents' verdict on that body
    // comes first (spec §10.2 order), and a stop still wins over the upstream's answer. Without a
    // body there is nothing to wait for (and no abort listener to add per request).
    if (body !== null && !life.disconnected) await Promise.race([bodyInspected, once(life.signal, 'abort')]);
    if (life.stopped !== null || life.disconnected) {
      discardBody(response.body);
      return life.stopped === null ? undefined : render(life, life.stopped);
    }
    const status = response.statusCode;
    const upstreamResponseHeaders = withoutHopByHop(headerMapOf(response.headers));
    const responseOps = await responseHeadersPhase(life, status, upstreamResponseHeaders);
    if (!Array.isArray(responseOps)) {
      discardBody(response.body);
      return render(life, responseOps);
    }
    const headers = applyHeaderOps(upstreamResponseHeaders, [...phase.response, ...responseOps]);
    await responsePhase(life, status, headers, response.body);
  }

  const engine: HttpEngine = {
    resolve,
    async handle(req: IncomingMessage, res: ServerResponse, route?: HttpRoute) {
      const picked = route ?? resolve(req);
      if (picked === undefined) return notFound(res);
      const life = new RequestLife(options.pool, picked, req, res, log);
      try {
        await run(life);
      } catch (error) {
        if (life.stopped !== null && !res.headersSent) render(life, life.stopped);
        else if (!isAbort(error) && !life.disconnected) {
          life.error = peerText((error as Error).message);
          log('error', `${life.cid}: ${life.error}`);
          if (!res.headersSent) render(life, { type: 'block', status: 502, body: 'Bad gateway', headers: null });
          else res.destroy();
        }
      }
      const outcome = await life.finish();
      engine.onOutcome?.(outcome, picked);
      return outcome;
    },
    upgrade(req, socket, head) {
      handleUpgrade({ pool: options.pool, resolve, trust, log }, req, socket, head);
    },
  };
  return engine;
}
