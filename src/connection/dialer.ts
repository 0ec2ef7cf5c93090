// How a connection actor opens its transport: one dialer per transport (dialer-for.ts picks it
// by endpoint). `connect` brings up the transport (bounded by connect_timeout); `handshake` turns
// it into a ready PoolConnection (handshake + initial Configure).
import type { PoolConnection } from './pool-connection.js';

export interface Dialer {
  connect(): Promise<unknown>;
  handshake(transport: unknown, initialPushId: string): Promise<PoolConnection>;
  /** Releases a transport nobody will use (the connection was closed while it was being set up). */
  dispose(transport: unknown): void;
}
