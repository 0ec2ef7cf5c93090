// gRPC dialer (spec §8.4): connect = the channel's own HTTP/2 connection READY within
// connect_timeout; handshake = ProcessStream opened, handshake, initial Configure.
import type * as grpc from '@grpc/grpc-js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { OpenConnectionCommand } from '../contract/host-messages.js';
import { openGrpcChannel } from '../transport/grpc-channel.js';
import { DEFAULT_GRPC_CHANNEL_SETTINGS } from '../transport/grpc-settings.js';
import { VERSION } from '../version.js';
import type { Dialer } from './dialer.js';
import { startGrpcConnection } from './grpc-agent-client.js';
import type { GrpcConnection } from './grpc-connection.js';

export class GrpcDialer implements Dialer {
  constructor(private readonly command: OpenConnectionCommand) {}

  private get settings() {
    return this.command.grpc ?? DEFAULT_GRPC_CHANNEL_SETTINGS;
  }

  connect(): Promise<grpc.Client> {
    const { endpoint, agentId, connectTimeoutMs } = this.command;
    if (endpoint.transport !== 'grpc')
      return Promise.reject(zapError(ErrorCode.ConnectFailed, 'gRPC dialer needs a gRPC endpoint', { agentId }));
    return openGrpcChannel(endpoint.address, endpoint.tls, this.settings, connectTimeoutMs, agentId);
  }

  dispose(transport: unknown): void {
    (transport as grpc.Client).close();
  }

  handshake(transport: unknown, initialPushId: string): Promise<GrpcConnection> {
    const c = this.command;
    return startGrpcConnection(transport as grpc.Client, {
      agentId: c.agentId,
      requestTimeoutMs: c.requestTimeoutMs,
      channelBufferSize: c.channelBufferSize,
      maxSendBytes: this.settings.maxSendBytes,
      handshakeTimeoutMs: c.handshakeTimeoutMs,
      config: c.config,
      initialPushId,
      proxyVersion: VERSION,
    });
  }
}
