// How the CLI reports a failure (spec §10.11). Usage errors (unknown flag, bad value, missing
// argument) exit 2 with one `usage:` line and a hint; runtime failures exit 1 with one `ZAP_*` line.
import { AgentPoolError } from '../protocol/errors.js';
import { peerText } from '../protocol/peer-text.js';
import { commandSpec } from './command-table.js';

/** Generous: our own messages are long sentences; the bound is for the peer text they may quote. */
const FAILURE_TEXT_MAX = 4096;

/** One line, whatever a peer put into the message (its parts should be escaped already; this is the last guard). */
function oneLine(message: string): string {
  return peerText(message.replace(/\s*\n\s*/g, ' '), FAILURE_TEXT_MAX);
}

/** A mistake in the command line: the message says what is wrong, in one short sentence. */
export class UsageError extends Error {
  /** The sub-command it belongs to; main fills it in when the command does not. */
  command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** node:util parseArgs' own errors (unknown option, missing value, stray argument), as usage errors. */
export function asUsageError(err: unknown, command: string | undefined): unknown {
  if (err instanceof UsageError) {
    err.command ??= command;
    return err;
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) return err;
  const message = (err as Error).message;
  // Node's texts: "Unknown option '--x'. To specify a positional argument starting with a '-', …"
  // and "Unexpected argument 'x'. This command does not take positional arguments": the first sentence is the news.
  const first = message.split(/\.\s/)[0] ?? message;
  return new UsageError(first.charAt(0).toLowerCase() + first.slice(1), command);
}

export function reportFailure(err: unknown): number {
  if (err instanceof UsageError) {
    const spec = err.command === undefined ? undefined : commandSpec(err.command);
    const usage = spec === undefined ? 'zap <command> [options]' : `zap ${spec.usage}`;
    const help = spec === undefined ? 'zap --help' : `zap ${spec.name} --help`;
    process.stderr.write(`usage: ${usage}\n${spec === undefined ? 'zap' : `zap ${spec.name}`}: ${oneLine(err.message)}; see '${help}'\n`);
    return 2;
  }
  if (err instanceof AgentPoolError) {
    process.stderr.write(`${err.code}: ${oneLine(err.message)}\n`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ZAP_ERROR: ${oneLine(message)}\n`);
  return 1;
}
