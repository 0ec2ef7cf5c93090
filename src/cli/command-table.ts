// The one table of zap's commands and their options. Each command's parseArgs call takes its
// options from here, and `--help` and `zap completion` are generated from it, so the three cannot
// drift apart. Extra keys (value, help, choices) are ignored by parseArgs.

import { AGENT_FLAGS } from '../agent/agent-flags.js';

/** One option: parseArgs' own keys plus what help and completion print. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly default?: string | boolean;
  /** Placeholder for the value in help (string options), e.g. `MS`. */
  readonly value?: string;
  readonly help: string;
  /** The accepted values, offered by completion; the command itself validates them. */
  readonly choices?: readonly string[];
  /** Completion offers file names for this option's value. */
  readonly file?: boolean;
}

/** One sub-command: what help prints, and the options its parseArgs call uses. */
export interface CommandSpec {
  readonly name: string;
  /** The usage line without the leading `zap `, e.g. `call <endpoint> [options]`. */
  readonly usage: string;
  readonly summary: string;
  /** Positional values completion offers (e.g. `bash zsh`); file names when `positionalFile`. */
  readonly positionals?: readonly string[];
  readonly positionalFile?: boolean;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
}

const ENCODINGS = ['json', 'msgpack', 'prefer-msgpack'] as const;
export const EVENT_TYPE_NAMES = [
  'request-headers',
  'request-body-chunk',
  'response-headers',
  'response-body-chunk',
  'request-complete',
  'websocket-frame',
  'guardrail-inspect',
  'configure',
] as const;
export const EXAMPLE_NAMES = ['echo', 'waf', 'auth'] as const;
export const SHELLS = ['bash', 'zsh'] as const;

/** How long `zap call --reverse-listen` waits for a registration when `--wait` is not given. */
export const DEFAULT_REVERSE_WAIT_MS = 30_000;

export const CALL_OPTIONS = {
  type: { type: 'string', default: 'request-headers', value: 'TYPE', help: 'event type to send', choices: EVENT_TYPE_NAMES },
  event: { type: 'string', value: 'FILE|-', help: 'the event as wire JSON (- reads stdin); missing keys take sample values', file: true },
  timeout: { type: 'string', default: '5000', value: 'MS', help: 'connect, handshake and reply timeout' },
  encoding: { type: 'string', default: 'json', value: 'ENC', help: 'UDS payload encoding to offer', choices: ENCODINGS },
  handshake: { type: 'boolean', default: false, help: "print the agent's handshake response instead of sending an event" },
  verbose: { type: 'boolean', default: false, help: 'add a separate "zap" key with what zap knows (transport, encoding, agent)' },
  'reverse-listen': {
    type: 'string',
    value: 'ENDPOINT',
    help: 'listen (unix:/path or tcp://host:port) and call the first agent that registers',
  },
  token: { type: 'string', multiple: true, value: 'T', help: 'registration token accepted from reverse agents' },
  'insecure-allow-unauthenticated': { type: 'boolean', default: false, help: 'accept reverse agents without a token' },
  allow: { type: 'string', multiple: true, value: 'GLOB', help: 'agent ids accepted on --reverse-listen' },
  wait: { type: 'string', value: 'MS', help: `how long --reverse-listen waits for an agent (default ${DEFAULT_REVERSE_WAIT_MS})` },
  ca: { type: 'string', value: 'PEM', help: 'gRPC over TLS: CA certificate file', file: true },
  cert: { type: 'string', value: 'PEM', help: 'gRPC over TLS: client certificate file', file: true },
  key: { type: 'string', value: 'PEM', help: 'gRPC over TLS: client key file', file: true },
  insecure: { type: 'boolean', default: false, help: "gRPC over TLS without verifying the agent's certificate" },
} as const satisfies Record<string, OptionSpec>;

// `zap agent` takes the agent runner's flags (shared with runAgent(), so the two cannot drift) plus
// --example; the runner's --help is the table's own.
const { help: _help, ...RUNNER_FLAGS } = AGENT_FLAGS;
export const AGENT_OPTIONS = {
  example: { type: 'string', default: 'echo', value: 'NAME', help: 'example agent to run', choices: EXAMPLE_NAMES },
  ...RUNNER_FLAGS,
} as const satisfies Record<string, OptionSpec>;

export const DEMO_OPTIONS = {
  duration: { type: 'string', default: '10', value: 'SECONDS', help: 'length of the workload' },
  concurrency: { type: 'string', default: '16', value: 'N', help: 'requests in flight' },
  workers: { type: 'string', value: 'N', help: 'pool worker threads (default 1)' },
  serve: { type: 'boolean', default: false, help: 'keep the gateway and /metrics up until Ctrl-C' },
} as const satisfies Record<string, OptionSpec>;

