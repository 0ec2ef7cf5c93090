// piscina worker entry for AgentServer({ threads }): imports the handler module named in workerData
// once per thread, then runs one handler call per task and returns the handler's Reply as is (the
// main thread fills defaults, so decisions are identical to in-thread mode).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { dispatchEvent, handlerFactoryOf, type AgentHandler, type HandlerContext, type Reply } from '../src/agent/handler.js';
import { LOAD_TASK_KIND, type HandlerTask, type HandlerWorkerData } from '../src/agent/handler-pool.js';

const data = Piscina.workerData as HandlerWorkerData;

// Cancellation does not cross threads (see handler-pool.ts): this signal never fires.
const NEVER_ABORTED = new AbortController().signal;

let handler: AgentHandler | undefined;
let loading: Promise<AgentHandler> | undefined;

async function importModule(href: string): Promise<Record<string, unknown>> {
  try {
    return (await import(href)) as Record<string, unknown>;
  } catch (err) {
    // Node 20 runs no ESM loader hooks (tsx) in worker threads, but tsx's require hook works there:
    // only matters when running the TypeScript sources, never from dist.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
    return createRequire(href)(fileURLToPath(href)) as Record<string, unknown>;
  }
}

async function load(): Promise<AgentHandler> {
  const mod = await importModule(data.moduleHref);
  handler = await handlerFactoryOf(mod, data.moduleHref)(data.options);
  return handler;
}

export default async function runHandlerTask(task: HandlerTask | { kind: typeof LOAD_TASK_KIND }): Promise<Reply | void> {
  const h = handler ?? (await (loading ??= load()));
  if (task.kind === LOAD_TASK_KIND) return undefined;
  const t = task as HandlerTask;
  const event = t.event as { data?: Uint8Array };
  // Transferred bytes arrive as a plain Uint8Array; give handlers the Buffer they get in-thread.
  if (event.data !== undefined && !Buffer.isBuffer(event.data)) {
    event.data = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength);
  }
  const ctx: HandlerContext = {
    correlationId: t.correlationId,
    agentId: t.agentId,
    transport: t.transport,
    signal: NEVER_ABORTED,
  };
  return dispatchEvent(h, t.kind, t.event, ctx);
}
