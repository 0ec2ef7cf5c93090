// The command-line flags of an agent program, shared by `zap agent` and runAgent() so the two cannot
// drift: one table gives parsing, validation and the help text. A bad flag is a ZAP_INVALID_ARGUMENT
// with a short message (never Node's raw parseArgs text); the caller prints it as a usage error.
import { parseArgs } from 'node:util';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { EncodingSetting } from '../protocol/types.js';
import type { AgentServerOptions } from './agent-server.js';
import type { AgentTlsOptions } from './grpc-agent-listener.js';

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];
const ENCODINGS: readonly EncodingSetting[] = ['json', 'msgpack', 'prefer-msgpack'];

/** One flag: how it parses and how `--help` shows it. */
export interface AgentFlagSpec {
  type: 'string' | 'boolean';
  /** Placeholder of the value in the help text, e.g. `N`. */
  value?: string;
  short?: string;
  help: string;
  /** The accepted values (for shell completion; the parser checks them itself). */
  choices?: readonly string[];
  /** The value names a file (for shell completion). */
  file?: boolean;
}

export const AGENT_FLAGS = {
  listen: {
    type: 'string',
    value: 'ENDPOINT',
    help: 'serve proxies on unix:/path, /path, *.sock, grpc://host:port, https://host:port or host:port (port 0: any)',
  },
  reverse: {
    type: 'string',
    value: 'ENDPOINT',
    help: "dial a proxy's reverse listener instead: unix:/path, tcp://host:port, tls://host:port",
  },
  id: { type: 'string', value: 'ID', help: 'agent id (required with --reverse)' },
  token: { type: 'string', value: 'TOKEN', help: 'registration token sent with --reverse' },
  connections: { type: 'string', value: 'N', help: 'registered connections to keep with --reverse (default 1)' },
  threads: { type: 'string', value: 'N', help: 'run the handler on N worker threads (default 0: in this thread)' },
  encoding: { type: 'string', value: 'ENC', help: 'json, msgpack or prefer-msgpack (default prefer-msgpack)', choices: ENCODINGS },
  'tls-cert': {
    type: 'string',
    value: 'PEM',
    help: 'certificate file: gRPC server with --listen, client certificate with --reverse',
    file: true,
  },
  'tls-key': { type: 'string', value: 'PEM', help: 'private key file of --tls-cert', file: true },
  'tls-ca': {
    type: 'string',
    value: 'PEM',
    help: 'CA file: require client certificates (--listen) or verify the proxy (--reverse)',
    file: true,
  },
  'max-connections': { type: 'string', value: 'N', help: 'open connections and gRPC streams at most (default 1024; --listen)' },
  'handshake-timeout-ms': { type: 'string', value: 'MS', help: 'time a proxy has to handshake (default 10000; --listen)' },
  'frame-timeout-ms': { type: 'string', value: 'MS', help: 'time a started frame has to complete (default 30000; --listen)' },
  'socket-mode': { type: 'string', value: 'OCTAL', help: 'permission bits of the Unix socket file (default 600; --listen)' },
  'drain-timeout-ms': { type: 'string', value: 'MS', help: 'on SIGTERM/SIGINT, how long in-flight events may finish (default 10000)' },
  'log-level': { type: 'string', value: 'LEVEL', help: 'silent, error, warn, info or debug (default info)', choices: LOG_LEVELS },
  help: { type: 'boolean', short: 'h', help: 'print this help and exit' },
} as const satisfies Record<string, AgentFlagSpec>;

/** The flags, parsed and checked. */
export interface AgentFlags {
  /** Exactly one of listen and reverse is set (unless `help`). */
  listen?: string;
  reverse?: string;
  id?: string;
  token?: string;
  connections: number;
  threads: number;
  encoding: EncodingSetting;
  /** gRPC server TLS (--listen) or client TLS (--reverse). */
  tls?: { cert?: string; key?: string; ca?: string };
  /** Server limits given on the command line (--listen only). */
  limits: Pick<AgentServerOptions, 'maxConnections' | 'handshakeTimeoutMs' | 'frameTimeoutMs' | 'socketMode'>;
  drainTimeoutMs: number;
  logLevel: LogLevel;
  help: boolean;
}

type ExtraFlagValues = Record<string, string | boolean | undefined>;

function usage(message: string): never {
  throw zapError(ErrorCode.InvalidArgument, message);
}

/** Node's parseArgs errors, said shortly: their first sentence (the rest suggests `--` tricks), as `zap` says them. */
function parseArgsMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split(/\.\s/)[0] ?? message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function integerFlag(text: string | undefined, flag: string, min: 0 | 1, fallback: number): number {
  if (text === undefined) return fallback;
  const ok = min === 0 ? /^(0|[1-9][0-9]{0,9})$/ : /^[1-9][0-9]{0,9}$/;
  if (!ok.test(text)) usage(`--${flag} must be a ${min === 0 ? 'non-negative' : 'positive'} integer`);
  return Number(text);
}

/**
 * Parses an agent program's arguments (`extra`: flags of the program's own, e.g. `zap agent --example`).
 * Throws ZAP_INVALID_ARGUMENT naming the first problem. With `--help` nothing else is checked.
 */
