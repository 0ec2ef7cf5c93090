// Public API of `zentinel-agent-zap/http`: the HTTP lifecycle engine, its helpers and adapters. Re-exports only.
export { createHttpEngine } from './http/engine.js';
export type { HttpEngine, HttpEngineOptions, EnginePool, RouteResolver, RequestOutcome, EngineLog } from './http/engine-types.js';
export { routeAgent, agentsFor, ROUTE_AGENT_DEFAULTS, type HttpRoute, type RouteAgent, type BodyModeSetting } from './http/route.js';
export { createUpstream, upstreamOrigin, type HttpUpstream, type HttpUpstreamOptions } from './http/upstream.js';
export { headerMapOf, nodeHeadersOf, withoutHopByHop, withForwarded, type ForwardedFacts } from './http/node-headers.js';
export { requestHeadersEvent, type RequestEventOptions } from './http/request-event.js';
export { renderDecision, challengeBody, challengeStatus, type ChallengeFormat, type RenderOptions } from './http/render-decision.js';
export { createHttpHandler } from './http/node-handler.js';
export { zapMiddleware, type NextFunction } from './http/express-middleware.js';
export { zapFastify, type FastifyLike } from './http/fastify-plugin.js';
export type { WebSocketRelayContext } from './http/websocket-relay.js';
