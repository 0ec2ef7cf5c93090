// A real agent process serving gRPC on a free loopback port; its request-headers handler never
// answers. Prints "listening <endpoint>" when ready and "got N" every 100 events.
import { AgentServer } from '../../src/agent/agent-server.js';

let got = 0;
const server = new AgentServer({
  agentId: 'grpc-hanging',
  handler: {
    onRequestHeaders: () => {
      got++;
      if (got % 100 === 0) process.stdout.write(`got ${got}\n`);
      return new Promise(() => {});
    },
  },
});
const endpoint = await server.listen('127.0.0.1:0');
process.stdout.write(`listening ${endpoint}\n`);
