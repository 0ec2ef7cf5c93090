// runAgent(): one call that turns a handler into a program with the flags of `zap agent`
// (agent-flags.ts), SIGTERM/SIGINT draining included (agent-program.ts).
import { basename } from 'node:path';
import { isAgentPoolError, ErrorCode } from '../protocol/errors.js';
import { agentFlagsHelp, parseAgentFlags } from './agent-flags.js';
import { serveAgentProgram, type AgentProgramHandler } from './agent-program.js';
import type { AgentServerOptions } from './agent-server.js';

// The types a runAgent() program names, so the public index needs one line for this feature.
export type { ReplyBuilder, BlockReplyBuilder } from './reply-builder.js';
export type { LogLevel } from './agent-flags.js';

export interface RunAgentOptions extends AgentProgramHandler {
  /** The agent id, unless `--id` overrides it. */
  agentId: string;
  /** Capabilities `name` (default: the agent id) and `version` (default ""). */
  name?: string;
  version?: string;
  capabilities?: AgentServerOptions['capabilities'];
  /** The arguments (default `process.argv.slice(2)`). */
  argv?: readonly string[];
  /** What `--help` prints first (default: a usage line naming the agent id). */
  description?: string;
  /** Stops the agent as SIGTERM does (for embedding and tests). */
  signal?: AbortSignal;
}

function helpText(o: RunAgentOptions): string {
  const head = o.description ?? `agent '${o.agentId}'`;
  const program = basename(process.argv[1] ?? 'agent');
  return (
    `${head}\n\nusage: ${program} --listen ENDPOINT [options]\n       ${program} --reverse ENDPOINT --id ID [--token TOKEN] [options]\n\n` +
    `options:\n${agentFlagsHelp()}\n\nexample:\n  ${program} --listen unix:/tmp/${o.agentId}.sock --log-level warn\n`
  );
}

/**
 * Runs an agent as a program: parses the command line (`--listen unix:/path|host:port`, `--reverse`,
 * `--id`, `--token`, `--connections`, `--threads`, `--encoding`, `--tls-*`, the server limits,
 * `--drain-timeout-ms`, `--log-level`, `--help`), serves until SIGTERM or SIGINT, drains, and
 * resolves with the exit code, also set as `process.exitCode`: 0 after a clean stop or `--help`,
 * 2 after a usage error (one `usage:` line on stderr), 1 after a failure (one `ZAP_…:` line).
 * It never throws. Give `handler`, or `module` (a file whose default export builds the handler)
 * to allow `--threads N`.
 *
 * @example
 * await runAgent({ agentId: 'my-waf', handler: { onRequestHeaders: (e) => (e.uri.includes('<script') ? block(403) : allow()) } });
 */
export async function runAgent(o: RunAgentOptions): Promise<number> {
  const code = await run(o);
  process.exitCode = code;
  return code;
}

async function run(o: RunAgentOptions): Promise<number> {
  let flags;
  try {
    flags = parseAgentFlags(o.argv ?? process.argv.slice(2)).flags;
  } catch (err) {
    process.stderr.write(`usage: ${err instanceof Error ? err.message : String(err)} (--help lists the options)\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(helpText(o));
    return 0;
  }
  if (flags.threads > 0 && o.module === undefined) {
    process.stderr.write(`usage: --threads needs a handler module; this agent runs in one thread\n`);
    return 2;
  }
  try {
    return await serveAgentProgram(flags, { ...o, label: `agent '${flags.id ?? o.agentId}'` });
  } catch (err) {
    const line = isAgentPoolError(err)
      ? `${err.code}: ${err.message}`
      : `${ErrorCode.Error}: ${err instanceof Error ? err.message : String(err)}`;
    process.stderr.write(`${line.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}
