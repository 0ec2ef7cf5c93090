// Proxy side of reverse connections (spec §9): agents dial a Unix socket and/or a TCP (optionally
// TLS) address and register with their first frame. This class accepts, validates in the §9.4 order,
// answers every refusal with `success:false` before closing, and hands admitted sockets to the
// connection host, which turns them into pool connections. It lives on the thread that owns those
// sockets (a connection-host worker, or the calling thread with workers: 0).
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import type { HostReport, ReverseListenerSettings } from '../pool/host-protocol.js';
import { encodeFrame } from '../protocol/frame-encoder.js';
import { MessageType } from '../protocol/message-type.js';
import {
  decodeRegistrationRequest,
  encodeRegistrationResponse,
  formatDuration,
  registrationSuccess,
  validateRegistration,
  type RegistrationPolicy,
} from '../protocol/registration.js';
import type { RegistrationRequest } from '../protocol/types.js';
import { VERSION } from '../version.js';
import type { FirstFrame } from './reverse-first-frame.js';
import { joinHostPort, splitHostPort } from './reverse-endpoint.js';
import { PendingRegistration, writeRefusal } from './reverse-pending-registration.js';
import { removeSocketFile, removeStaleSocketFile } from './socket-file.js';

export interface ReverseListenerHooks {
  report(report: HostReport): void;
  admitted(socket: Socket, leftover: Buffer, registration: RegistrationRequest, connectionId: number): void;
}

const BACKLOG = 128;
/** Connection ids are -(listenerId × ID_SPAN + n), n in 1 … ID_SPAN - 1 (see host-protocol.ts). */
const ID_SPAN = 1_000_000;

export class ReverseListener {
  private readonly servers: Server[] = [];
  private tls: TlsServer | undefined;
  /** TLS sockets in their TLS handshake, by `address|port` of the accepted TCP socket. */
  private readonly tlsPending = new Map<string, PendingRegistration>();
  private readonly pending = new Set<PendingRegistration>();
  /** Live admitted connections per agent id (spec §9.4 step 9). */
  private readonly live = new Map<string, number>();
  private readonly policy: RegistrationPolicy;
  private nextN = 1;
  private boundPath: string | undefined;
  private closed = false;

  constructor(
    readonly listenerId: number,
    readonly settings: ReverseListenerSettings,
    readonly hooks: ReverseListenerHooks,
  ) {
    this.policy = { requireAuth: settings.requireAuth, authTokens: settings.authTokens, allowedAgents: settings.allowedAgents };
  }

  /** Sockets accepted and not yet decided (tests and stats). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Binds the Unix socket and/or the TCP address; resolves with what was bound (the real port). */
  async start(): Promise<{ path?: string; tcpAddress?: string }> {
    const s = this.settings;
    const bound: { path?: string; tcpAddress?: string } = {};
    try {
      if (s.path !== undefined) {
        await removeStaleSocketFile(s.path);
        await this.listen((server) => server.listen({ path: s.path, backlog: BACKLOG }), false, s.path);
        this.boundPath = s.path;
        bound.path = s.path;
      }
      if (s.tcpAddress !== undefined) {
        const { host, port } = splitHostPort(s.tcpAddress);
        if (s.tls !== undefined) this.tls = this.tlsServer(s.tls);
        const server = await this.listen((srv) => srv.listen({ host, port, backlog: BACKLOG }), s.tls !== undefined, s.tcpAddress);
        const address = server.address();
        const realPort = typeof address === 'object' && address !== null ? address.port : port;
        bound.tcpAddress = joinHostPort(host, realPort);
      }
    } catch (err) {
      await this.close();
      throw err instanceof AgentPoolError ? err : zapError(ErrorCode.InvalidConfig, String(err));
    }
    if (this.closed) {
      await this.close(); // close() ran while we were binding: what was bound after it goes too
      throw zapError(ErrorCode.Abort, 'reverse listener closed while starting');
    }
    return bound;
  }

  /** An admitted connection of `agentId` ended: it no longer counts against the per-agent limit. */
  released(agentId: string): void {
    const n = (this.live.get(agentId) ?? 0) - 1;
    if (n > 0) this.live.set(agentId, n);
    else this.live.delete(agentId);
  }

  /** Stops accepting, drops unregistered sockets, removes the socket file. Admitted connections stay with their owner. */
  async close(): Promise<void> {
    this.closed = true;
    // Safe to repeat (start() does, for what it bound after a close). server.close() stops
    // accepting at once; its callback would wait for every accepted socket, so it is not awaited.
    for (const server of this.servers) server.close();
    for (const p of [...this.pending]) p.destroy();
    this.pending.clear();
    this.tlsPending.clear();
    const path = this.boundPath;
    this.boundPath = undefined;
    if (path !== undefined) await removeSocketFile(path);
  }

