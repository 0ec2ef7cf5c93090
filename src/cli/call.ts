// `zap call <endpoint>`: connect, handshake, send one event, print the reply as one line of
// wire-form JSON. Exit 0 on a reply; otherwise one `CODE: message` line on stderr.
// `zap call --reverse-listen <endpoint>`: the other way round (spec §9) — listen, take the first
// agent that registers (refusals are reported on stderr), send it the event, print the reply.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { peerText, quotedPeerText } from '../protocol/peer-text.js';
import { jsonCodec } from '../protocol/payload-codec.js';
import type { EncodingSetting, EventKind } from '../protocol/types.js';
import { connectUdsAgent } from '../connection/uds-agent-client.js';
import type { FramedConnection } from '../connection/framed-connection.js';
import { connectGrpcAgent } from '../connection/grpc-agent-client.js';
import type { GrpcConnection } from '../connection/grpc-connection.js';
import { validateGrpcTls, type GrpcTlsOptions } from '../transport/grpc-channel.js';
import { parseEndpoint } from '../transport/endpoint.js';
import { AgentPool } from '../pool/agent-pool.js';
import { formatReverseAddress, joinHostPort, parseReverseEndpoint, splitHostPort } from '../transport/reverse-endpoint.js';
import { UsageError } from './cli-error.js';
import { checkReadable } from './input-files.js';
import { CALL_OPTIONS, DEFAULT_REVERSE_WAIT_MS, EVENT_TYPE_NAMES } from './command-table.js';
import { handshakeAsSent, replyAsSent } from './print-reply.js';
import { CLI_EVENT_TYPES, completeEvent, correlationIdOf } from './sample-events.js';

export async function runCall(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: CALL_OPTIONS,
  });
  const reverseListen = values['reverse-listen'];
  const endpointText = positionals[0];
  if (reverseListen === undefined && endpointText === undefined)
    throw new UsageError('missing the agent <endpoint> (or --reverse-listen <endpoint>)');
  if (reverseListen !== undefined && positionals.length > 0)
    throw new UsageError(`give an <endpoint> or --reverse-listen, not both (got '${positionals[0]}')`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const kind = CLI_EVENT_TYPES[values.type];
  if (kind === undefined) throw new UsageError(`unknown --type '${values.type}' (one of ${EVENT_TYPE_NAMES.join(', ')})`);
  const timeoutMs = positiveInteger(values.timeout, '--timeout');
  const encoding = values.encoding as EncodingSetting;
  if (!['json', 'msgpack', 'prefer-msgpack'].includes(encoding))
    throw new UsageError(`unknown --encoding '${encoding}' (one of json, msgpack, prefer-msgpack)`);

  const userEvent = values.event === undefined ? {} : readEvent(values.event);
  const correlationId = correlationIdOf(kind, userEvent) ?? `zap-${randomUUID()}`;
  const wire = completeEvent(kind, userEvent, correlationId);
  const event = jsonCodec.decodeEvent(kind, Buffer.from(JSON.stringify(wire))).event;

  if (reverseListen !== undefined) {
    // A default wait: an agent that keeps failing to register must not keep zap call waiting forever.
    const waitMs = values.wait === undefined ? DEFAULT_REVERSE_WAIT_MS : positiveInteger(values.wait, '--wait');
    const tokens = values.token ?? [];
    const insecure = values['insecure-allow-unauthenticated'] === true;
    if (tokens.length === 0 && !insecure) {
      throw new UsageError(
        '--reverse-listen: registrations must be authenticated: give --token T (the agent sends it), ' +
          'or --insecure-allow-unauthenticated to accept any agent without a token',
      );
    }
    return callReverse(reverseListen, {
      kind,
      event,
      correlationId,
      timeoutMs,
      tokens,
      insecure,
      allow: values.allow ?? [],
      waitMs,
      verbose: values.verbose,
    });
  }
  const target = endpointText as string;
  // gRPC TLS: --ca/--cert/--key are PEM files; any of them (or --insecure) means TLS (spec §10.13).
  const tls: GrpcTlsOptions = {
    ...(values.ca === undefined ? {} : { ca: values.ca }),
    ...(values.cert === undefined ? {} : { cert: values.cert }),
    ...(values.key === undefined ? {} : { key: values.key }),
    ...(values.insecure ? { insecure: true } : {}),
  };
  const useTls = Object.keys(tls).length > 0;
  const endpoint = parseEndpoint(target, { tls: useTls });
  const timeouts = { agentId: target, connectTimeoutMs: timeoutMs, handshakeTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs };
  let connection: FramedConnection | GrpcConnection;
  if (endpoint.transport === 'grpc') {
    if (useTls) {
      for (const flag of ['ca', 'cert', 'key'] as const) checkReadable(`--${flag}`, values[flag]);
      if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
      validateGrpcTls(tls, 'TLS options');
    }
    connection = await connectGrpcAgent(target, { ...timeouts, ...(useTls ? { tls } : {}) });
  } else if (endpoint.transport === 'uds') {
    connection = await connectUdsAgent(endpoint.path, { ...timeouts, encoding });
  } else {
    throw zapError(ErrorCode.InvalidConfig, `Endpoint '${target}' cannot be called; use --reverse-listen for reverse agents`);
  }
  try {
    const zap = values.verbose ? { transport: endpoint.transport, encoding: connection.encoding, agent: target } : undefined;
    if (values.handshake) {
      const hs = connection.handshake;
      if (hs === undefined) throw zapError(ErrorCode.HandshakeFailed, 'no handshake response');
      process.stdout.write(`${JSON.stringify(handshakeAsSent(hs, endpoint.transport, zap))}\n`);
      return 0;
    }
    const response = await connection.send(kind as EventKind, event as never, correlationId, { timeoutMs });
    if (kind === 'configure' && connection.encoding === 'protobuf' && connection.capabilities?.features.configPush !== true) {
      // gRPC Configure to an agent without config_push is fire-and-forget (spec §10.7): the Allow
      // above was made here, not by the agent, so it is not printed as the agent's answer.
      process.stderr.write('zap call: Configure sent; the agent does not announce config_push, so it sends no acknowledgement\n');
      return 0;
    }
    process.stdout.write(`${JSON.stringify(replyAsSent(response, correlationId, endpoint.transport, zap))}\n`);
    return 0;
  } finally {
    // gRPC: end our side in order and let the agent end its own (briefly), so nothing written is cancelled.
    if ('end' in connection) await connection.end(Math.min(timeoutMs, 2_000));
    else connection.close();
  }
}

