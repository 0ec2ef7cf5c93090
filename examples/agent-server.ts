// README "With AgentServer directly". Type-checked by `npm run typecheck`; not run by CI, since it listens
// where a deployment would (examples/local-agent.ts runs the same calls on a temp socket).
import { allow, type AgentHandler } from '../src/index.js';

const handler: AgentHandler = { onRequestHeaders: () => allow() };
// readme:start
import { AgentServer } from '../src/index.js';

const server = new AgentServer({ agentId: 'my-waf', encoding: 'prefer-msgpack', handler });
await server.listen('unix:/run/zentinel/my-waf.sock');
// readme:end
