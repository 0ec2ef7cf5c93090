// A real agent process for the pool model and soak tests (started with child_process.fork; tsx
// comes with the inherited execArgv). Usage: model-agent-process <socket path> <tag> [slow ms].
// Every request-headers event is reported to the parent over IPC ({ seen: cid }) before it is
// answered, so the parent can count what reached the agent; the reply echoes the cid and the tag.
// uri '/slow' answers after [slow ms] (default 500), or as soon as the proxy cancels it.
// IPC { count: true } → { counts: { seen, cancelled, inFlight, connections } } (soak test).
import { AgentServer } from '../../src/agent/agent-server.js';

const [path, tag = 'agent', slowArg = '500'] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: model-agent-process <socket path> <tag> [slow ms]');
const slowMs = Number(slowArg);
const report = process.argv.includes('--no-ipc-seen') ? () => {} : (cid: string) => process.send?.({ seen: cid });
let seen = 0;
let cancelled = 0;
let inFlight = 0;

const server = new AgentServer({
  agentId: tag,
  handler: {
    async onRequestHeaders(e, ctx) {
      const cid = e.metadata.correlationId;
      seen++;
      report(cid);
      if (e.uri === '/slow') {
        inFlight++;
        try {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, slowMs);
            ctx.signal.addEventListener('abort', () => {
              cancelled++;
              clearTimeout(timer);
              resolve();
            });
          });
        } finally {
          inFlight--;
        }
      }
      return { routingMetadata: { cid, agent: tag } };
    },
  },
});

process.on('message', (msg: { count?: boolean }) => {
  if (msg.count === true) process.send?.({ counts: { seen, cancelled, inFlight, connections: server.connections } });
});
// The parent going away ends us too (no orphans when a test run is interrupted).
process.on('disconnect', () => process.exit(0));
await server.listen(path);
process.stdout.write('listening\n');
