// The raw gRPC baseline: the least a correct proxy-side client must do on ONE ProcessStream, written
// by hand from proto/agent_v2.proto (spec §8) — protobufjs types loaded from the .proto, grpc-js
// moving raw bytes (identity serializers), messages encoded straight from plain objects (no
// fromObject / toObject copies), replies matched by AgentResponse.correlation_id. No pool, no
// timers, no cancel, no back-pressure, no reconnect. Whatever the pool costs on top is the result.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { ErrorCode, zapError, type AgentPoolError } from '../src/protocol/errors.js';
import { PROTO_FILE } from '../src/transport/proto-schema.js';
import { SAMPLE_HEADER_LINES, SAMPLE_TIMESTAMP, SAMPLE_URI } from './sample-request.js';

const PACKAGE = 'zentinel.agent.v2';
const PROCESS_STREAM = `/${PACKAGE}.AgentServiceV2/ProcessStream`;

interface Reply {
  handshake?: { success?: boolean; protocol_version?: number; error?: string } | null;
  response?: { correlation_id?: string } | null;
}

interface Waiter {
  resolve(reply: Reply): void;
  reject(err: AgentPoolError): void;
}

let types: { p2a: protobuf.Type; a2p: protobuf.Type } | undefined;

/** ProxyToAgent / AgentToProxy from the .proto, field names as written there (snake_case). */
function protoTypes(): { p2a: protobuf.Type; a2p: protobuf.Type } {
  if (types === undefined) {
    const root = new protobuf.Root();
    root.loadSync(PROTO_FILE, { keepCase: true });
    root.resolveAll();
    types = { p2a: root.lookupType(`${PACKAGE}.ProxyToAgent`), a2p: root.lookupType(`${PACKAGE}.AgentToProxy`) };
  }
  return types;
}

const identity = (b: Buffer): Buffer => b;

// Header lines flattened to name/value pairs (spec §8.2), new objects on every call.
function sampleHeaderPairs(): Array<{ name: string; value: string }> {
  const pairs: Array<{ name: string; value: string }> = [];
  for (let i = 0; i + 1 < SAMPLE_HEADER_LINES.length; i += 2) {
    pairs.push({ name: SAMPLE_HEADER_LINES[i] as string, value: SAMPLE_HEADER_LINES[i + 1] as string });
  }
  return pairs;
}
const TIMESTAMP_MS = Date.parse(SAMPLE_TIMESTAMP);

/**
 * The RequestHeaders event of sample-request.ts as a hand-built ProxyToAgent object (spec §8.2:
 * the cid in metadata.correlation_id, headers flattened to name/value pairs, the ISO timestamp as
 * epoch ms), built fresh per call from the same header lines. Encodes to the same bytes as the
 * pool's gRPC encoder (checked by the smoke test).
 */
export function sampleRequestHeadersProto(cid: string): Record<string, unknown> {
  return {
    request_headers: {
      metadata: {
        correlation_id: cid,
        request_id: cid,
        client_ip: '198.51.100.23',
        client_port: 51514,
        server_name: 'shop.example',
        protocol: 'HTTP/1.1',
        tls_version: 'TLSv1.3',
        route_id: 'shop',
        timestamp_ms: TIMESTAMP_MS,
      },
      method: 'GET',
      uri: SAMPLE_URI,
      http_version: 'HTTP/1.1',
      headers: sampleHeaderPairs(),
    },
  };
}

/** Protobuf bytes of a ProxyToAgent plain object (snake_case fields). */
export function encodeRawProxyToAgent(message: Record<string, unknown>): Buffer {
  const bytes = protoTypes()
    .p2a.encode(message as unknown as protobuf.Message)
    .finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class RawGrpcClient {
  private readonly waiters = new Map<string, Waiter>();
  private readonly stream: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly a2p = protoTypes().a2p;
  private handshakeWaiter: ((reply: Reply) => void) | undefined;
  private closedWith: AgentPoolError | undefined;

  private constructor(private readonly client: grpc.Client) {
    this.stream = client.makeBidiStreamRequest(PROCESS_STREAM, identity, identity);
    this.stream.on('data', (bytes: Buffer) => {
      let reply: Reply;
      try {
        reply = this.a2p.decode(bytes) as unknown as Reply;
      } catch (err) {
        return this.fail(
          zapError(ErrorCode.ProtocolError, `raw gRPC client: bad message from agent: ${(err as Error).message}`, { cause: err }),
        );
      }
      this.onReply(reply);
    });
    this.stream.on('error', (err: Error) =>
      this.fail(zapError(ErrorCode.Error, `raw gRPC client: stream error: ${err.message}`, { cause: err })),
    );
    this.stream.on('end', () => this.fail(zapError(ErrorCode.Error, 'raw gRPC client: stream ended')));
  }

  /**
   * `address` is host:port (cleartext h2c). The flow-control window is the one the pool's channels
   * use, so the baseline does not stall on WINDOW_UPDATE at 256 in flight where the pool would not.
   */
  static async connect(address: string, timeoutMs = 5_000): Promise<RawGrpcClient> {
    const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc-node.flow_control_window': 4 * 1024 * 1024,
    });
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (err === undefined) return resolve();
        client.close();
        reject(zapError(ErrorCode.ConnectFailed, `raw gRPC client: connect to ${address} failed: ${err.message}`, { cause: err }));
      });
    });
    const raw = new RawGrpcClient(client);
    await raw.handshake(timeoutMs);
    return raw;
  }

  /** Sends one encoded ProxyToAgent whose reply carries `cid`; resolves with the decoded reply. */
  request(cid: string, bytes: Buffer): Promise<Reply> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    this.stream.write(bytes);
    return new Promise((resolve, reject) => this.waiters.set(cid, { resolve, reject }));
  }

  close(): void {
    this.fail(zapError(ErrorCode.Error, 'raw gRPC client: closed locally'));
  }

  private handshake(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.handshakeWaiter = undefined;
        reject(zapError(ErrorCode.HandshakeFailed, 'raw gRPC client: handshake timeout'));
      }, timeoutMs);
      this.handshakeWaiter = (reply) => {
        clearTimeout(timer);
        this.handshakeWaiter = undefined;
        const h = reply.handshake;
        if (h?.success !== true || h.protocol_version !== 2) {
          reject(zapError(ErrorCode.HandshakeFailed, `raw gRPC client: handshake refused: ${h?.error ?? 'no HandshakeResponse first'}`));
        } else {
          resolve();
        }
      };
      this.stream.write(
        encodeRawProxyToAgent({
          handshake: { supported_versions: [2], proxy_id: 'zentinel-proxy', proxy_version: 'bench', config_json: '{}' },
        }),
      );
    });
  }

  private onReply(reply: Reply): void {
    if (this.handshakeWaiter !== undefined) return this.handshakeWaiter(reply);
    const cid = reply.response?.correlation_id;
    if (cid === undefined) return; // health, metrics, … : not this client's business
    const waiter = this.waiters.get(cid);
    if (waiter === undefined) return;
    this.waiters.delete(cid);
    waiter.resolve(reply);
  }

  private fail(err: AgentPoolError): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = err;
    this.stream.cancel();
    this.client.close();
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
    this.handshakeWaiter = undefined;
  }
}
