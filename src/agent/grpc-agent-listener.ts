// Agent side, gRPC transport (spec §8.1): one grpc-js Server per listen() serving the three rpcs of
// AgentServiceV2 on raw bytes (we decode ourselves, so bad input gets a typed answer, not a
// grpc-js INTERNAL): ProcessStream (one GrpcAgentStream each), ProcessEvent (unary, every
// ProxyToAgent variant) and ControlStream (accepted; sends nothing, spec §8.1).
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { answerHandshake } from '../protocol/handshake.js';
import {
  handshakeResponseToProto,
  pongToProto,
  proxyToAgentFromProto,
  type PbProxyToAgent,
  type ProxyToAgentMessage,
} from '../protocol/proto-mapping.js';
import type { AgentResponse } from '../protocol/types.js';
import { pemOf } from '../transport/grpc-settings.js';
import {
  CONTROL_STREAM_PATH,
  PROCESS_EVENT_PATH,
  PROCESS_STREAM_PATH,
  decodeProxyToAgent,
  encodeAgentToProxy,
  identityBytes,
} from '../transport/grpc-codec.js';
import { GrpcAgentStream, type GrpcAgentStreamOptions } from './grpc-agent-stream.js';
import { InflightEvent, runEvent, tellCancel, type HandlerErrorSink } from './event-runner.js';
import { encodeReplyOrBlock500 } from './event-dispatch-core.js';
import { bestEffortEventCid, encodeGrpcReply, type DroppedFieldsSink } from './grpc-reply.js';
import { undecodableEventResponse } from './reply.js';
import { GRPC_DEFAULTS } from './server-limits.js';

/**
 * TLS for the agent's gRPC listener: `cert` and `key` as PEM text or PEM file paths. With `ca`,
 * proxies must present a client certificate signed by it (mutual TLS).
 */
export interface AgentTlsOptions {
  cert: string;
  key: string;
  ca?: string;
}

/** What every ProcessStream gets (GrpcAgentStreamOptions), plus the listener's own settings. */
export interface GrpcAgentListenerOptions extends GrpcAgentStreamOptions {
  tls: AgentTlsOptions | null;
  /** grpc-js server options merged over GRPC_DEFAULTS (stream cap, message sizes, keepalive, idle). */
  serverOptions?: grpc.ServerOptions;
  /** Asked before serving a ProcessStream (`peer`: the client's address); false ends it with RESOURCE_EXHAUSTED. */
  admitStream?: (peer: string) => boolean;
  onStream: (stream: GrpcAgentStream) => void;
  onHandlerError: HandlerErrorSink;
  onDroppedFields: DroppedFieldsSink;
}

const CLOSE_GRACE_MS = 1_000;

/**
 * Our grpc-js server options: grpc-js leaves streams per connection, keepalive and idle connections
 * unlimited, so a peer could open streams without end or park connections forever.
 */
export function grpcServerOptionsOf(overrides: grpc.ServerOptions = {}): grpc.ServerOptions {
  return {
    'grpc.max_concurrent_streams': GRPC_DEFAULTS.maxConcurrentStreams,
    'grpc.max_receive_message_length': GRPC_DEFAULTS.maxMessageBytes,
    'grpc.max_send_message_length': GRPC_DEFAULTS.maxMessageBytes,
    'grpc.keepalive_time_ms': GRPC_DEFAULTS.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': GRPC_DEFAULTS.keepaliveTimeoutMs,
    'grpc.max_connection_idle_ms': GRPC_DEFAULTS.maxConnectionIdleMs,
    ...overrides,
  };
}

function rawMethod(path: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: identityBytes,
    requestDeserialize: identityBytes,
    responseSerialize: identityBytes,
    responseDeserialize: identityBytes,
  };
}

const SERVICE: grpc.ServiceDefinition = {
  ProcessStream: rawMethod(PROCESS_STREAM_PATH, true, true),
  ProcessEvent: rawMethod(PROCESS_EVENT_PATH, false, false),
  ControlStream: rawMethod(CONTROL_STREAM_PATH, true, true),
};

export class GrpcAgentListener {
  readonly #server: grpc.Server;
  readonly #o: GrpcAgentListenerOptions;
  readonly #streams = new Set<GrpcAgentStream>();
  /** In-flight ProcessEvent calls by cid, so a unary CancelRequest can reach them. */
  readonly #unary = new Map<string, InflightEvent>();
  readonly #replies = { encodeReply: (response: AgentResponse, cid: string) => encodeGrpcReply(response, cid, this.#o.onDroppedFields) };
  #endpoint = '';

