// Setup shared by the runnable README examples: an agent on a Unix socket under the OS temp dir, so that
// each example runs on its own (`node --import tsx examples/<name>.ts`) with no proxy or agent around.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentServer, allow, block, challenge, redirect, type AgentHandler } from '../src/index.js';

const handler: AgentHandler = {
  onRequestHeaders(event) {
    if (event.uri === '/old') return redirect('/new', 301);
    if (event.uri === '/suspicious') return challenge('captcha', { site_key: 'k1' });
    if (event.uri.includes('<script')) return block(403).withBody('Forbidden');
    return allow().setRequestHeader('x-checked', 'yes').removeRequestHeader('x-internal');
  },
  onRequestBodyChunk(chunk) {
    // Provisional until the last chunk: the proxy keeps sending body.
    return chunk.isLast ? allow().withTag(`bytes:${chunk.bytesReceived}`) : allow().needsMoreData();
  },
};

/** Starts the example agent; sets `WAF_ENDPOINT` for the snippet and returns a stop function. */
export async function startLocalAgent(): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'zap-example-'));
  const server = new AgentServer({ agentId: 'waf', handler });
  process.env.WAF_ENDPOINT = await server.listen(`unix:${join(dir, 'waf.sock')}`);
  return async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
}
