// The request headers phase (spec §10.2) of a plain request and of a WebSocket upgrade alike:
// RequestHeaders to every subscriber of the route in parallel, read in configured order. The first
// non-allow wins; the calls after it still outstanding are cancelled (blocked_by_agent).
import type { SendOptions } from '../pool/agent-pool.js';
import type { Decision, HeaderOp, RequestHeadersEvent } from '../protocol/types.js';
import { callAgent } from './agent-call.js';
import type { EngineLog, EnginePool } from './engine-types.js';
import { writableHeaderOps } from './header-guard.js';
import { agentsFor, type HttpRoute, type RouteAgent } from './route.js';

export interface HeadersPhaseContext {
  pool: EnginePool;
  route: HttpRoute;
  cid: string;
  /** Options of each call, given the agent's timeout (the request's signal, its cancel reason). */
  options: (timeoutMs: number) => SendOptions;
  log: EngineLog;
}

/** The header ops of every agent in order, or the decision that stops the request. */
export async function requestHeadersPhase(
  ctx: HeadersPhaseContext,
  event: RequestHeadersEvent,
): Promise<{ request: HeaderOp[]; response: HeaderOp[] } | Decision> {
  const { pool, cid, log } = ctx;
  const agents = agentsFor(ctx.route, 'request_headers');
  const calls = agents.map((agent) => callAgent(agent, () => pool.sendRequestHeaders(agent.id, cid, event, ctx.options(agent.timeoutMs))));
  // Read in configured order: a non-allow returns at once, and the later calls' outcomes are moot.
  const settled = new Set<number>();
  calls.forEach((call, i) => void call.then(() => settled.add(i)).catch(() => {}));
  const stop = (at: number, decision: Decision): Decision => {
    for (let j = at + 1; j < agents.length; j++) {
      if (!settled.has(j)) pool.cancelRequest((agents[j] as RouteAgent).id, cid, 'blocked_by_agent');
    }
    return decision;
  };
  const ops = { request: [] as HeaderOp[], response: [] as HeaderOp[] };
  for (const [i, call] of calls.entries()) {
    const outcome = await call;
    if (outcome.kind === 'failed') return stop(i, outcome.decision);
    if (outcome.kind === 'skipped') {
      log('warn', `${cid}: agent ${agents[i]?.id}: ${outcome.error.code} on request headers, skipped (fail-open)`);
      continue;
    }
    const reply = outcome.response;
    if (reply.decision.type !== 'allow') return stop(i, reply.decision);
    const warn = (message: string): void => log('warn', `${cid}: agent ${agents[i]?.id}: ${message}`);
    ops.request.push(...writableHeaderOps(reply.requestHeaders, warn));
    ops.response.push(...writableHeaderOps(reply.responseHeaders, warn));
  }
  return ops;
}
