// README "Embedding: the proxy side": the pool, one request, error handling and shutdown.
// Runs on its own against a local agent: node --import tsx examples/embedding-pool.ts
import { startLocalAgent } from './local-agent.js';

const stopAgent = await startLocalAgent();
// readme:start
import { AgentPool, AgentPoolError } from '../src/index.js';

const pool = new AgentPool({ workers: 2, requestTimeoutMs: 5_000 });
await pool.addAgent('waf', process.env.WAF_ENDPOINT ?? 'unix:/run/zentinel/waf.sock', { connectionsPerAgent: 4 });

const cid = 'req-7';
try {
  const reply = await pool.sendRequestHeaders(
    'waf',
    cid,
    {
      metadata: {
        correlationId: cid,
        requestId: cid,
        clientIp: '192.0.2.10',
        clientPort: 51514,
        serverName: 'shop.example',
        protocol: 'HTTP/1.1',
        tlsVersion: null,
        tlsCipher: null,
        routeId: 'checkout',
        upstreamId: null,
        timestamp: new Date().toISOString(),
      },
      method: 'POST',
      uri: '/cart?step=2',
      headers: { host: ['shop.example'], 'content-type': ['application/json'] },
    },
    { timeoutMs: 250, signal: AbortSignal.timeout(1_000) },
  );

  if (reply.decision.type === 'block') {
    // respond with reply.decision.status / body / headers
  }
  // apply reply.requestHeaders to the upstream request (applyHeaderOps), reply.responseHeaders later
  console.log(JSON.stringify(reply.decision), JSON.stringify(reply.requestHeaders));
} catch (err) {
  if (err instanceof AgentPoolError) {
    // err.code: 'ZAP_TIMEOUT', 'ZAP_NO_HEALTHY_CONNECTION', …; apply the agent's failure mode
  }
} finally {
  pool.endRequest(cid);
}

await pool.close(); // drain in-flight calls (drainTimeoutMs), then cancel the rest with ProxyShutdown
// readme:end
await stopAgent();
