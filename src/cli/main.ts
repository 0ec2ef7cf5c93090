#!/usr/bin/env node
// zap command-line entry: dispatches to one sub-command per file.
import { runAgent } from './agent.js';
import { runCall } from './call.js';
import { reportFailure } from './cli-error.js';
import { runDemo } from './demo.js';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  call: runCall,
  agent: runAgent,
  demo: runDemo,
};

const USAGE = `usage: zap <command> [options]

commands:
  call <endpoint>         send one event to an agent and print its reply
  agent --listen <path>   run an example agent (echo, waf, auth)
  demo                    start the example agents and show their decisions
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    process.stderr.write(`unknown command '${command}'\n${USAGE}`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportFailure(err);
  },
);
