// The WebSocket test agent PROCESS (run with child_process.fork; tsx comes through execArgv): an
// AgentServer whose frame handler drops frames containing "drop", closes on "close" (4001), holds
// "slow" frames until cancelled (at most 5 s), and allows the rest. A frame starting "second:" is
// allowed the first time it is asked about and judged the second time (the second agent of a
// chain). Request headers are blocked (403) under /blocked, challenged as rate-limited under /limited,
// else allowed with `x-ws-checked: yes`. It reports every frame, every Cancel and every
// RequestComplete to the parent over IPC. argv: <unix socket path>.
import { AgentServer, allow, block, challenge } from '../../src/index.js';

const [path] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: websocket-agent <socket path>');
const report = (message: unknown) => process.send?.(message);
const seen = new Map<string, number>();

const server = new AgentServer({
  agentId: 'ws-guard',
  handler: {
    onRequestHeaders(e) {
      if (e.uri.startsWith('/blocked')) return block(403, 'no websockets here');
      if (e.uri.startsWith('/limited')) return challenge('rate_limit', { retry_after: '1' });
      return allow().setRequestHeader('x-ws-checked', 'yes');
    },
    async onWebSocketFrame(e, ctx) {
      const text = Buffer.from(e.data).toString();
      const key = `${e.correlationId}/${e.clientToServer}/${e.frameIndex}`;
      const sightings = (seen.get(key) ?? 0) + 1;
      seen.set(key, sightings);
      if (seen.size > 10_000) seen.clear();
      report({ op: 'frame', clientToServer: e.clientToServer, frameIndex: e.frameIndex, opcode: e.opcode, text, cid: e.correlationId });
      if (text.startsWith('second:') && sightings === 1) return allow();
      if (text.includes('drop')) return allow().withWebSocketDecision({ type: 'drop' });
      if (text.includes('close')) return allow().withWebSocketDecision({ type: 'close', code: 4001, reason: 'closed by agent' });
      if (text.includes('slow')) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
      return allow();
    },
    onRequestComplete(e) {
      report({ op: 'complete', cid: e.correlationId, status: e.status, error: e.error });
    },
    onCancel(c) {
      report({ op: 'cancel', reason: c.reason, cid: c.correlationId });
    },
  },
});
await server.listen(`unix:${path}`);
report({ op: 'listening' });
process.on('disconnect', () => void server.close().then(() => process.exit(0)));
