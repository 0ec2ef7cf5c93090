// `zap agent --listen <endpoint>`: runs an example agent until SIGINT/SIGTERM, then closes its
// listener (removing the socket file) and exits 0. `zap agent --reverse <proxy-endpoint>` dials a
// proxy's reverse listener instead and registers (spec §9), keeping `--connections` connections.
import { parseArgs } from 'node:util';
import { AgentServer, type AgentServerOptions } from '../agent/agent-server.js';
import { ReverseConnector } from '../agent/reverse-connector.js';
import { createExampleHandler, EXAMPLES, type ExampleName } from '../agent/examples/index.js';
import { peerText } from '../protocol/peer-text.js';
import type { EncodingSetting } from '../protocol/types.js';
import { UsageError } from './cli-error.js';

export const AGENT_USAGE =
  'zap agent --listen <unix:/path|/path|*.sock|grpc://host:port|https://host:port|host:port> [--example echo|waf|auth] [--id ID] [--token T] ' +
  '[--threads N] [--encoding json|msgpack|prefer-msgpack] [--tls-cert PEM --tls-key PEM [--tls-ca PEM]]\n' +
  '       [--max-connections N (1024)] [--handshake-timeout-ms MS (10000)] [--frame-timeout-ms MS (30000)] [--socket-mode OCTAL (600)]\n' +
  '       zap agent --reverse <unix:/path|tcp://host:port|tls://host:port> --id ID [--token T] [--connections N] ' +
  '[--example echo|waf|auth] [--threads N]   (--token is also the registration token)';

export async function runAgent(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string' },
      reverse: { type: 'string' },
      connections: { type: 'string', default: '1' },
      example: { type: 'string', default: 'echo' },
      id: { type: 'string' },
      token: { type: 'string' },
      threads: { type: 'string', default: '0' },
      encoding: { type: 'string', default: 'prefer-msgpack' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-ca': { type: 'string' },
      'max-connections': { type: 'string' },
      'handshake-timeout-ms': { type: 'string' },
      'frame-timeout-ms': { type: 'string' },
      'socket-mode': { type: 'string' },
    },
  });
  if ((values.listen === undefined) === (values.reverse === undefined)) throw new UsageError(`give --listen or --reverse\n${AGENT_USAGE}`);
  const name = values.example as ExampleName;
  if (!(name in EXAMPLES)) throw new UsageError(`unknown --example '${values.example}'\n${AGENT_USAGE}`);
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 0) throw new UsageError('--threads must be a non-negative integer');
  const encoding = values.encoding as EncodingSetting;
  if (!['json', 'msgpack', 'prefer-msgpack'].includes(encoding)) throw new UsageError(`unknown --encoding '${encoding}'`);
  if (name === 'auth' && values.token === undefined) throw new UsageError('--example auth needs --token');

  const limits = limitFlags(values);
  if (values.reverse !== undefined && Object.keys(limits).length > 0) {
    throw new UsageError('--max-connections, --handshake-timeout-ms, --frame-timeout-ms and --socket-mode apply to --listen only');
  }
  const exampleOptions = values.token === undefined ? {} : { token: values.token };
  const options: AgentServerOptions = {
    agentId: values.id ?? name,
    encoding,
    ...limits,
    ...(threads > 0
      ? { threads: { module: EXAMPLES[name], count: threads, options: exampleOptions } }
      : { handler: createExampleHandler(name, exampleOptions) }),
  };
  if (values.reverse !== undefined) return runReverse(values.reverse, options, values.id, values.token, values.connections, name);
  const listen = values.listen as string;
  // gRPC TLS (files): the agent's certificate and key; with --tls-ca, proxies need client certificates.
  const [cert, key, ca] = [values['tls-cert'], values['tls-key'], values['tls-ca']];
  if ((cert === undefined) !== (key === undefined) || (ca !== undefined && cert === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together (--tls-ca needs them)');
  }
  if (cert !== undefined && key !== undefined) options.tls = { cert, key, ...(ca === undefined ? {} : { ca }) };
  const server = new AgentServer(options);
  // The bound endpoint: for gRPC with port 0, the real port.
  const bound = await server.listen(listen);
  // Signal handlers go in before the ready line: a supervisor may signal as soon as it reads it.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write(`zap agent '${options.agentId}' (${name}) listening on ${bound}\n`);
  await stopped;
  await server.close();
  return 0;
}

/** The server-limit flags given, as AgentServerOptions (defaults are the server's own). */
function limitFlags(values: Record<string, string | boolean | undefined>): Partial<AgentServerOptions> {
  const out: Partial<AgentServerOptions> = {};
  const integer = (flag: string): number | undefined => {
    const text = values[flag];
    if (typeof text !== 'string') return undefined;
    if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new UsageError(`--${flag} must be a positive integer`);
    return Number(text);
  };
  const maxConnections = integer('max-connections');
  const handshakeTimeoutMs = integer('handshake-timeout-ms');
  const frameTimeoutMs = integer('frame-timeout-ms');
  if (maxConnections !== undefined) out.maxConnections = maxConnections;
  if (handshakeTimeoutMs !== undefined) out.handshakeTimeoutMs = handshakeTimeoutMs;
  if (frameTimeoutMs !== undefined) out.frameTimeoutMs = frameTimeoutMs;
  const mode = values['socket-mode'];
  if (typeof mode === 'string') {
    if (!/^0?[0-7]{3}$/.test(mode)) throw new UsageError('--socket-mode must be octal permission bits such as 600 or 660');
    out.socketMode = parseInt(mode, 8);
  }
  return out;
}

/** `--reverse`: dial the proxy, register, serve until SIGINT/SIGTERM or a permanent refusal (exit 1). */
async function runReverse(
  endpoint: string,
  options: AgentServerOptions,
  id: string | undefined,
  token: string | undefined,
  connectionsText: string,
  name: string,
): Promise<number> {
  if (id === undefined) throw new UsageError(`--reverse needs --id\n${AGENT_USAGE}`);
  const connections = Number(connectionsText);
  if (!Number.isInteger(connections) || connections < 1) throw new UsageError('--connections must be a positive integer');
  const connector = new ReverseConnector({
    endpoint,
    agentId: id,
    connections,
    ...(token === undefined ? {} : { authToken: token }),
    ...(options.handler === undefined ? {} : { handler: options.handler }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  connector.on('registered', (r) =>
    process.stdout.write(`zap agent '${id}' (${name}) registered with ${endpoint} as ${peerText(r.connectionId)}\n`),
  );
  // The refusal text is the proxy's: escaped and cut, one line per refusal.
  connector.on('refused', (r) => process.stderr.write(`zap agent '${id}': registration refused: ${peerText(r.error, 512)}\n`));
  connector.on('retry', (r) =>
    process.stderr.write(`zap agent '${id}': connection ${r.slot + 1}: ${peerText(r.error.message, 512)}; retrying in ${r.delayMs} ms\n`),
  );
  const stopped = new Promise<boolean>((resolve) => {
    process.once('SIGINT', () => resolve(false));
    process.once('SIGTERM', () => resolve(false));
    connector.once('failed', () => resolve(true));
  });
  await connector.start();
  process.stdout.write(`zap agent '${id}' (${name}) dialling ${endpoint}\n`);
  const failed = await stopped;
  const failure = connector.failure;
  await connector.close();
  if (failed && failure !== null) throw failure;
  return 0;
}
