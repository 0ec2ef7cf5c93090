// The dialer of a proxy-dialled endpoint. Reverse connections are accepted, never dialled: their
// actor is given an AcceptedDialer by the host that accepted the socket.
import type { OpenConnectionCommand } from '../contract/host-messages.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { Dialer } from './dialer.js';
import type { PoolConnection } from './pool-connection.js';
import { UdsDialer } from './uds-dialer.js';

export function dialerFor(command: OpenConnectionCommand): Dialer {
  switch (command.endpoint.transport) {
    case 'uds':
      return new UdsDialer(command);
    case 'grpc':
      return new LazyGrpcDialer(command);
    default:
      throw zapError(ErrorCode.ConnectFailed, `No dialer for transport '${command.endpoint.transport}'`, { agentId: command.agentId });
  }
}

/**
 * Loads the gRPC stack (grpc-js, proto-loader, protobufjs: ~25 MB) on the first gRPC connection,
 * so that importing the package and running UDS-only pools never pays for it. Later dials reuse
 * the loaded module; connect() is seconds-scale anyway, so one dynamic import is not on a hot path.
 */
class LazyGrpcDialer implements Dialer {
  private dialer: Dialer | undefined;

  constructor(private readonly command: OpenConnectionCommand) {}

  async connect(): Promise<unknown> {
    return (await this.load()).connect();
  }

  async handshake(transport: unknown, initialPushId: string): Promise<PoolConnection> {
    return (await this.load()).handshake(transport, initialPushId);
  }

  dispose(transport: unknown): void {
    // A transport exists only after connect(), which loaded the dialer.
    this.dialer?.dispose(transport);
  }

  private async load(): Promise<Dialer> {
    if (this.dialer === undefined) {
      const { GrpcDialer } = await import('./grpc-dialer.js');
      this.dialer ??= new GrpcDialer(this.command);
    }
    return this.dialer;
  }
}
