// `zap agent --listen <endpoint>`: runs an example agent until SIGINT/SIGTERM, then closes its
// listener (removing the socket file) and exits 0.
import { parseArgs } from 'node:util';
import { AgentServer, type AgentServerOptions } from '../agent/agent-server.js';
import { createExampleHandler, EXAMPLES, type ExampleName } from '../agent/examples/index.js';
import type { EncodingSetting } from '../protocol/types.js';
import { UsageError } from './cli-error.js';

export const AGENT_USAGE =
  'zap agent --listen <unix:/path|/path|*.sock> [--example echo|waf|auth] [--id ID] [--token T] ' +
  '[--threads N] [--encoding json|msgpack|prefer-msgpack]';

export async function runAgent(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string' },
      example: { type: 'string', default: 'echo' },
      id: { type: 'string' },
      token: { type: 'string' },
      threads: { type: 'string', default: '0' },
      encoding: { type: 'string', default: 'prefer-msgpack' },
    },
  });
  if (values.listen === undefined) throw new UsageError(AGENT_USAGE);
  const name = values.example as ExampleName;
  if (!(name in EXAMPLES)) throw new UsageError(`unknown --example '${values.example}'\n${AGENT_USAGE}`);
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 0) throw new UsageError('--threads must be a non-negative integer');
  const encoding = values.encoding as EncodingSetting;
  if (!['json', 'msgpack', 'prefer-msgpack'].includes(encoding)) throw new UsageError(`unknown --encoding '${encoding}'`);
  if (name === 'auth' && values.token === undefined) throw new UsageError('--example auth needs --token');

  const exampleOptions = values.token === undefined ? {} : { token: values.token };
  const options: AgentServerOptions = {
    agentId: values.id ?? name,
    encoding,
    ...(threads > 0
      ? { threads: { module: EXAMPLES[name], count: threads, options: exampleOptions } }
      : { handler: createExampleHandler(name, exampleOptions) }),
  };
  const server = new AgentServer(options);
  await server.listen(values.listen);
  process.stdout.write(`zap agent '${options.agentId}' (${name}) listening on ${values.listen}\n`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
