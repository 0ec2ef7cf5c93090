// Child process for reverse-connection tests: a ReverseConnector serving a small handler.
// argv: <endpoint> <agentId> <connections> [<registration token>]. Prints `registered <n>` per registration and
// `got <n>` for every request whose URI starts with /hang (those never get an answer).
import { ReverseConnector } from '../../src/agent/reverse-connector.js';

const [endpoint, agentId, connections, token] = process.argv.slice(2) as [string, string, string, string | undefined];
let hanging = 0;
let registered = 0;
const connector = new ReverseConnector({
  endpoint,
  agentId,
  connections: Number(connections),
  ...(token === undefined ? {} : { authToken: token }),
  backoff: { initialMs: 20, maxMs: 200 },
  handler: {
    onRequestHeaders(e) {
      if (e.uri.startsWith('/hang')) {
        process.stdout.write(`got ${++hanging}\n`);
        return new Promise(() => {});
      }
      return { requestHeaders: [{ op: 'set', name: 'x-pid', value: String(process.pid) }] };
    },
  },
});
connector.on('registered', () => process.stdout.write(`registered ${++registered}\n`));
await connector.start();
process.once('SIGTERM', () => void connector.close().then(() => process.exit(0)));
