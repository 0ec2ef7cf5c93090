// A WebSocket upgrade relayed to the upstream with every frame, both directions, shown to the agents
// that subscribe to `websocket_frame` (spec §6.6, §6.9.8, §10.2). `ws` parses and writes the frames
// on both legs; this file wires the legs, the ordered frame pump and the agents together, and owns
// the end of the request: outstanding calls cancelled, `done` (→ endRequest) called exactly once.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { peerText } from '../protocol/peer-text.js';
import type { WebSocketFrameEvent, WebSocketOpcode } from '../protocol/types.js';
import type { EngineLog, EnginePool } from './engine-types.js';
import type { HttpRoute, RouteAgent } from './route.js';
import type { HttpUpstream } from './upstream.js';
import { closeCodeOfFrameError, isSendableCloseCode } from './websocket-close.js';
import { inspectFrame } from './websocket-frame-inspector.js';
import { FramePump, type FrameCounts, type FrameSource, type FrameVerdict, type QueuedFrame } from './websocket-frame-pump.js';
import { upstreamHandshakeHeaders, upstreamWebSocketUrl } from './websocket-upstream.js';

export type { FrameCounts } from './websocket-frame-pump.js';

/** Default largest message accepted from either side (ws closes the sender's leg with 1009 above it). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** Default frames queued per direction before that side's socket is paused. */
export const DEFAULT_MAX_QUEUED_FRAMES = 16;
/** Bytes written but unsent on a leg above which the relay waits for them to drain. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const DEFAULT_UPSTREAM_TIMEOUT_MS = 10_000;

/** Everything the relay needs for one upgraded request; the request headers phase has already run. */
export interface WebSocketRelayContext {
  pool: EnginePool;
  /** The route's agents subscribed to `websocket_frame`, in configured order (may be empty). */
  agents: readonly RouteAgent[];
  route: HttpRoute;
  /** Correlation id of the upgrade request; frames carry it. */
  cid: string;
  clientIp: string;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  upstream: HttpUpstream;
  /**
   * Headers for the upstream upgrade request, with agent header ops, hop-by-hop removal and
   * x-forwarded-* applied; the relay sets `upgrade` and `connection` itself.
   */
  upstreamHeaders: OutgoingHttpHeaders;
  /** The engine's log (peer text must be escaped before it goes in). */
  log: EngineLog;
  /**
   * Called exactly once when the relay is over, with why (null for a close by a peer) and the status
   * the client got: 101 once upgraded, else the refusal written (400, 502) or 499 for a client that
   * went away before. The engine sends request_complete and ends the request in the pool.
   */
  done: (error: string | null, status: number) => void;
  /** Largest message accepted from either side, in bytes (default 1 MiB); a larger one closes that leg with 1009. */
  maxFrameBytes?: number;
  /** Frames queued per direction before that side's socket is paused (default 16). */
  maxQueuedFrames?: number;
  /** Time the upstream has to complete its handshake, in ms (default 10 000); then the client gets 502. */
  upstreamTimeoutMs?: number;
  /** Called once with how the connection ended (logs, metrics), right after `done`. */
  onEnd?: (result: WebSocketRelayResult) => void;
}

/** Who ended a relayed connection. */
export type WebSocketEndedBy = 'client' | 'upstream' | 'agent' | 'agent-failure' | 'upstream-refused';

/** How a relayed connection ended. */
export interface WebSocketRelayResult {
  endedBy: WebSocketEndedBy;
  /** The close code that ended it; null when there was none (a leg that went away, a refused upstream). */
  code: number | null;
  /** The close reason, escaped for logging (peer text). */
  reason: string;
  /** The agent whose decision or failure closed the connection. */
  agentId?: string;
  /** Counts when both legs are closed. */
  frames: FrameCounts;
}

/**
 * Relays one upgraded request (the engine's `upgrade(req, socket, head)` hands it over once the
 * request headers went through the agents and were allowed) to its upstream, and shows every frame
 * to `ctx.agents`.
 *
 * - The upstream handshake runs first, to `ctx.upstream.origin` with the request's path; when it
 *   fails the client gets `502 Bad Gateway` and no upgrade. The client is then upgraded with the
 *   subprotocol the upstream chose.
 * - Messages (text, binary) and pings/pongs of both directions go through one ordered queue: each
 *   is sent to the agents one after another (the first non-allow wins) and answered before the next
 *   is looked at. `ws` reassembles fragmented messages, so an agent sees each message as one frame
 *   with `fin` true; `frame_index` counts per direction from 0. Each call has the agent's `timeoutMs`.
 * - Decisions (§6.9.8): allow (or none) forwards the frame, drop discards it, close closes both
 *   sides with the agent's code and reason (an unsendable code becomes 1008, the reason is cut to
 *   123 bytes). An agent that fails with `failureMode: 'closed'` closes both sides with 1011
 *   "Service unavailable" (1009 for a frame too large for it); with `'open'` it is skipped.
 * - Bounded: a message over `maxFrameBytes` closes the sender's leg (1009); at `maxQueuedFrames`
 *   queued frames from one side that side's socket is paused; once 1 MiB waits unsent for a leg
 *   that does not read, the queue waits for it.
 * - A close from either side closes the other with the same code and reason, discards queued frames
 *   and cancels the outstanding agent call (Cancel reason `client_disconnect` or `upstream_error`).
 *   `ctx.done` is called exactly once, when the connection ends (null for a close by a peer, else why).
 */