export const SERVE_OPTIONS = {
  config: { type: 'string', value: 'FILE', help: 'the KDL configuration (reloaded on SIGHUP)', file: true },
  metrics: { type: 'string', default: '127.0.0.1:9464', value: 'HOST:PORT', help: 'address of /metrics and /healthz' },
  workers: { type: 'string', value: 'N', help: 'pool worker threads' },
} as const satisfies Record<string, OptionSpec>;

export const GATEWAY_OPTIONS = {
  config: {
    type: 'string',
    value: 'FILE',
    help: 'the KDL configuration: listeners, upstreams, routes, agents (reloaded on SIGHUP)',
    file: true,
  },
  metrics: { type: 'string', default: '127.0.0.1:9464', value: 'HOST:PORT', help: 'address of /metrics and /healthz' },
  workers: { type: 'string', value: 'N', help: 'pool worker threads' },
  'drain-timeout': { type: 'string', default: '30000', value: 'MS', help: 'longest wait for requests in flight on reload and stop' },
} as const satisfies Record<string, OptionSpec>;

export const CHECK_OPTIONS = {
  json: { type: 'boolean', default: false, help: 'print the loaded config as JSON, auth tokens masked' },
} as const satisfies Record<string, OptionSpec>;

export const BENCH_OPTIONS = {
  quick: { type: 'boolean', default: false, help: 'short smoke run' },
  'json-dir': { type: 'string', default: 'bench/results', value: 'DIR', help: 'where result JSON goes' },
  warmup: { type: 'string', value: 'MS', help: 'warm-up per row (default 1000)' },
  duration: { type: 'string', value: 'MS', help: 'measurement per row (default 5000)' },
  inflight: { type: 'string', default: '256', value: 'N', help: 'requests in flight' },
  list: { type: 'boolean', default: false, help: 'list the scenarios' },
  only: { type: 'string', value: 'ROW,…', help: 'run only these rows' },
  agents: { type: 'string', value: 'N', help: 'agents in scenarios that take a count' },
  rounds: { type: 'string', default: '1', value: 'N', help: 'pool-uds: throughput rows N times, alternating; medians' },
} as const satisfies Record<string, OptionSpec>;

export const COMMAND_TABLE: readonly CommandSpec[] = [
  {
    name: 'call',
    usage: 'call (<endpoint> | --reverse-listen <endpoint>) [options]',
    summary: 'send one event to an agent and print its reply as one line of wire JSON',
    options: CALL_OPTIONS,
    examples: [
      'echo \'{"uri":"/search?q=%3Cscript%3E"}\' | zap call unix:/tmp/waf.sock --event -',
      'zap call grpc://127.0.0.1:50051 --handshake',
      'zap call --reverse-listen tcp://127.0.0.1:9090 --token t1 --wait 10000',
    ],
  },
  {
    name: 'agent',
    usage: 'agent (--listen <endpoint> | --reverse <endpoint> --id <id>) [options]',
    summary: 'run an example agent (echo, waf, auth) until SIGINT or SIGTERM',
    options: AGENT_OPTIONS,
    examples: ['zap agent --listen /tmp/waf.sock --example waf', 'zap agent --reverse tcp://127.0.0.1:9090 --id edge-1 --token t1'],
  },
  {
    name: 'demo',
    usage: 'demo [options]',
    summary: 'a self-contained gateway with the example agents (npm start)',
    options: DEMO_OPTIONS,
    examples: ['zap demo --duration 3'],
  },
  {
    name: 'serve',
    usage: 'serve --config <file.kdl> [options]',
    summary: 'run a pool from a KDL configuration with /metrics and /healthz',
    options: SERVE_OPTIONS,
    examples: ['zap serve --config zap.kdl --metrics 127.0.0.1:9464'],
  },
  {
    name: 'gateway',
    usage: 'gateway --config <file.kdl> [options]',
    summary: 'a reverse proxy from listeners, upstreams, routes and agents blocks',
    options: GATEWAY_OPTIONS,
    examples: ['zap gateway --config gateway.kdl', 'kill -HUP <pid>   # reload the configuration'],
  },
  {
    name: 'check',
    usage: 'check <file.kdl> [--json]',
    summary: 'validate a KDL configuration and summarise it',
    positionalFile: true,
    options: CHECK_OPTIONS,
    examples: ['zap check zap.kdl'],
  },
  {
    name: 'bench',
    usage: 'bench [scenario…] [options]',
    summary: 'run benchmarks (results as JSON under --json-dir)',
    options: BENCH_OPTIONS,
    examples: ['zap bench --list', 'zap bench pool --quick'],
  },
  {
    name: 'completion',
    usage: 'completion bash|zsh',
    summary: 'print a shell completion script',
    positionals: SHELLS,
    options: {},
    examples: ['source <(zap completion bash)', 'zap completion zsh > "${fpath[1]}/_zap"'],
  },
];

/** Flags every command accepts besides its own table (handled before the command runs). */
export const COMMON_FLAGS = ['--help', '-h'] as const;

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMAND_TABLE.find((c) => c.name === name);
}
