// Handler module for thread-pool tests. '/slow' waits until a '/release' request arrives in the same
// worker; '/release' answers only after '/slow' has returned, so the slow result always reaches
// the main thread first. '/throw' throws. Anything else echoes the options back in a header.
import type { AgentHandler } from '../../src/agent/handler.js';
import { block } from '../../src/agent/reply.js';

export default function createHandler(options: unknown): AgentHandler {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  let slowDone: Promise<unknown> = Promise.resolve();
  return {
    onRequestHeaders(e) {
      if (e.uri === '/slow') {
        slowDone = gate.then(() => block(418, 'too late'));
        return slowDone as Promise<ReturnType<typeof block>>;
      }
      if (e.uri === '/release') {
        open();
        return slowDone.then(() => ({ routingMetadata: { released: 'yes' } }));
      }
      if (e.uri === '/throw') throw new Error('thrown in a worker');
      return { requestHeaders: [{ op: 'set', name: 'x-options', value: JSON.stringify(options) }] };
    },
  };
}
