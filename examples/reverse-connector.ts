// README "An agent behind NAT dials the proxy". Type-checked by `npm run typecheck`; not run by CI, since it
// dials a proxy host (test/reverse-*.test.ts cover the connector against a real listener).
import { allow, type AgentHandler } from '../src/index.js';

const handler: AgentHandler = { onRequestHeaders: () => allow() };
// readme:start
import { ReverseConnector } from '../src/index.js';
const connector = new ReverseConnector({
  endpoint: 'tcp://proxy.internal:9090',
  agentId: 'edge-1',
  authToken: 't1',
  connections: 2,
  handler,
});
await connector.start(); // registers, serves events, reconnects with backoff (1 s doubling to 60 s, jittered);
// stops for good on a permanent refusal ('refused' / 'failed' events say why)
// readme:end
