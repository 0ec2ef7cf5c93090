// README "Decisions and errors": the redirect and challenge shapes as the pool returns them, what
// failClosedResponse(err) gives, and error handling by err.code.
// Runs on its own: node --import tsx examples/embedding-decisions.ts
import { startLocalAgent } from './local-agent.js';
import { requestHeadersEvent } from './request-event.js';

const stopAgent = await startLocalAgent();
// readme:start
import { AgentPool, AgentPoolError, ErrorCode, failClosedResponse, type AgentResponse, type RequestHeadersEvent } from '../src/index.js';

// What a proxy sends the client for each decision. The pool returns them as:
//   { type: 'allow' }
//   { type: 'block', status: 403, body: 'Forbidden' | null, headers: { 'content-type': … } | null }
//   { type: 'redirect', url: '/new', status: 301 }
//   { type: 'challenge', challengeType: 'captcha', params: { site_key: 'k1' } }
interface ClientResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function clientResponse(reply: AgentResponse): ClientResponse | null {
  const d = reply.decision;
  switch (d.type) {
    case 'allow':
      return null; // forward upstream
    case 'block':
      return { status: d.status, headers: d.headers ?? {}, body: d.body ?? '' };
    case 'redirect':
      return { status: d.status, headers: { location: d.url }, body: '' };
    case 'challenge':
      // The protocol leaves rendering to the proxy: here, a 403 naming the challenge and its parameters.
      return { status: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify(d) };
  }
}

// With failureMode 'closed' a call rejects with a typed error. failClosedResponse(err) is the block a proxy
// would send: 504 'Gateway timeout' for ZAP_TIMEOUT, 413 'Payload too large' for ZAP_FRAME_TOO_LARGE, and
// 503 'Service unavailable' for anything else, with synthetic: true.
async function consult(pool: AgentPool, event: RequestHeadersEvent): Promise<ClientResponse | null> {
  const cid = event.metadata.correlationId;
  try {
    return clientResponse(await pool.sendRequestHeaders('waf', cid, event));
  } catch (err) {
    if (!(err instanceof AgentPoolError)) throw err; // a bug of ours, not the agent's
    switch (err.code) {
      case ErrorCode.InvalidArgument:
        throw err; // the event was malformed: nothing was sent, fix the caller
      case ErrorCode.NotFound:
        return null; // no such agent configured for this route: skip it
      default:
        // ZAP_TIMEOUT, ZAP_NO_HEALTHY_CONNECTION, ZAP_CIRCUIT_OPEN, …: the agent is unavailable.
        console.warn(`${err.code}: ${err.message}`);
        return clientResponse(failClosedResponse(err));
    }
  } finally {
    pool.endRequest(cid);
  }
}
// readme:end

const pool = new AgentPool({ workers: 0, connectionsPerAgent: 1, reconnectInitialBackoffMs: 10 });
try {
  await pool.addAgent('waf', process.env.WAF_ENDPOINT ?? '', { requireReady: true });
  console.log(`redirect ${JSON.stringify(await consult(pool, requestHeadersEvent('r1', '/old')))}`);
  console.log(`challenge ${JSON.stringify(await consult(pool, requestHeadersEvent('r2', '/suspicious')))}`);
  console.log(`allow ${JSON.stringify(await consult(pool, requestHeadersEvent('r3', '/')))}`);
  await stopAgent(); // the agent goes away: the next call fails closed
  console.log(`unavailable ${JSON.stringify(await consult(pool, requestHeadersEvent('r4', '/')))}`);
  console.log(`timeout ${JSON.stringify(clientResponse(failClosedResponse(new AgentPoolError(ErrorCode.Timeout, 'slow'))))}`);
} finally {
  await pool.close();
}
