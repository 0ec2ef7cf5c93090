// A real agent process whose request-headers handler never answers; prints "listening" when
// ready and "got N" as events arrive. Used to kill an agent with requests in flight.
import { AgentServer } from '../../src/agent/agent-server.js';

const path = process.argv[2];
if (path === undefined) throw new Error('usage: hanging-agent <socket path>');
let got = 0;
const server = new AgentServer({
  agentId: 'hanging',
  handler: {
    onRequestHeaders: () => {
      got++;
      if (got % 100 === 0) process.stdout.write(`got ${got}\n`);
      return new Promise(() => {});
    },
  },
});
await server.listen(path);
process.stdout.write('listening\n');
