// `zap call <endpoint>`: connect, handshake, send one event, print the reply as one line of
// wire-form JSON. Exit 0 on a reply; otherwise one `CODE: message` line on stderr.
// `zap call --reverse-listen <endpoint>`: the other way round (spec §9) — listen, take the first
// agent that registers (refusals are reported on stderr), send it the event, print the reply.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { agentResponseToWire } from '../protocol/agent-response.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { encodeHandshakeResponse } from '../protocol/handshake.js';
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
import { CLI_EVENT_TYPES, completeEvent, correlationIdOf } from './sample-events.js';

export const CALL_USAGE =
  'zap call <endpoint> [--type request-headers|request-body-chunk|response-headers|response-body-chunk|' +
  'request-complete|websocket-frame|guardrail-inspect|configure] [--event FILE|-] [--timeout MS] ' +
  '[--encoding json|msgpack|prefer-msgpack] [--handshake] [--ca PEM] [--cert PEM --key PEM] [--insecure]\n' +
  '       zap call --reverse-listen <unix:/path|tcp://127.0.0.1:port> (--token T... | --insecure-allow-unauthenticated) ' +
  '[--allow GLOB]... [--wait MS] [--type …] [--event FILE|-] [--timeout MS]';

export async function runCall(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      type: { type: 'string', default: 'request-headers' },
      event: { type: 'string' },
      timeout: { type: 'string', default: '5000' },
      encoding: { type: 'string', default: 'json' },
      handshake: { type: 'boolean', default: false },
      'reverse-listen': { type: 'string' },
      token: { type: 'string', multiple: true },
      'insecure-allow-unauthenticated': { type: 'boolean', default: false },
      allow: { type: 'string', multiple: true },
      wait: { type: 'string' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      insecure: { type: 'boolean', default: false },
    },
  });
  const reverseListen = values['reverse-listen'];
  const endpointText = positionals[0];
  if (reverseListen === undefined ? endpointText === undefined || positionals.length > 1 : positionals.length > 0)
    throw new UsageError(CALL_USAGE);
  const kind = CLI_EVENT_TYPES[values.type];
  if (kind === undefined) throw new UsageError(`unknown --type '${values.type}'\n${CALL_USAGE}`);
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout must be a positive integer`);
  const encoding = values.encoding as EncodingSetting;
  if (!['json', 'msgpack', 'prefer-msgpack'].includes(encoding)) throw new UsageError(`unknown --encoding '${encoding}'`);

  const userEvent = values.event === undefined ? {} : readEvent(values.event);
  const correlationId = correlationIdOf(kind, userEvent) ?? `zap-${randomUUID()}`;
  const wire = completeEvent(kind, userEvent, correlationId);
  const event = jsonCodec.decodeEvent(kind, Buffer.from(JSON.stringify(wire))).event;

  if (reverseListen !== undefined) {
    const waitMs = values.wait === undefined ? undefined : Number(values.wait);
    if (waitMs !== undefined && (!Number.isInteger(waitMs) || waitMs <= 0)) throw new UsageError('--wait must be a positive integer');
    const tokens = values.token ?? [];
    const insecure = values['insecure-allow-unauthenticated'] === true;
    if (tokens.length === 0 && !insecure) {
      throw zapError(
        ErrorCode.InvalidConfig,
        '--reverse-listen: registrations must be authenticated: give --token T (the agent sends it), ' +
          'or --insecure-allow-unauthenticated to accept any agent without a token',
      );
    }
    return callReverse(reverseListen, { kind, event, correlationId, timeoutMs, tokens, insecure, allow: values.allow ?? [], waitMs });
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
    if (useTls) validateGrpcTls(tls, '--ca/--cert/--key');
    connection = await connectGrpcAgent(target, { ...timeouts, ...(useTls ? { tls } : {}) });
  } else if (endpoint.transport === 'uds') {
    connection = await connectUdsAgent(endpoint.path, { ...timeouts, encoding });
  } else {
    throw zapError(ErrorCode.InvalidConfig, `Endpoint '${target}' cannot be called; use --reverse-listen for reverse agents`);
  }
  try {
    if (values.handshake) {
      const hs = connection.handshake;
      if (hs === undefined) throw zapError(ErrorCode.HandshakeFailed, 'no handshake response');
      process.stdout.write(`${encodeHandshakeResponse(hs).toString('utf8')}\n`);
      return 0;
    }
    const response = await connection.send(kind as EventKind, event as never, correlationId, { timeoutMs });
    if (kind === 'configure' && connection.encoding === 'protobuf' && connection.capabilities?.features.configPush !== true) {
      // gRPC Configure to an agent without config_push is fire-and-forget (spec §10.7): the Allow
      // above was made here, not by the agent, so it is not printed as the agent's answer.
      process.stderr.write('zap call: Configure sent; the agent does not announce config_push, so it sends no acknowledgement\n');
      return 0;
    }
    process.stdout.write(`${JSON.stringify(agentResponseToWire(response, correlationId))}\n`);
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
  waitMs: number | undefined;
}

/** Listens (UDS or TCP), waits for the first admitted agent to be ready, sends it the event. */
async function callReverse(listenText: string, c: ReverseCall): Promise<number> {
  const address = parseReverseEndpoint(listenText);
  if (address.kind === 'tcp' && address.tls) throw new UsageError('--reverse-listen: TLS is not supported here; use unix: or tcp://');
  const pool = new AgentPool({ workers: 0 });
  try {
    pool.on('reverse-refused', (agentId, error) =>
      process.stderr.write(
        `zap call: refused agent ${agentId === null ? '(unknown)' : quotedPeerText(agentId)}: ${peerText(error, 512)}\n`,
      ),
    );
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
    const agentId = await (c.waitMs === undefined
      ? ready
      : Promise.race([
          ready,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(zapError(ErrorCode.Timeout, `No agent registered within ${c.waitMs} ms`)), c.waitMs);
          }),
        ]).finally(() => clearTimeout(timer)));
    process.stderr.write(`zap call: agent ${quotedPeerText(agentId)} registered\n`);
    const response = await pool.send(agentId, c.kind, c.correlationId, c.event as never, { timeoutMs: c.timeoutMs });
    process.stdout.write(`${JSON.stringify(agentResponseToWire(response, c.correlationId))}\n`);
    return 0;
  } finally {
    await pool.destroy();
  }
}

function readEvent(source: string): Record<string, unknown> {
  const text = source === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
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
