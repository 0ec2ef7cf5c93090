#!/usr/bin/env node
// zap command-line entry: dispatches to one sub-command per file. `--help` and `--version` are
// answered here, from the command table, before any command runs.
import { VERSION } from '../version.js';
import { runAgent } from './agent.js';
import { runBench } from './bench.js';
import { runCall } from './call.js';
import { runCheck } from './check.js';
import { asUsageError, reportFailure, UsageError } from './cli-error.js';
import { commandSpec } from './command-table.js';
import { runCompletion } from './completion.js';
import { runDemo } from './demo.js';
import { runGateway } from './gateway.js';
import { commandHelp, mainUsage } from './help.js';
import { runServe } from './serve.js';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  call: runCall,
  agent: runAgent,
  demo: runDemo,
  check: runCheck,
  bench: runBench,
  serve: runServe,
  gateway: runGateway,
  completion: runCompletion,
};

/** `--help`/`-h` anywhere before a `--` asks for help (parseArgs would call it an unknown option). */
function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(mainUsage());
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const spec = rest[0] === undefined ? undefined : commandSpec(rest[0]);
    process.stdout.write(spec === undefined ? mainUsage() : commandHelp(spec));
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const run = COMMANDS[command];
  const spec = commandSpec(command);
  if (run === undefined) throw new UsageError(`unknown command '${command}'`);
  // A command without a table entry would have no --help or completion: a bug, not a usage error.
  if (spec === undefined) throw new Error(`command '${command}' is missing from the command table`);
  if (wantsHelp(rest)) {
    process.stdout.write(commandHelp(spec));
    return 0;
  }
  try {
    return await run(rest);
  } catch (err) {
    throw asUsageError(err, command);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportFailure(err);
  },
);
