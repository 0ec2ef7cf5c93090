// Proxy side of reverse connections (spec §9): agents dial a Unix socket and/or a TCP (optionally
// TLS) address and register with their first frame. This class accepts, validates in the §9.4 order,
// answers every refusal with `success:false` before closing, and hands admitted sockets to the
// connection host, which turns them into pool connections. It lives on the thread that owns those
// sockets (a connection-host worker, or the calling thread with workers: 0).
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import { peerText, quotedPeerText } from '../protocol/peer-text.js';
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
import { PendingRegistration } from './reverse-pending-registration.js';
import type { AgentDeclaration, ReverseListenerSettings } from './reverse-listener-settings.js';
import { listenOnSocketFile, type BoundSocketFile } from './socket-file.js';
import { performance } from 'node:perf_hooks';

export interface ReverseListenerHooks {
  /** A registration was refused; `error` is the text sent to the agent (spec §9.4). */
  refused(agentId: string | null, error: string): void;
  /** How the pool declares `agentId` (undefined: not declared). */
  declaration(agentId: string): AgentDeclaration | undefined;
  admitted(socket: Socket, leftover: Buffer, registration: RegistrationRequest, connectionId: number): void;
}

const BACKLOG = 128;
/** Connection ids are -(listenerId × ID_SPAN + n), n in 1 … ID_SPAN - 1 (see contract/host-messages.ts). */
const ID_SPAN = 1_000_000;
/** Sockets closed over the pending bound are reported at most this often (a flood must not flood the log). */
const DROP_REPORT_MS = 1_000;

export class ReverseListener {
  private readonly servers: Server[] = [];
  private tls: TlsServer | undefined;
  /** TLS sockets in their TLS handshake, by `address|port` of the accepted TCP socket. */
  private readonly tlsPending = new Map<string, PendingRegistration>();
  private readonly pending = new Set<PendingRegistration>();
  /** Refused sockets still reading out their grace period; they count against maxPendingHandshakes. */
  private refusing = 0;
  /** Sockets closed over the pending bound since the last report, and when that report went out. */
  private dropped = 0;
  private lastDropReport = -Infinity;
  private dropTimer: NodeJS.Timeout | undefined;
  /** Live admitted connections per agent id (spec §9.4 step 9). */
  private readonly live = new Map<string, number>();
  private readonly policy: RegistrationPolicy;
  private nextN = 1;
  private socketFile: BoundSocketFile | undefined;
  private closed = false;

  constructor(
    readonly listenerId: number,
    readonly settings: ReverseListenerSettings,
    readonly hooks: ReverseListenerHooks,
  ) {
    this.policy = { requireAuth: settings.requireAuth, authTokens: settings.authTokens, allowedAgents: settings.allowedAgents };
  }

  /** Sockets accepted and not yet decided, plus refused ones not closed yet (tests and stats). */
  get pendingCount(): number {
    return this.pending.size + this.refusing;
  }

  /** Binds the Unix socket and/or the TCP address; resolves with what was bound (the real port). */
  async start(): Promise<{ path?: string; tcpAddress?: string }> {
    const s = this.settings;
    const bound: { path?: string; tcpAddress?: string } = {};
    try {
      if (s.path !== undefined) {
        // Bound with its final mode and removed only while it is still ours (socket-file.ts).
        this.socketFile = await listenOnSocketFile(this.acceptServer(false), s.path, { mode: s.socketMode, backlog: BACKLOG });
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
    clearTimeout(this.dropTimer);
    // Safe to repeat (start() does, for what it bound after a close). server.close() stops
    // accepting at once; its callback would wait for every accepted socket, so it is not awaited.
    for (const server of this.servers) server.close();
    for (const p of [...this.pending]) p.destroy();
    this.pending.clear();
    this.tlsPending.clear();
    const file = this.socketFile;
    this.socketFile = undefined;
    await file?.remove();
  }

  // ---------------------------------------------------------------------------------------------

  private acceptServer(tls: boolean): Server {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket, tls));
    this.servers.push(server);
    return server;
  }