interface ReverseCall {
  kind: EventKind;
  event: unknown;
  correlationId: string;
  timeoutMs: number;
  tokens: string[];
  insecure: boolean;
  allow: string[];
  waitMs: number;
  verbose: boolean;
}

/** Listens (UDS or TCP), waits for the first admitted agent to be ready, sends it the event. */
async function callReverse(listenText: string, c: ReverseCall): Promise<number> {
  const address = parseReverseEndpoint(listenText);
  if (address.kind === 'tcp' && address.tls) throw new UsageError('--reverse-listen: TLS is not supported here; use unix: or tcp://');
  const pool = new AgentPool({ workers: 0 });
  try {
    let lastRefusal: string | undefined;
    pool.on('reverse-refused', (agentId, error) => {
      lastRefusal = `agent ${agentId === null ? '(unknown)' : quotedPeerText(agentId)}: ${peerText(error, 512)}`;
      process.stderr.write(`zap call: refused ${lastRefusal}\n`);
    });
    if (c.tokens.length === 0)
      process.stderr.write('zap call: warning: accepting agents WITHOUT a token (--insecure-allow-unauthenticated)\n');
    const ready = new Promise<string>((resolve) => {
      pool.on('report', (agentId, report) => {
        if (report.type === 'state' && report.state === 'ready') resolve(agentId);
      });
    });
    const listener = await pool.listenReverse({
      ...(address.kind === 'unix' ? { path: address.path } : { tcpAddress: joinHostPort(address.host, address.port) }),
      ...(c.tokens.length === 0 ? { insecureAllowUnauthenticated: c.insecure } : { authTokens: c.tokens }),
      allowedAgents: c.allow,
      // The agent to call is whoever registers first: no id is declared here.
      allowUndeclaredAgents: true,
      maxUndeclaredAgents: 1,
    });
    const bound =
      listener.path !== undefined
        ? `unix:${listener.path}`
        : formatReverseAddress({ kind: 'tcp', ...splitHostPort(listener.tcpAddress as string), tls: false });
    process.stderr.write(`zap call: listening on ${bound}\n`);
    let timer: NodeJS.Timeout | undefined;
    const agentId = await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Name the cause when there is one: the last registration refused while we waited.
          const why = lastRefusal === undefined ? '' : `; last refusal: ${lastRefusal}`;
          reject(zapError(ErrorCode.Timeout, `No agent registered within ${c.waitMs} ms${why}`));
        }, c.waitMs);
      }),
    ]).finally(() => clearTimeout(timer));
    process.stderr.write(`zap call: agent ${quotedPeerText(agentId)} registered\n`);
    const response = await pool.send(agentId, c.kind, c.correlationId, c.event as never, { timeoutMs: c.timeoutMs });
    const zap = c.verbose ? { transport: 'reverse', agent: agentId } : undefined;
    process.stdout.write(`${JSON.stringify(replyAsSent(response, c.correlationId, 'reverse', zap))}\n`);
    return 0;
  } finally {
    await pool.destroy();
  }
}

function positiveInteger(text: string, flag: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new UsageError(`${flag} must be a positive integer, got '${text}'`);
  return Number(text);
}

function readEvent(source: string): Record<string, unknown> {
  let text: string;
  try {
    text = source === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw zapError(ErrorCode.InvalidArgument, `cannot read event file ${source === '-' ? '(stdin)' : source} (${code})`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--event ${source}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`--event ${source}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}
