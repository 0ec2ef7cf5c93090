// Example agent "echo": allows everything and tells the upstream what it saw.
import type { AgentHandler } from '../handler.js';

export default function createHandler(_options?: unknown): AgentHandler {
  return {
    onRequestHeaders(e) {
      return { requestHeaders: [{ op: 'set', name: 'x-agent-echo', value: `${e.method} ${e.uri}` }] };
    },
  };
}
