#!/usr/bin/env node
// zap command-line entry: dispatches to one sub-command per file.
import { runAgent } from './agent.js';
import { runBench } from './bench.js';
import { runCall } from './call.js';
import { runCheck } from './check.js';
import { reportFailure } from './cli-error.js';
import { runDemo } from './demo.js';
import { runServe } from './serve.js';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  call: runCall,
  agent: runAgent,
  demo: runDemo,
  check: runCheck,
  bench: runBench,
  serve: runServe,
};

const USAGE = `usage: zap <command> [options]

commands:
  call <endpoint>         send one event to an agent and print its reply
  agent --listen <path>   run an example agent (echo, waf, auth)
  demo                    a self-contained gateway with the example agents (npm start)
  serve --config <file>   run a pool from a KDL configuration with /metrics and /healthz
  check <file.kdl>        validate a KDL configuration and summarise it
  bench [scenario…]       run benchmarks (--quick, --list, --json-dir DIR)
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