export function parseAgentFlags(
  argv: readonly string[],
  extra: Record<string, AgentFlagSpec> = {},
): { flags: AgentFlags; extra: ExtraFlagValues } {
  let values: ExtraFlagValues;
  try {
    const options = Object.fromEntries(
      Object.entries<AgentFlagSpec>({ ...extra, ...AGENT_FLAGS }).map(([name, s]) => [
        name,
        s.short === undefined ? { type: s.type } : { type: s.type, short: s.short },
      ]),
    );
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as ExtraFlagValues;
  } catch (err) {
    usage(parseArgsMessage(err));
  }
  const text = (name: keyof typeof AGENT_FLAGS): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const extraValues: ExtraFlagValues = {};
  for (const name of Object.keys(extra)) extraValues[name] = values[name];
  const help = values['help'] === true;
  const flags: AgentFlags = {
    connections: 1,
    threads: 0,
    encoding: 'prefer-msgpack',
    limits: {},
    drainTimeoutMs: 10_000,
    logLevel: 'info',
    help,
  };
  if (help) return { flags, extra: extraValues };

  const listen = text('listen');
  const reverse = text('reverse');
  if ((listen === undefined) === (reverse === undefined)) usage('give one of --listen <endpoint> or --reverse <endpoint>');
  if (listen !== undefined) flags.listen = listen;
  if (reverse !== undefined) flags.reverse = reverse;
  const id = text('id');
  if (id !== undefined) flags.id = id;
  if (reverse !== undefined && id === undefined) usage('--reverse needs --id <id>');
  const token = text('token');
  if (token !== undefined) flags.token = token;
  flags.connections = integerFlag(text('connections'), 'connections', 1, 1);
  flags.threads = integerFlag(text('threads'), 'threads', 0, 0);
  const encoding = text('encoding') ?? 'prefer-msgpack';
  if (!(ENCODINGS as readonly string[]).includes(encoding)) usage(`unknown --encoding '${encoding}' (one of ${ENCODINGS.join(', ')})`);
  flags.encoding = encoding as EncodingSetting;
  const logLevel = text('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) usage(`unknown --log-level '${logLevel}' (one of ${LOG_LEVELS.join(', ')})`);
  flags.logLevel = logLevel as LogLevel;
  flags.drainTimeoutMs = integerFlag(text('drain-timeout-ms'), 'drain-timeout-ms', 0, 10_000);
  flags.limits = limitFlags(text);
  if (reverse !== undefined && Object.keys(flags.limits).length > 0) {
    usage('--max-connections, --handshake-timeout-ms, --frame-timeout-ms and --socket-mode apply to --listen only');
  }
  const tls = tlsFlags(text('tls-cert'), text('tls-key'), text('tls-ca'), listen !== undefined);
  if (tls !== undefined) flags.tls = tls;
  return { flags, extra: extraValues };
}

function limitFlags(text: (name: keyof typeof AGENT_FLAGS) => string | undefined): AgentFlags['limits'] {
  const out: AgentFlags['limits'] = {};
  const positive = (name: 'max-connections' | 'handshake-timeout-ms' | 'frame-timeout-ms'): number | undefined => {
    const v = text(name);
    return v === undefined ? undefined : integerFlag(v, name, 1, 0);
  };
  const maxConnections = positive('max-connections');
  const handshakeTimeoutMs = positive('handshake-timeout-ms');
  const frameTimeoutMs = positive('frame-timeout-ms');
  if (maxConnections !== undefined) out.maxConnections = maxConnections;
  if (handshakeTimeoutMs !== undefined) out.handshakeTimeoutMs = handshakeTimeoutMs;
  if (frameTimeoutMs !== undefined) out.frameTimeoutMs = frameTimeoutMs;
  const mode = text('socket-mode');
  if (mode !== undefined) {
    if (!/^0?[0-7]{3}$/.test(mode)) usage('--socket-mode must be octal permission bits such as 600 or 660');
    out.socketMode = parseInt(mode, 8);
  }
  return out;
}

function tlsFlags(cert: string | undefined, key: string | undefined, ca: string | undefined, server: boolean): AgentFlags['tls'] {
  if ((cert === undefined) !== (key === undefined)) usage('--tls-cert and --tls-key go together');
  // A gRPC server needs its own certificate; a reverse client may verify the proxy with --tls-ca alone.
  if (server && ca !== undefined && cert === undefined) usage('--tls-ca with --listen needs --tls-cert and --tls-key');
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  return { ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(ca === undefined ? {} : { ca }) };
}

/** The server's TLS options from the flags (--listen needs both cert and key, checked by the parser). */
export function serverTlsOf(flags: AgentFlags): AgentTlsOptions | undefined {
  const t = flags.tls;
  if (t?.cert === undefined || t.key === undefined) return undefined;
  return { cert: t.cert, key: t.key, ...(t.ca === undefined ? {} : { ca: t.ca }) };
}

/** Help text lines for the flags (program flags first), aligned. */
export function agentFlagsHelp(extra: Record<string, AgentFlagSpec> = {}): string {
  const rows = Object.entries<AgentFlagSpec>({ ...extra, ...AGENT_FLAGS }).map(([name, s]) => {
    const short = s.short === undefined ? '' : `-${s.short}, `;
    return [`${short}--${name}${s.value === undefined ? '' : ` ${s.value}`}`, s.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`).join('\n');
}
