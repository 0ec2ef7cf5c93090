// Test helpers for the gRPC transport: our AgentServer on a free loopback port, closed after the file.
import { after } from 'node:test';
import { AgentServer, type AgentServerOptions } from '../../src/agent/agent-server.js';
import type { AgentHandler } from '../../src/agent/handler.js';

/** `handler` null: give `threads` in `extra` instead. */
export async function startGrpcAgent(
  handler: AgentHandler | null,
  extra: Partial<AgentServerOptions> = {},
  listen = '127.0.0.1:0',
): Promise<{ endpoint: string; server: AgentServer }> {
  const server = new AgentServer({ agentId: 'grpc-agent', ...(handler === null ? {} : { handler }), ...extra });
  const endpoint = await server.listen(listen);
  after(() => server.close());
  return { endpoint, server };
}

export { waitFor } from './wait-for.js';