export function relayWebSocket(ctx: WebSocketRelayContext): void {
  // Anything but a WebSocket handshake (h2c, a bad key) is refused before the upstream is dialled.
  if (!isWebSocketHandshake(ctx.req)) {
    answer(ctx.socket, '400 Bad Request');
    ctx.done('not a websocket upgrade', 400);
    ctx.onEnd?.({ endedBy: 'client', code: null, reason: 'not a websocket upgrade', frames: emptyCounts() });
    return;
  }
  new WebSocketRelay(ctx);
}

/** Every check the client-side `ws` upgrade makes, so that a refusal is ours (400) before the upstream is dialled. */
function isWebSocketHandshake(req: IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  return (
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    typeof key === 'string' &&
    /^[+/0-9A-Za-z]{22}==$/.test(key.trim()) &&
    (version === '13' || version === '8') &&
    validProtocols(offeredProtocols(req))
  );
}

/** RFC 6455 §4.1: subprotocols are distinct tokens (the upstream client throws on anything else). */
function validProtocols(protocols: string[]): boolean {
  return protocols.every((p) => TOKEN.test(p)) && new Set(protocols).size === protocols.length;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function emptyCounts(): FrameCounts {
  return { forwardedClientToServer: 0, forwardedServerToClient: 0, dropped: 0, discarded: 0 };
}

class WebSocketRelay {
  /** Aborted when a peer closes: cancels the agent call in flight, its reason is the Cancel reason. */
  private readonly cancel = new AbortController();
  private readonly pump: FramePump;
  private readonly upstream: WebSocket;
  private client: WebSocket | undefined;
  private ended: Omit<WebSocketRelayResult, 'frames'> | undefined;
  private openLegs = 2;
  private finished = false;
  private readonly refusedCode: Record<FrameSource, number | undefined> = { client: undefined, upstream: undefined };
  private readonly maxFrameBytes: number;

  constructor(private readonly ctx: WebSocketRelayContext) {
    this.maxFrameBytes = ctx.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.pump = new FramePump(
      {
        inspect: (frame, index) => this.inspect(frame, index),
        forward: (frame) => this.forward(frame),
        close: (verdict) => this.closedByAgent(verdict),
        pause: (source) => this.leg(source)?.pause(),
        resume: (source) => this.leg(source)?.resume(),
      },
      ctx.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES,
    );
    const url = upstreamWebSocketUrl(ctx.upstream.origin, ctx.req.url);
    this.upstream = new WebSocket(url, offeredProtocols(ctx.req), {
      headers: upstreamHandshakeHeaders(ctx.upstreamHeaders),
      maxPayload: this.maxFrameBytes,
      perMessageDeflate: false,
      autoPong: false,
      followRedirects: false,
      handshakeTimeout: ctx.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    });
    // Until the client is upgraded, its raw socket going away ends everything. Wired once the upstream
    // socket exists: end() terminates it, so a constructor that throws must not leave this behind.
    ctx.socket.on('error', () => {});
    ctx.socket.once('close', () => {
      if (this.client === undefined) this.end({ endedBy: 'client', code: null, reason: 'client went away before the upgrade' });
    });
    this.upstream.once('open', () => this.upgradeClient());
    this.upstream.on('error', (error) => this.legFailed('upstream', error));
    this.upstream.once('close', (code, reason) => this.legClosed('upstream', code, reason));
    this.wire(this.upstream, 'upstream');
  }

  private upgradeClient(): void {
    if (this.ended !== undefined) return;
    const chosen = this.upstream.protocol;
    const server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.maxFrameBytes,
      perMessageDeflate: false,
      autoPong: false,
      handleProtocols: (offered) => (chosen !== '' && offered.has(chosen) ? chosen : false),
    });
    // A request ws finds invalid is answered 400 and its socket destroyed: the 'close' above ends it.
    server.handleUpgrade(this.ctx.req, this.ctx.socket, this.ctx.head, (client) => {
      this.client = client;
      if (this.ended !== undefined) {
        client.terminate();
        return;
      }
      client.on('error', (error) => this.legFailed('client', error));
      client.once('close', (code, reason) => this.legClosed('client', code, reason));
      this.wire(client, 'client');
    });
  }

  private wire(ws: WebSocket, source: FrameSource): void {
    const push = (opcode: WebSocketOpcode, data: Buffer) => this.pump.push({ source, opcode, data, fin: true });
    ws.on('message', (data: RawData, isBinary: boolean) => push(isBinary ? 'binary' : 'text', toBuffer(data)));
    ws.on('ping', (data: Buffer) => push('ping', data));
    ws.on('pong', (data: Buffer) => push('pong', data));
  }

  private leg(source: FrameSource): WebSocket | undefined {
    return source === 'client' ? this.client : this.upstream;
  }

  private inspect(frame: QueuedFrame, index: number): Promise<FrameVerdict> {
    const { agents, cid, route, clientIp, pool } = this.ctx;
    if (agents.length === 0) return Promise.resolve({ type: 'forward' });
    const event: WebSocketFrameEvent = {
      correlationId: cid,
      opcode: frame.opcode,
      data: frame.data,
      clientToServer: frame.source === 'client',
      frameIndex: index,
      fin: frame.fin,
      routeId: route.id,
      clientIp,
    };
    return inspectFrame(pool, agents, event, this.cancel.signal);
  }

  private forward(frame: QueuedFrame): Promise<void> {
    const target = this.leg(frame.source === 'client' ? 'upstream' : 'client');
    if (target === undefined || target.readyState !== WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      const sent = () => resolve();
      if (frame.opcode === 'ping') target.ping(frame.data, undefined, sent);
      else if (frame.opcode === 'pong') target.pong(frame.data, undefined, sent);
      else target.send(frame.data, { binary: frame.opcode === 'binary' }, sent);
      // Only a leg that is not reading holds the queue up; otherwise the next frame goes at once.
      if (target.bufferedAmount <= MAX_BUFFERED_BYTES) resolve();
    });
  }

  private closedByAgent(verdict: Extract<FrameVerdict, { type: 'close' }>): void {
    this.end({
      endedBy: verdict.failed ? 'agent-failure' : 'agent',
      code: verdict.code,
      reason: peerText(verdict.reason),
      agentId: verdict.agentId,
    });
    this.client?.close(verdict.code, verdict.reason);
    this.upstream.close(verdict.code, verdict.reason);
  }

  /** An error on a leg is always followed by its 'close'; a refused frame decides that close's code. */
  private legFailed(source: FrameSource, error: unknown): void {
    this.refusedCode[source] ??= closeCodeOfFrameError(error);
  }

  private legClosed(source: FrameSource, closeCode: number, reason: Buffer): void {
    this.openLegs--;
    if (this.ended === undefined) {
      // ws closed a leg whose frames it refused (too big, bad UTF-8…): the peer never sent a close
      // frame (1006), but the other leg is told why.
      const refused = this.refusedCode[source];
      const code = closeCode === 1006 && refused !== undefined ? refused : closeCode;
      const text = code === closeCode ? reason.toString() : 'frame refused by the gateway';
      this.end(
        source === 'upstream' && this.client === undefined
          ? { endedBy: 'upstream-refused', code: null, reason: 'upstream handshake failed' }
          : { endedBy: source, code, reason: peerText(text) },
      );
      const other = source === 'client' ? this.upstream : this.client;
      if (other === undefined) {
        this.ctx.log('warn', `route ${peerText(this.ctx.route.id)}: the upstream refused the WebSocket handshake`);
        answer(this.ctx.socket, '502 Bad Gateway');
      } else if (isSendableCloseCode(code)) other.close(code, text);
      else other.close();
    }
    if (this.client === undefined || this.openLegs === 0) this.finish();
  }

  /** The connection's end: once, whoever comes first. Cancels what is outstanding, then `done`. */
  private end(how: Omit<WebSocketRelayResult, 'frames'>): void {
    if (this.ended !== undefined) return;
    this.ended = how;
    this.pump.stop();
    if (how.endedBy === 'client') this.cancel.abort('client_disconnect');
    else if (how.endedBy === 'upstream' || how.endedBy === 'upstream-refused') this.cancel.abort('upstream_error');
    this.ctx.done(doneError(how), this.client !== undefined ? 101 : how.endedBy === 'upstream-refused' ? 502 : 499);
    if (how.endedBy === 'client' && this.client === undefined) this.upstream.terminate();
  }

  /** Both legs closed (or the client never upgraded): the counts are final. */
  private finish(): void {
    if (this.ended === undefined || this.finished) return;
    this.finished = true;
    this.ctx.onEnd?.({ ...this.ended, frames: { ...this.pump.counts } });
  }
}

function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  if (header === undefined) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** A plain HTTP answer on a socket that was never upgraded, then the socket closed. */
function answer(socket: Duplex, status: string): void {
  if (socket.destroyed) return;
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}

/** What `done` is told: null for a close by a peer, else why the relay ended the connection. */
function doneError(how: Omit<WebSocketRelayResult, 'frames'>): string | null {
  if (how.endedBy === 'client' || how.endedBy === 'upstream') return null;
  if (how.endedBy === 'upstream-refused') return 'upstream: websocket handshake failed';
  return `websocket closed ${how.code ?? ''} by agent ${peerText(how.agentId ?? '')}: ${how.reason}`;
}
