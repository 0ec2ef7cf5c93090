// How a connection actor opens its transport: one dialer per transport, chosen by endpoint.
// `connect` brings up the transport (bounded by connect_timeout); `handshake` turns it into a
// ready PoolConnection (handshake + initial Configure).
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { OpenConnectionCommand } from '../pool/host-protocol.js';
import type { PoolConnection } from './pool-connection.js';
import { GrpcDialer } from './grpc-dialer.js';
import { UdsDialer } from './uds-dialer.js';

export interface Dialer {
  connect(): Promise<unknown>;
  handshake(transport: unknown, initialPushId: string): Promise<PoolConnection>;
  /** Releases a transport nobody will use (the connection was closed while it was being set up). */
  dispose(transport: unknown): void;
}

type DialerFactory = (command: OpenConnectionCommand) => Dialer;

const factories: Partial<Record<OpenConnectionCommand['endpoint']['transport'], DialerFactory>> = {
  uds: (command) => new UdsDialer(command),
  grpc: (command) => new GrpcDialer(command),
};

/** Lets a transport module plug its dialer in (keeps connection/ free of transport imports). */
export function registerDialer(transport: OpenConnectionCommand['endpoint']['transport'], factory: DialerFactory): void {
  factories[transport] = factory;
}

export function dialerFor(command: OpenConnectionCommand): Dialer {
  const factory = factories[command.endpoint.transport];
  if (factory === undefined) {
    throw zapError(ErrorCode.ConnectFailed, `No dialer for transport '${command.endpoint.transport}'`, { agentId: command.agentId });
  }
  return factory(command);
}
