// Example agent "echo": allows everything and tells the upstream what it saw; in the response
// phase it tells the client which status the upstream answered.
import type { AgentHandler } from '../handler.js';
import { allow } from '../reply.js';

export default function createHandler(_options?: unknown): AgentHandler {
  return {
    onRequestHeaders(e) {
      return allow().setRequestHeader('x-agent-echo', `${e.method} ${e.uri}`);
    },
    onResponseHeaders(e) {
      return allow().setResponseHeader('x-agent-echo-status', String(e.status));
    },
  };
}
