// One proxy-side gRPC connection, ready to use (spec §8.4): channel ready within connect_timeout,
// ProcessStream handshake within handshake_timeout, then the initial Configure when the agent has
// a config (§10.7 gRPC rules). The pool's GrpcDialer runs the same steps; `zap call` uses this.
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { parseEndpoint } from '../transport/endpoint.js';
import { openGrpcChannel } from '../transport/grpc-channel.js';
import { DEFAULT_GRPC_CHANNEL_SETTINGS, type GrpcChannelSettings, type GrpcTlsOptions } from '../transport/grpc-settings.js';
import { VERSION } from '../version.js';
import { GrpcConnection } from './grpc-connection.js';
import { sendInitialConfigure } from './initial-configure.js';

export interface GrpcAgentClientOptions {
  agentId?: string;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  requestTimeoutMs?: number;
  channelBufferSize?: number;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  maxSendBytes?: number;
  maxReceiveBytes?: number;
  /** TLS material (PEM text or file paths); given = TLS even for http:// and host:port. */
  tls?: GrpcTlsOptions;
  /** The agent's configuration: `config_json` of the handshake and the initial Configure. */
  config?: unknown;
  /** Push id of the initial Configure (`config_version` on the wire; default `push-1`). */
  initialPushId?: string;
  proxyVersion?: string;
}

/** `endpoint`: http://, grpc://, https:// or bare host:port (spec §10.13). */
export async function connectGrpcAgent(endpoint: string, options: GrpcAgentClientOptions = {}): Promise<GrpcConnection> {
  const parsed = parseEndpoint(endpoint, { tls: options.tls !== undefined });
  if (parsed.transport !== 'grpc') throw zapError(ErrorCode.InvalidConfig, `'${endpoint}' is not a gRPC endpoint`);
  const d = DEFAULT_GRPC_CHANNEL_SETTINGS;
  const settings: GrpcChannelSettings = {
    keepaliveTimeMs: options.keepaliveTimeMs ?? d.keepaliveTimeMs,
    keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? d.keepaliveTimeoutMs,
    maxSendBytes: options.maxSendBytes ?? d.maxSendBytes,
    maxReceiveBytes: options.maxReceiveBytes ?? d.maxReceiveBytes,
    tls: options.tls ?? null,
  };
  const agentId = options.agentId ?? endpoint;
  const client = await openGrpcChannel(parsed.address, parsed.tls, settings, options.connectTimeoutMs ?? 5_000, agentId);
  return startGrpcConnection(client, {
    agentId,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    channelBufferSize: options.channelBufferSize ?? 64,
    maxSendBytes: settings.maxSendBytes,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    config: options.config ?? null,
    initialPushId: options.initialPushId ?? 'push-1',
    proxyVersion: options.proxyVersion ?? VERSION,
  });
}

export interface StartGrpcConnectionOptions {
  agentId: string;
  requestTimeoutMs: number;
  channelBufferSize: number;
  maxSendBytes: number;
  handshakeTimeoutMs: number;
  config: unknown;
  initialPushId: string;
  proxyVersion: string;
}

/** Opens ProcessStream on a ready channel: handshake, then the initial Configure (if any config). */
export async function startGrpcConnection(client: grpc.Client, o: StartGrpcConnectionOptions): Promise<GrpcConnection> {
  const connection = new GrpcConnection(client, {
    agentId: o.agentId,
    requestTimeoutMs: o.requestTimeoutMs,
    channelBufferSize: o.channelBufferSize,
    maxSendBytes: o.maxSendBytes,
  });
  await connection.performHandshake({ proxyVersion: o.proxyVersion, config: o.config, handshakeTimeoutMs: o.handshakeTimeoutMs });
  if (o.config !== null && o.config !== undefined) await sendInitialConfigure(connection, o.config, o.initialPushId);
  return connection;
}
