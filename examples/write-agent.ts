// README "Writing an agent": reply builders and runAgent(). test/examples-readme.test.ts runs it with --help;
// examples/agent-runner.ts is the fuller agent that CI drives through a pool.
//   node --import tsx examples/write-agent.ts --listen unix:/tmp/my-waf.sock
// readme:start
import { allow, block, redirect, runAgent, type AgentHandler } from '../src/index.js';

const handler: AgentHandler = {
  onRequestHeaders(event) {
    if (event.uri.includes('<script')) {
      return block(403).withBody('Forbidden').withRuleId('941100').withTag('xss').withConfidence(1);
    }
    if (event.uri === '/old-login') return redirect('/login', 301);
    return allow().setRequestHeader('x-checked', 'yes').removeRequestHeader('x-internal').addResponseHeader('x-waf', 'on');
  },
  onRequestBodyChunk(chunk) {
    const text = Buffer.from(chunk.data).toString('utf8');
    if (!text.includes('password=')) return allow();
    return allow().withRequestBodyMutation(text.replace(/password=[^&]*/g, 'password=***'), chunk.chunkIndex);
  },
};

await runAgent({ agentId: 'my-waf', handler }); // node my-waf.js --listen unix:/run/zentinel/my-waf.sock
// readme:end
