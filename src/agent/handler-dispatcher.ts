// Where an agent's decoded events go, for AgentServer and ReverseConnector alike: an in-thread
// handler, a handler module imported in-thread (threads.count 0), or a piscina pool of handler threads.
import type { EventDispatcher } from './event-runner.js';
import { dispatchEvent, handlerFactoryOf, type AgentHandler } from './handler.js';
import type { HandlerPool, ThreadsOptions } from './handler-pool.js';
import { moduleHref } from './module-href.js';

export interface BuiltDispatcher {
  dispatcher: EventDispatcher;
  /** Set in threads mode; destroy it when done. */
  pool?: HandlerPool;
}

function inThread(handler: AgentHandler): EventDispatcher {
  return {
    dispatch: (kind, event, ctx) => dispatchEvent(handler, kind, event, ctx),
    cancel: (c) => handler.onCancel?.(c),
  };
}

/** With neither a handler nor threads every event is allowed. */
export async function buildDispatcher(handler: AgentHandler | undefined, threads: ThreadsOptions | undefined): Promise<BuiltDispatcher> {
  if (threads === undefined) return { dispatcher: inThread(handler ?? {}) };
  if (threads.count === 0) {
    const href = moduleHref(threads.module);
    const mod = (await import(href)) as Record<string, unknown>;
    return { dispatcher: inThread(await handlerFactoryOf(mod, href)(threads.options ?? null)) };
  }
  // piscina loads only when an agent asks for handler threads.
  const { HandlerPool } = await import('./handler-pool.js');
  const pool = new HandlerPool(threads);
  try {
    await pool.load();
  } catch (err) {
    await pool.destroy();
    throw err;
  }
  return { dispatcher: { dispatch: (kind, event, ctx) => pool.run(kind, event, ctx) }, pool };
}
