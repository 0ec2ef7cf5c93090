// The lifetime of one request at the engine: its correlation id, what a client disconnect cancels
// (reason ClientDisconnect, spec §10.9), byte counts, and the end: request_complete sent in the
// background, then endRequest exactly once.
//
// No AbortController per request: with one abort listener it costs Node 20 about 5 µs here (an
// EventEmitter with one, 0.6 µs), and every agent call that carries its signal adds and removes a
// listener. A disconnect cancels the agents' live calls of the cid through the pool instead, and the
// upstream request listens on a plain EventEmitter, which undici takes as a signal. An AbortSignal is
// made only where something must await the disconnect.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SendOptions } from '../pool/agent-pool.js';
import type { Decision } from '../protocol/types.js';
import type { EnginePool, RequestOutcome, EngineLog } from './engine-types.js';
import type { HttpRoute } from './route.js';
import { completeRequest } from './request-complete.js';
import { performance } from 'node:perf_hooks';

export class RequestLife {
  readonly cid = randomUUID();
  readonly started = performance.now();
  /** The upstream request's signal: 'abort' is emitted once, when the client goes away. */
  readonly upstreamSignal = new EventEmitter();
  private gone = false;
  /** Made on first use of `signal` only. */
  private abort: AbortController | undefined;
  requestBodySize = 0;
  responseBodySize = 0;
  /** An agent's stop on the request body, once one came. */
  stopped: Decision | null = null;
  /** Why the request did not complete normally; null when it did. */
  error: string | null = null;
  private ended = false;

  constructor(
    readonly pool: EnginePool,
    readonly route: HttpRoute,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly log: EngineLog,
  ) {
    res.once('close', () => {
      if (!res.writableFinished) this.disconnect();
    });
  }

  /** Aborted (reason `client_disconnect`) when the client goes away; already aborted if it has. */
  get signal(): AbortSignal {
    if (this.abort === undefined) {
      this.abort = new AbortController();
      if (this.gone) this.abort.abort('client_disconnect');
    }
    return this.abort.signal;
  }

  get disconnected(): boolean {
    return this.gone;
  }

  private disconnect(): void {
    if (this.gone) return;
    this.gone = true;
    this.error ??= 'client_disconnect';
    this.abort?.abort('client_disconnect');
    this.upstreamSignal.emit('abort');
    // The route's agents: whatever of this request is still with them ends now, with a Cancel.
    for (const agent of this.route.agents) {
      try {
        this.pool.cancelRequest(agent.id, this.cid, 'client_disconnect');
      } catch {
        // An agent the pool does not know has no call to cancel.
      }
    }
  }

  /**
   * Options of every agent call: its timeout. A call made once the client has gone carries an aborted
   * signal, so it ends at once as ABORT_ERR (cancel reason ClientDisconnect) like the ones cancelled.
   */
  options(timeoutMs: number): SendOptions {
    return this.gone ? { signal: this.signal, timeoutMs, cancelReason: 'client_disconnect' } : { timeoutMs };
  }

  /**
   * Waits for the response to be finished or abandoned, then reports the outcome. request_complete
   * goes to its subscribers after that (the client is not held up) and endRequest follows once.
   */
  async finish(): Promise<RequestOutcome> {
    const { res } = this;
    if (!res.writableFinished && !res.destroyed) {
      await new Promise<void>((resolve) => {
        res.once('finish', resolve);
        res.once('close', resolve);
      });
    }
    if (!res.writableFinished) this.error ??= 'response not completed';
    const outcome: RequestOutcome = {
      correlationId: this.cid,
      // Nothing reached the client: 499, the status proxies log for a client that went away.
      status: res.headersSent || this.error === null ? res.statusCode : 499,
      durationMs: Math.round(performance.now() - this.started),
      requestBodySize: this.requestBodySize,
      responseBodySize: this.responseBodySize,
      error: this.error,
    };
    void this.complete(outcome);
    return outcome;
  }

  private async complete(outcome: RequestOutcome): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await completeRequest(this.pool, this.route, outcome, this.log);
  }
}
