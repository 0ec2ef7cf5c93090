// A small agent written with zap's reply builders and runner: runAgent() gives it the flags of
// `zap agent` (--listen, --reverse, --id, --token, --threads, limits, --log-level, --help) and a drain
// on SIGTERM/SIGINT. test/example-agent-runner.test.ts runs this file as a child process.
//
//   node --import tsx examples/agent-runner.ts --listen unix:/tmp/guard.sock
//   node --import tsx examples/agent-runner.ts --listen 127.0.0.1:50051            # gRPC
//   node --import tsx examples/agent-runner.ts --reverse tcp://proxy:9090 --id guard-1 --token t1
import { allow, block, redirect, runAgent, type AgentHandler } from '../src/index.js';

// Builders never change once made, so a reply can be built once and extended per request.
const ADMIN_DENIED = block(403).withBody('Forbidden').withTag('admin-path').withRuleId('guard-001');
const MISSING_KEY = block(401)
  .withJsonBody({ error: 'missing x-api-key' })
  .withBlockHeader('www-authenticate', 'ApiKey')
  .withReasonCode('NO_API_KEY');

const handler: AgentHandler = {
  onRequestHeaders(event) {
    if (event.uri.startsWith('/admin')) return ADMIN_DENIED.withAuditField('client_ip', event.metadata.clientIp);
    if (event.uri === '/old-login') return redirect('/login', 301);
    const apiKey = event.headers['x-api-key']?.[0];
    if (apiKey === undefined) return MISSING_KEY;
    return allow()
      .setRequestHeader('x-tenant', apiKey.split('.')[0] ?? '')
      .removeRequestHeader('x-api-key')
      .addResponseHeader('x-guarded-by', 'guard')
      .withConfidence(1);
  },
  onRequestBodyChunk(chunk) {
    // Request bodies are replaced as UTF-8 text: redact passwords in form posts.
    const text = Buffer.from(chunk.data).toString('utf8');
    if (!text.includes('password=')) return allow();
    return allow()
      .withRequestBodyMutation(text.replace(/password=[^&]*/g, 'password=***'), chunk.chunkIndex)
      .withTag('redacted');
  },
};

await runAgent({ agentId: 'guard', handler, description: 'guard: an example agent (API keys, admin paths, password redaction)' });
