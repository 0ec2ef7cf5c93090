// What a connection host needs of one live agent connection, whatever the transport: UDS and
// reverse connections (FramedConnection) and gRPC streams implement it alike.
import type { EventEmitter } from 'node:events';
import type { AgentResponse, CancelReason, HandshakeResponse } from '../protocol/types.js';
import type { CallCompletion, CallOptions, FramedConnectionEvents } from './framed-connection.js';

export interface PoolConnection extends EventEmitter<FramedConnectionEvents> {
  readonly agentId: string;
  /** Negotiated payload encoding ('json' / 'msgpack'; gRPC connections say 'protobuf'). */
  readonly encoding: string;
  readonly handshake: HandshakeResponse | undefined;
  readonly closed: boolean;
  readonly inFlight: number;
  /** Resolves true once `inFlight` is 0 (at once when it is): pool-side drain, without polling. */
  whenIdle(): Promise<boolean>;
  /** Frames waiting in the outbound queue, and its bound (buffer utilisation metric). */
  readonly outboundQueued?: number;
  readonly outboundCapacity?: number;
  /** Date.now() of the last inbound bytes, for idle detection (liveness pings). */
  readonly lastInboundAt?: number;
  /** Writes an event already encoded for this connection (see transport/event-encoder.ts). */
  sendFrame(frame: Buffer, correlationId: string, options?: CallOptions): Promise<AgentResponse>;
  /** Callback form for hosts: `done(token, error, response)` exactly once; no promise per call. */
  sendFrameWith(frame: Buffer, correlationId: string, options: CallOptions, token: number, done: CallCompletion): void;
  /** Ends the outstanding call of `correlationId`: withdraws it if unsent, else sends Cancel (not when `silent`). */
  cancel(correlationId: string, reason?: CancelReason, silent?: boolean): boolean;
  ping(timeoutMs?: number): Promise<number>;
  close(): void;
}
