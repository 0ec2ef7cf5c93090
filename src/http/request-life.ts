// The lifetime of one request at the engine: its correlation id, the abort that a client disconnect
// fires (reason ClientDisconnect, spec §10.9), byte counts, and the end: request_complete sent in the
// background, then endRequest exactly once.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SendOptions } from '../pool/agent-pool.js';
import type { Decision } from '../protocol/types.js';
import type { EnginePool, RequestOutcome, EngineLog } from './engine-types.js';
import type { HttpRoute } from './route.js';
import { completeRequest } from './request-complete.js';

export class RequestLife {
  readonly cid = randomUUID();
  readonly started = performance.now();
  private readonly abort = new AbortController();
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

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get disconnected(): boolean {
    return this.abort.signal.aborted;
  }

  private disconnect(): void {
    this.error ??= 'client_disconnect';
    this.abort.abort('client_disconnect');
  }

  /** Options of every agent call: the request's signal, the given timeout, cancel reason ClientDisconnect. */
  options(timeoutMs: number): SendOptions {
    return { signal: this.abort.signal, timeoutMs, cancelReason: 'client_disconnect' };
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