  private constructor(o: GrpcAgentListenerOptions) {
    this.#o = o;
    this.#server = new grpc.Server(grpcServerOptionsOf(o.serverOptions));
    this.#server.addService(SERVICE, {
      ProcessStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => this.#onStream(call),
      ProcessEvent: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => this.#onUnary(call, callback),
      ControlStream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on('data', () => {});
        call.on('error', () => {});
        call.on('end', () => call.end());
      },
    });
  }

  /** Binds `address` (host:port, port 0 = any free port). */
  static async start(address: string, useTls: boolean, o: GrpcAgentListenerOptions): Promise<GrpcAgentListener> {
    const listener = new GrpcAgentListener(o);
    const tls = o.tls;
    if (useTls && tls === null)
      throw zapError(ErrorCode.InvalidConfig, `cannot listen on https://${address}: the AgentServer has no tls option`);
    let creds: grpc.ServerCredentials;
    try {
      creds =
        tls === null
          ? grpc.ServerCredentials.createInsecure()
          : grpc.ServerCredentials.createSsl(
              tls.ca === undefined ? null : pemOf(tls.ca),
              [{ private_key: pemOf(tls.key), cert_chain: pemOf(tls.cert) }],
              tls.ca !== undefined,
            );
    } catch (err) {
      throw zapError(ErrorCode.InvalidConfig, `gRPC TLS material unusable: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    const port = await new Promise<number>((resolve, reject) => {
      listener.#server.bindAsync(address, creds, (err, bound) => {
        if (err !== null) reject(zapError(ErrorCode.InvalidConfig, `cannot listen on ${address}: ${err.message}`, { cause: err }));
        else resolve(bound);
      });
    });
    const host = address.slice(0, address.lastIndexOf(':'));
    listener.#endpoint = `${tls === null ? 'grpc' : 'https'}://${host}:${port}`;
    return listener;
  }

  /** Where proxies reach us: `grpc://host:port` or `https://host:port` (the real port when 0 was asked). */
  get endpoint(): string {
    return this.#endpoint;
  }

  get streams(): ReadonlySet<GrpcAgentStream> {
    return this.#streams;
  }

  /** Ends every stream, cancels unary calls, stops the server (forced after a short grace). */
  async close(): Promise<void> {
    for (const stream of this.#streams) stream.close();
    for (const ctx of this.#unary.values()) ctx.abort(null);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, CLOSE_GRACE_MS);
      this.#server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #onStream(call: grpc.ServerDuplexStream<Buffer, Buffer>): void {
    const o = this.#o;
    if (o.admitStream !== undefined && !o.admitStream(call.getPeer())) {
      call.emit('error', {
        code: grpc.status.RESOURCE_EXHAUSTED,
        details: 'ZAP_QUEUE_FULL: the agent serves its maximum number of streams',
      });
      return;
    }
    const stream = new GrpcAgentStream(call, o);
    this.#streams.add(stream);
    stream.once('close', () => this.#streams.delete(stream));
    o.onStream(stream);
  }

  /** ProcessEvent: every ProxyToAgent variant answered by one AgentToProxy, or a typed status. */
  #onUnary(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    let msg: ProxyToAgentMessage;
    let pb: PbProxyToAgent | undefined;
    try {
      pb = decodeProxyToAgent(call.request);
      msg = proxyToAgentFromProto(pb);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      // An event that decodes far enough to have a cid is still answered (§6.10 agent side).
      const eventCid = pb === undefined ? undefined : bestEffortEventCid(pb);
      if (eventCid !== undefined) {
        callback(null, encodeGrpcReply(undecodableEventResponse(false), eventCid, undefined));
      } else {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `ZAP_PROTOCOL_ERROR: ${why}` });
      }
      return;
    }
    switch (msg.type) {
      case 'handshake':
        callback(
          null,
          encodeAgentToProxy(
            handshakeResponseToProto(answerHandshake(msg.handshake, { capabilities: this.#o.capabilities, encoding: 'json' })),
          ),
        );
        return;
      case 'ping':
        callback(
          null,
          encodeAgentToProxy(pongToProto({ sequence: msg.ping.sequence, pingTimestampMs: msg.ping.timestampMs, timestampMs: Date.now() })),
        );
        return;
      case 'cancel': {
        const ctx = this.#unary.get(msg.cancel.correlationId);
        if (ctx !== undefined) ctx.abort(msg.cancel.reason);
        tellCancel(this.#o.dispatcher, msg.cancel, this.#o.onHandlerError);
        callback(null, Buffer.alloc(0)); // an empty AgentToProxy: a Cancel has no reply message (§7.1)
        return;
      }
      case 'event': {
        const ctx = new InflightEvent(msg.correlationId, this.#o.agentId, 'grpc', msg.kind);
        this.#unary.set(ctx.correlationId, ctx);
        call.once('cancelled', () => ctx.abort(null));
        runEvent(this.#o.dispatcher, msg.event, ctx, this.#o.onHandlerError, (done, response) => {
          if (this.#unary.get(done.correlationId) === done) this.#unary.delete(done.correlationId);
          if (done.cancelled) {
            callback({ code: grpc.status.CANCELLED, details: 'cancelled by the proxy' });
            return;
          }
          callback(null, encodeReplyOrBlock500(this.#replies, response, done.correlationId, this.#o.onHandlerError));
        });
        return;
      }
      default:
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'ZAP_PROTOCOL_ERROR: empty or unknown ProxyToAgent message' });
    }
  }
}
