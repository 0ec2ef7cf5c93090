// A child-process agent that holds every RequestHeaders event until its parent says so: the
// memory scenario keeps N requests in flight at the pool with it. Control over the fork IPC
// channel: {op:'count'} → {op:'count', held}; {op:'release'} answers every held event (Allow)
// → {op:'released', count}. Run: fork('bench/hanging-agent.(ts|js)', [socketPath]).
// Prints "listening on unix:<path>" once bound; exits on SIGTERM / SIGINT / parent disconnect.
import { AgentServer } from '../src/agent/agent-server.js';

const path = process.argv[2];
if (path === undefined || process.send === undefined) {
  process.stderr.write('usage: fork(hanging-agent, [socketPath]) with an IPC channel\n');
  process.exit(2);
}

let held: Array<() => void> = [];
const server = new AgentServer({
  agentId: 'hold',
  encoding: 'json',
  handler: {
    onRequestHeaders: () => new Promise<void>((resolve) => held.push(resolve)),
  },
});

process.on('message', (m: { op?: string }) => {
  if (m.op === 'count') {
    process.send?.({ op: 'count', held: held.length });
  } else if (m.op === 'release') {
    const releasing = held;
    held = [];
    for (const resolve of releasing) resolve();
    process.send?.({ op: 'released', count: releasing.length });
  }
});

const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.once('disconnect', stop);

const bound = await server.listen(path);
process.stdout.write(`zap bench hanging agent listening on ${bound}\n`);
