// What a reverse listener is told by the pool (spec §9, §13.2): its settings, and how each agent id
// is declared. The pool's host contract carries both to the thread that runs the listener.
import type { AuthToken } from '../protocol/registration.js';

/** Reverse listener settings (spec §9, §13.2), as the host that runs the listener needs them. */
export interface ReverseListenerSettings {
  /** Unix socket path (a dead socket there is removed before binding; ours is removed on close). */
  path?: string;
  /** Permission bits of the Unix socket file. */
  socketMode: number;
  /** `host:port` for TCP (port 0 = any free port; the bound address is reported). */
  tcpAddress?: string;
  /** TLS for the TCP listener: PEM text. With `ca`, client certificates are required and verified. */
  tls?: { cert: string; key: string; ca?: string };
  handshakeTimeoutMs: number;
  maxConnectionsPerAgent: number;
  /** False only with the explicit opt-out `insecureAllowUnauthenticated` (checked in reverse-settings.ts). */
  requireAuth: boolean;
  authTokens: AuthToken[];
  allowedAgents: string[];
  /** Bound on the registration frame's announced length N; a larger announcement is refused at once. */
  maxRegistrationBytes: number;
  /** Sockets accepted but not yet registered (or still being refused), at most; further ones are closed at once. */
  maxPendingHandshakes: number;
  /** Registrations of ids not declared with a `reverse` endpoint are admitted (entries created on the fly). */
  allowUndeclaredAgents: boolean;
  /** Undeclared agent ids with live connections on this listener, at most. */
  maxUndeclaredAgents: number;
  /** Settings for the FramedConnection of each admitted socket. */
  requestTimeoutMs: number;
  channelBufferSize: number;
}

/** `forward`: UDS or gRPC endpoint, never joined by registrations; `reverse`: declared `reverse://`. */
export type AgentDeclaration = 'forward' | 'reverse';
