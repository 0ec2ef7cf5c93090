// One proxy-side UDS connection, ready to use: connect (connect_timeout), handshake
// (handshake_timeout, encoding negotiation), then the initial Configure when the agent has a
// config (spec §5.1, §10.7). The pool builds its connections with this; `zap call` uses it alone.
import type { EncodingSetting } from '../protocol/types.js';
import { connectUds } from '../transport/uds.js';
import { VERSION } from '../version.js';
import { FramedConnection } from './framed-connection.js';
import { sendInitialConfigure } from './initial-configure.js';

export interface UdsAgentClientOptions {
  agentId?: string;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  requestTimeoutMs?: number;
  channelBufferSize?: number;
  encoding?: EncodingSetting;
  /** The agent's configuration: sent in the handshake and as the initial Configure. */
  config?: unknown;
  /** Push id of the initial Configure (the pool numbers pushes; alone, `push-1`). */
  initialPushId?: string;
  proxyVersion?: string;
}

export async function connectUdsAgent(path: string, options: UdsAgentClientOptions = {}): Promise<FramedConnection> {
  const agentId = options.agentId ?? path;
  const socket = await connectUds(path, options.connectTimeoutMs ?? 5_000, agentId);
  const connection = new FramedConnection(socket, {
    agentId,
    transport: 'uds',
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    channelBufferSize: options.channelBufferSize ?? 64,
  });
  const config = options.config ?? null;
  await connection.performHandshake({
    proxyVersion: options.proxyVersion ?? VERSION,
    config,
    encoding: options.encoding ?? 'json',
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
  });
  if (config !== null) await sendInitialConfigure(connection, config, options.initialPushId ?? 'push-1');
  return connection;
}
