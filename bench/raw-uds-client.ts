// The raw baseline: the least a correct proxy-side client must do on ONE Unix socket, written by
// hand (no pool, no codec layer, no timers, no cancel, no back-pressure). JSON handshake, frames
// built directly (spec §2.1), every frame queued during one event-loop turn sent as ONE write,
// replies parsed with JSON.parse and matched by audit.custom.correlation_id (spec §6.9.1).
// Whatever the pool costs on top of this is what the benchmark reports.
import { createConnection, type Socket } from 'node:net';
import { ErrorCode, zapError, type AgentPoolError } from '../src/protocol/errors.js';

const HANDSHAKE_REQUEST = 0x01;
const HANDSHAKE_RESPONSE = 0x02;
const AGENT_RESPONSE = 0x20;

interface Waiter {
  resolve(reply: Record<string, unknown>): void;
  reject(err: AgentPoolError): void;
}

export class RawUdsClient {
  private readonly waiters = new Map<string, Waiter>();
  private out: Buffer[] = [];
  private outBytes = 0;
  private scheduled = false;
  private pending: Buffer | null = null;
  private handshakeWaiter: ((type: number, payload: Buffer) => void) | undefined;
  private closedWith: AgentPoolError | undefined;
  private readonly flushBound = () => this.flush();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.onData(chunk);
      } catch (err) {
        this.fail(zapError(ErrorCode.ProtocolError, `raw client: bad frame from agent: ${(err as Error).message}`, { cause: err }));
      }
    });
    socket.on('error', (err) => this.fail(zapError(ErrorCode.Error, `raw client socket error: ${err.message}`, { cause: err })));
    socket.on('close', () => this.fail(zapError(ErrorCode.Error, 'raw client: connection closed')));
  }

  /** Connects and completes a JSON-only handshake. */
  static async connect(path: string, timeoutMs = 5_000): Promise<RawUdsClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ path });
      const timer = setTimeout(() => {
        s.destroy();
        reject(zapError(ErrorCode.ConnectFailed, `raw client: connect to ${path} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(zapError(ErrorCode.ConnectFailed, `raw client: connect to ${path} failed: ${err.message}`, { cause: err }));
      });
    });
    const client = new RawUdsClient(socket);
    await client.handshake(timeoutMs);
    return client;
  }

  /** Sends one event (wire JSON object, cid already injected) and resolves with the parsed reply. */
  request(type: number, cid: string, wire: unknown): Promise<Record<string, unknown>> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    this.enqueue(type, JSON.stringify(wire));
    return new Promise((resolve, reject) => this.waiters.set(cid, { resolve, reject }));
  }

  close(): void {
    this.fail(zapError(ErrorCode.Error, 'raw client: closed locally'));
  }

  // -------------------------------------------------------------------------------------------

  private handshake(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.handshakeWaiter = undefined;
        reject(zapError(ErrorCode.HandshakeFailed, 'raw client: handshake timeout'));
      }, timeoutMs);
      this.handshakeWaiter = (type, payload) => {
        clearTimeout(timer);
        this.handshakeWaiter = undefined;
        const body = type === HANDSHAKE_RESPONSE ? (JSON.parse(payload.toString('utf8')) as Record<string, unknown>) : {};
        const encoding = body['encoding'] ?? 'json';
        if (body['success'] !== true || body['protocol_version'] !== 2 || encoding !== 'json') {
          reject(
            zapError(ErrorCode.HandshakeFailed, `raw client: handshake refused (type 0x${type.toString(16)}): ${payload.toString('utf8')}`),
          );
        } else {
          resolve();
        }
      };
      this.enqueue(
        HANDSHAKE_REQUEST,
        JSON.stringify({
          supported_versions: [2],
          proxy_id: 'zentinel-proxy',
          proxy_version: 'bench',
          config: null,
          supported_encodings: ['json'],
        }),
      );
    });
  }

  private enqueue(type: number, json: string): void {
    const length = Buffer.byteLength(json);
    const frame = Buffer.allocUnsafe(5 + length);
    frame.writeUInt32BE(length + 1, 0);
    frame[4] = type;
    frame.write(json, 5, 'utf8');
    this.out.push(frame);
    this.outBytes += frame.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushBound);
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.out.length === 0 || this.closedWith !== undefined) return;
    const bytes = this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    this.socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    let offset = 0;
    while (buf.length - offset >= 5) {
      const n = buf.readUInt32BE(offset);
      if (n === 0) throw new RangeError('zero-length frame');
      if (buf.length - offset < 4 + n) break;
      const type = buf[offset + 4] as number;
      const payload = buf.subarray(offset + 5, offset + 4 + n);
      offset += 4 + n;
      this.onFrame(type, payload);
    }
    if (offset < buf.length) {
      // Copy the partial tail: a view would pin the whole chunk until the frame completes.
      buf = Buffer.from(buf.subarray(offset));
      this.pending = buf;
    }
  }

  private onFrame(type: number, payload: Buffer): void {
    if (this.handshakeWaiter !== undefined) return this.handshakeWaiter(type, payload);
    if (type !== AGENT_RESPONSE) return; // health, metrics, … : not this client's business
    const reply = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    const custom = (reply['audit'] as { custom?: Record<string, unknown> } | undefined)?.custom;
    const cid = custom?.['correlation_id'] ?? reply['correlation_id'];
    if (typeof cid !== 'string') return;
    const waiter = this.waiters.get(cid);
    if (waiter === undefined) return;
    this.waiters.delete(cid);
    waiter.resolve(reply);
  }

  private fail(err: AgentPoolError): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = err;
    this.socket.destroy();
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }
}
