// A handler failure (the proxy got Block 500) goes to the 'handlerError' event of the AgentServer or
// ReverseConnector; with no listener the first one is logged and later ones are not (a handler that
// always throws must not flood the log). The cid is the proxy's text: bounded and escaped first.
import type { EventEmitter } from 'node:events';
import { quotedPeerText } from '../protocol/peer-text.js';

export type HandlerErrorWriter = (line: string, err: unknown) => void;

export class HandlerErrorLog {
  readonly #owner: EventEmitter;
  readonly #prefix: string;
  readonly #write: HandlerErrorWriter;
  #logged = false;

  /** `prefix` starts the log line, e.g. `[zap agent waf]`. */
  constructor(owner: EventEmitter, prefix: string, write: HandlerErrorWriter = (line, err) => console.error(line, err)) {
    this.#owner = owner;
    this.#prefix = prefix;
    this.#write = write;
  }

  report(err: unknown, correlationId: string): void {
    if (this.#owner.listenerCount('handlerError') > 0) {
      this.#owner.emit('handlerError', err, correlationId);
    } else if (!this.#logged) {
      this.#logged = true;
      this.#write(
        `${this.#prefix} handler failed for ${quotedPeerText(correlationId)}; answered Block 500 "Agent ` +
          `error" (later failures are not logged):`,
        err,
      );
    }
  }
}
