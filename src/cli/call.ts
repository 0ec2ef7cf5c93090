// `zap call <endpoint>`: connect, handshake, send one event, print the reply as one line of
// wire-form JSON. Exit 0 on a reply; otherwise one `CODE: message` line on stderr.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { agentResponseToWire } from '../protocol/agent-response.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { encodeHandshakeResponse } from '../protocol/handshake.js';
import { jsonCodec } from '../protocol/payload-codec.js';
import type { EncodingSetting, EventKind } from '../protocol/types.js';
import { connectUdsAgent } from '../connection/uds-agent-client.js';
import { parseEndpoint } from '../transport/endpoint.js';
import { UsageError } from './cli-error.js';
import { CLI_EVENT_TYPES, completeEvent, correlationIdOf } from './sample-events.js';

export const CALL_USAGE =
  'zap call <endpoint> [--type request-headers|request-body-chunk|response-headers|response-body-chunk|' +
  'request-complete|websocket-frame|guardrail-inspect|configure] [--event FILE|-] [--timeout MS] ' +
  '[--encoding json|msgpack|prefer-msgpack] [--handshake]';

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
    },
  });
  const endpointText = positionals[0];
  if (endpointText === undefined || positionals.length > 1) throw new UsageError(CALL_USAGE);
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

  const endpoint = parseEndpoint(endpointText);
  if (endpoint.transport !== 'uds') {
    throw zapError(ErrorCode.InvalidConfig, `Endpoint '${endpointText}' is gRPC; this build speaks UDS only`);
  }
  const connection = await connectUdsAgent(endpoint.path, {
    agentId: endpointText,
    encoding,
    connectTimeoutMs: timeoutMs,
    handshakeTimeoutMs: timeoutMs,
    requestTimeoutMs: timeoutMs,
  });
  try {
    if (values.handshake) {
      const hs = connection.handshake;
      if (hs === undefined) throw zapError(ErrorCode.HandshakeFailed, 'no handshake response');
      process.stdout.write(`${encodeHandshakeResponse(hs).toString('utf8')}\n`);
      return 0;
    }
    const response = await connection.send(kind as EventKind, event as never, correlationId, { timeoutMs });
    process.stdout.write(`${JSON.stringify(agentResponseToWire(response, correlationId))}\n`);
    return 0;
  } finally {
    connection.close();
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