  private listen(bind: (server: Server) => void, tls: boolean, where: string): Promise<Server> {
    const server = this.acceptServer(tls);
    return new Promise((resolve, reject) => {
      server.once('error', (err) =>
        reject(zapError(ErrorCode.InvalidConfig, `reverse listener cannot listen on ${where}: ${err.message}`)),
      );
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
    if (this.pendingCount >= this.settings.maxPendingHandshakes) {
      // Closed at once, without a word: a refusal would hold the socket (and, over TLS, cost the
      // very handshake this bound is there to avoid). Counted, and reported at most once a second.
      raw.destroy();
      this.dropped++;
      this.reportDropped();
      return;
    }
    const p = new PendingRegistration(raw, this.settings.handshakeTimeoutMs, this.settings.maxRegistrationBytes, {
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

  /** §9.4 steps 2–9 on a complete first frame, with our entry rules (§9.5) before step 9. */
  private decide(p: PendingRegistration, frame: FirstFrame): void {
    const verdict = validateRegistration(frame.type, frame.payload, this.policy);
    if (!verdict.ok) {
      this.refuse(p, agentIdOf(frame), verdict.error);
      return;
    }
    const registration = verdict.request;
    const agentId = registration.agentId;
    const entryRefusal = this.entryRefusal(agentId);
    if (entryRefusal !== undefined) {
      this.refuse(p, agentId, entryRefusal);
      return;
    }
    const max = this.settings.maxConnectionsPerAgent;
    const live = this.live.get(agentId) ?? 0;
    if (live >= max) {
      this.refuse(p, agentId, `Connection failed: Agent ${peerText(agentId)} already has maximum connections (${max})`);
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

  /**
   * Which pool entry a registration may join (§9.5, ours): never one declared with a forward
   * endpoint; an undeclared id only with allowUndeclaredAgents, and only while fewer than
   * maxUndeclaredAgents undeclared ids hold connections here. The id is valid (§9.4) by now.
   */
  private entryRefusal(agentId: string): string | undefined {
    const declared = this.hooks.declaration(agentId);
    if (declared === 'reverse') return undefined;
    if (declared === 'forward') return `Connection failed: Agent ${quotedPeerText(agentId)} is declared with a forward endpoint`;
    if (!this.settings.allowUndeclaredAgents)
      return `Connection failed: Agent ${quotedPeerText(agentId)} is not declared as a reverse agent`;
    if (this.live.has(agentId)) return undefined;
    let undeclared = 0;
    for (const id of this.live.keys()) if (this.hooks.declaration(id) === undefined) undeclared++;
    const cap = this.settings.maxUndeclaredAgents;
    return undeclared >= cap ? `Connection failed: too many undeclared agents (${cap})` : undefined;
  }

  private refuse(p: PendingRegistration, agentId: string | null, text: string): void {
    this.forget(p);
    // Until the refused socket is closed it still holds memory: it stays counted as pending.
    this.refusing++;
    p.refuse(text, () => this.refusing--);
    this.refused(agentId, text);
  }

  private refused(agentId: string | null, text: string): void {
    this.hooks.refused(agentId, text);
  }

  private reportDropped(): void {
    if (this.dropTimer !== undefined) return;
    const wait = this.lastDropReport + DROP_REPORT_MS - performance.now();
    if (wait <= 0) {
      this.flushDropped();
      return;
    }
    this.dropTimer = setTimeout(() => {
      this.dropTimer = undefined;
      this.flushDropped();
    }, wait);
    this.dropTimer.unref();
  }

  private flushDropped(): void {
    if (this.dropped === 0) return;
    const n = this.dropped;
    this.dropped = 0;
    this.lastDropReport = performance.now();
    const max = this.settings.maxPendingHandshakes;
    this.refused(null, `Connection failed: too many pending registrations (${max}); ${n} socket${n === 1 ? '' : 's'} closed`);
  }

  private forget(p: PendingRegistration): void {
    this.pending.delete(p);
  }
}

/** The agent id of a refused registration, when its payload has one (for reports only; escaped, bounded). */
function agentIdOf(frame: FirstFrame): string | null {
  if (frame.type !== MessageType.HandshakeRequest) return null;
  try {
    const id = decodeRegistrationRequest(frame.payload).agentId;
    return id === '' ? null : peerText(id);
  } catch {
    return null;
  }
}