  // ---------------------------------------------------------------------------------------------

  private listen(bind: (server: Server) => void, tls: boolean, where: string): Promise<Server> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket, tls));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(zapError(ErrorCode.InvalidConfig, `reverse listener cannot listen on ${where}: ${err.message}`)));
      server.once('listening', () => {
        server.removeAllListeners('error');
        server.on('error', () => {}); // accept errors (EMFILE…) must not crash the owning thread
        resolve(server);
      });
      bind(server);
    });
  }

  private tlsServer(tls: NonNullable<ReverseListenerSettings['tls']>): TlsServer {
    const verifyClients = tls.ca !== undefined;
    // Never listens itself: accepted TCP sockets are handed to it, so that our timeout and
    // pending bound cover the TLS handshake too, and Node checks client certificates for us.
    const server = createTlsServer({
      cert: tls.cert,
      key: tls.key,
      ...(verifyClients ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
      handshakeTimeout: this.settings.handshakeTimeoutMs,
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      const key = `${socket.remoteAddress}|${socket.remotePort}`;
      const p = this.tlsPending.get(key);
      this.tlsPending.delete(key);
      if (p === undefined || p.done) socket.destroy();
      else p.attach(socket);
    });
    server.on('tlsClientError', () => {}); // bad or missing client certificate: Node closes the socket
    return server;
  }

  private accept(raw: Socket, tls: boolean): void {
    if (this.closed) {
      raw.destroy();
      return;
    }
    if (this.pending.size >= this.settings.maxPendingHandshakes) {
      const text = `Connection failed: too many pending registrations (${this.settings.maxPendingHandshakes})`;
      // A refusal over TLS would cost the very handshake this bound is there to avoid.
      if (tls) raw.destroy();
      else writeRefusal(raw, text);
      this.refused(null, text);
      return;
    }
    const p = new PendingRegistration(raw, this.settings.handshakeTimeoutMs, {
      frame: (q, frame) => this.decide(q, frame),
      failed: (q, text) => this.refuse(q, null, text),
      timedOut: (q) => this.refuse(q, null, `Timeout after ${formatDuration(this.settings.handshakeTimeoutMs)}`),
      gone: (q) => this.forget(q),
    });
    this.pending.add(p);
    if (this.tls === undefined || !tls) {
      p.attach(raw);
      return;
    }
    const key = `${raw.remoteAddress}|${raw.remotePort}`;
    this.tlsPending.set(key, p);
    raw.once('close', () => {
      if (this.tlsPending.get(key) === p) this.tlsPending.delete(key);
    });
    this.tls.emit('connection', raw);
  }

  /** §9.4 steps 2–9 on a complete first frame. */
  private decide(p: PendingRegistration, frame: FirstFrame): void {
    const verdict = validateRegistration(frame.type, frame.payload, this.policy);
    if (!verdict.ok) {
      this.refuse(p, agentIdOf(frame), verdict.error);
      return;
    }
    const registration = verdict.request;
    const agentId = registration.agentId;
    const max = this.settings.maxConnectionsPerAgent;
    const live = this.live.get(agentId) ?? 0;
    if (live >= max) {
      this.refuse(p, agentId, `Connection failed: Agent ${agentId} already has maximum connections (${max})`);
      return;
    }
    this.forget(p);
    const socket = p.handOver();
    this.live.set(agentId, live + 1);
    const connectionId = -(this.listenerId * ID_SPAN + this.nextN);
    this.nextN = this.nextN + 1 >= ID_SPAN ? 1 : this.nextN + 1;
    try {
      this.hooks.admitted(socket, frame.leftover, registration, connectionId);
    } catch {
      this.released(agentId);
      socket.destroy();
      return;
    }
    // success:true only once admitted (§9.4). The new connection writes nothing before a later
    // tick (its initial Configure), so this reply is the first frame on the socket.
    socket.write(encodeFrame(MessageType.HandshakeResponse, encodeRegistrationResponse(registrationSuccess(agentId, Date.now(), VERSION))));
  }

  private refuse(p: PendingRegistration, agentId: string | null, text: string): void {
    this.forget(p);
    p.refuse(text);
    this.refused(agentId, text);
  }

  private refused(agentId: string | null, text: string): void {
    this.hooks.report({ type: 'reverse-refused', listenerId: this.listenerId, agentId, error: text });
  }

  private forget(p: PendingRegistration): void {
    this.pending.delete(p);
  }
}

/** The agent id of a refused registration, when its payload has one (for reports only). */
function agentIdOf(frame: FirstFrame): string | null {
  if (frame.type !== MessageType.HandshakeRequest) return null;
  try {
    const id = decodeRegistrationRequest(frame.payload).agentId;
    return id === '' ? null : id;
  } catch {
    return null;
  }
}
