// `zap agent --listen <endpoint>`: runs an example agent until SIGINT/SIGTERM, then drains, closes its
// listener (removing the socket file) and exits 0. `zap agent --reverse <proxy-endpoint>` dials a
// proxy's reverse listener instead and registers (spec §9), keeping `--connections` connections.
// The flags and the serving are the agent SDK's runner (agent-flags.ts, agent-program.ts), so
// `zap agent` and a program built with runAgent() take the same flags.
import { agentFlagsHelp, parseAgentFlags, type AgentFlagSpec } from '../agent/agent-flags.js';
import { serveAgentProgram } from '../agent/agent-program.js';
import { EXAMPLES, isExampleName } from '../agent/examples/index.js';
import { UsageError } from './cli-error.js';

/** The flags `zap agent` has beyond the runner's. */
const CLI_FLAGS: Record<string, AgentFlagSpec> = {
  example: {
    type: 'string',
    value: 'NAME',
    help: 'the example agent to run: echo, waf or auth (default echo)',
    choices: Object.keys(EXAMPLES),
  },
};

export const AGENT_USAGE =
  'zap agent --listen ENDPOINT [--example echo|waf|auth] [options]\n' +
  '       zap agent --reverse ENDPOINT --id ID [--token TOKEN] [--connections N] [--example echo|waf|auth] [options]\n\n' +
  `options:\n${agentFlagsHelp(CLI_FLAGS)}\n\n` +
  'example:\n  zap agent --listen /tmp/waf.sock --example waf --threads 2\n' +
  '  (--token is also the token the auth example accepts)';

export async function runAgent(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseAgentFlags(argv, CLI_FLAGS);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { flags, extra } = parsed;
  if (flags.help) {
    process.stdout.write(`usage: ${AGENT_USAGE}\n`);
    return 0;
  }
  const name = typeof extra['example'] === 'string' ? extra['example'] : 'echo';
  if (!isExampleName(name)) throw new UsageError(`unknown --example '${name}' (one of ${Object.keys(EXAMPLES).join(', ')})`);
  if (name === 'auth' && flags.token === undefined) throw new UsageError('--example auth needs --token');
  const id = flags.id ?? name;
  return serveAgentProgram(flags, {
    agentId: name,
    label: `zap agent '${id}' (${name})`,
    // The module runs in-thread with --threads 0 and on a thread pool otherwise.
    module: EXAMPLES[name],
    ...(flags.token === undefined ? {} : { moduleOptions: { token: flags.token } }),
  });
}
