// Runs handler calls on a piscina thread pool (AgentServer({ threads })). Each worker imports the
// handler module once and builds its handler with the given options; events go over as structured
// clones, body bytes as transferred copies.
//
// Cancellation cannot cross threads: an AbortSignal is not transferable, and piscina's own abort
// terminates the worker. So in threads mode a Cancel only drops the reply on the connection; the
// handler's ctx.signal never fires and onCancel is not called.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { AnyEvent, EventKind } from '../protocol/types.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { AgentTransport, HandlerContext, Reply } from './handler.js';
import { moduleHref } from './module-href.js';

export interface ThreadsOptions {
  /** Module whose default export is `createHandler(options): AgentHandler`; a path or file URL. */
  module: string | URL;
  /** Number of worker threads (> 0). */
  count: number;
  /** Passed to createHandler in every worker; must survive structured clone. */
  options?: unknown;
  /** Tasks one worker runs at once (default 8), so handlers that await I/O overlap. */
  concurrentTasksPerWorker?: number;
}

/** What crosses to the worker per event. */
export interface HandlerTask {
  kind: EventKind;
  event: AnyEvent;
  correlationId: string;
  agentId: string;
  transport: AgentTransport;
}

/** Sent once to the worker thread at start-up (piscina workerData). */
export interface HandlerWorkerData {
  moduleHref: string;
  options: unknown;
}

/** A task with this kind only loads the handler (start-up check); it is not an event. */
export const LOAD_TASK_KIND = '__load__';

// Keep the worker's extension equal to ours: .ts under tsx, .js from dist.
const WORKER_FILE = new URL(`../../workers/agent-handler${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/** The bytes of a body chunk or WebSocket frame event. */
function eventBytes(event: AnyEvent): Uint8Array | undefined {
  const data = (event as { data?: unknown }).data;
  return data instanceof Uint8Array ? data : undefined;
}

export class HandlerPool {
  readonly #piscina: Piscina<HandlerTask | { kind: typeof LOAD_TASK_KIND }, Reply | void>;

  constructor(o: ThreadsOptions) {
    if (!Number.isInteger(o.count) || o.count < 1) {
      throw zapError(ErrorCode.InvalidConfig, `threads.count must be a positive integer, got ${String(o.count)}`);
    }
    const workerData: HandlerWorkerData = { moduleHref: moduleHref(o.module), options: o.options ?? null };
    this.#piscina = new Piscina({
      filename: WORKER_FILE.href,
      minThreads: o.count,
      maxThreads: o.count,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: o.concurrentTasksPerWorker ?? 8,
      // 'async' keeps the worker's event loop alive between tasks (timers of the handler module).
      atomics: 'async',
      workerData,
    });
  }

  /** Loads the handler module in a worker; rejects when the module or its factory fails. */
  async load(): Promise<void> {
    await this.#piscina.run({ kind: LOAD_TASK_KIND });
  }

  /** Runs one handler call on a worker. `ctx.signal` does not travel (see the file comment). */
  run(kind: EventKind, event: AnyEvent, ctx: HandlerContext): Promise<Reply | void> {
    const bytes = eventBytes(event);
    // An exact-size copy owns its whole ArrayBuffer, so transferring it moves only these bytes
    // (cloning a Buffer view would copy its entire backing pool slab).
    const copy = bytes === undefined ? undefined : new Uint8Array(bytes);
    const task: HandlerTask = {
      kind,
      event: copy === undefined ? event : ({ ...event, data: copy } as AnyEvent),
      correlationId: ctx.correlationId,
      agentId: ctx.agentId,
      transport: ctx.transport,
    };
    return copy === undefined ? this.#piscina.run(task) : this.#piscina.run(task, { transferList: [copy.buffer] });
  }

  async destroy(): Promise<void> {
    await this.#piscina.destroy();
  }
}
