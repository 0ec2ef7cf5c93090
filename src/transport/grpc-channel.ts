// gRPC transport, proxy side (spec §8.4 steps 1–2): one grpc-js channel per pool connection, on
// its own HTTP/2 connection, cleartext or TLS, with keepalive and message size limits, brought up
// within connect_timeout.
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { PROCESS_EVENT_PATH, identityBytes } from './grpc-codec.js';
import { cleanGrpcDetails } from './grpc-details.js';
import { pemOf, type GrpcChannelSettings, type GrpcTlsOptions } from './grpc-settings.js';

// TLS options and their validation live in grpc-settings.ts (no grpc-js); re-exported for the CLI.
export { validateGrpcTls, type GrpcTlsOptions } from './grpc-settings.js';

type ConnectorArgs = Parameters<grpc.ChannelCredentials['_createSecureConnector']>;
type SecureConnector = ReturnType<grpc.ChannelCredentials['_createSecureConnector']>;

/**
 * Wraps the real credentials to see the TCP sockets grpc-js dials. grpc-js does not release a
 * connection that is still waiting for the peer's HTTP/2 SETTINGS when its channel closes, so a peer
 * that accepts TCP and stays silent would keep one socket per failed attempt; we destroy them.
 */
class SocketTrackingCredentials extends grpc.ChannelCredentials {
  readonly #sockets = new Set<Socket>();

  constructor(private readonly inner: grpc.ChannelCredentials) {
    super();
  }
  _isSecure(): boolean {
    return this.inner._isSecure();
  }
  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }
  _createSecureConnector(...args: ConnectorArgs): SecureConnector {
    const connector = this.inner._createSecureConnector(...args);
    const sockets = this.#sockets;
    return {
      connect(socket: Socket) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        return connector.connect(socket);
      },
      waitForReady: () => connector.waitForReady(),
      getCallCredentials: () => connector.getCallCredentials(),
      destroy: () => connector.destroy(),
    };
  }
  destroySockets(): void {
    // Once http2 owns the socket, destroy() no longer closes it; a reset does.
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
  }
}

function credentialsFor(useTls: boolean, tls: GrpcTlsOptions | null): grpc.ChannelCredentials {
  if (!useTls) return grpc.credentials.createInsecure();
  const t = tls ?? {};
  if ((t.cert === undefined) !== (t.key === undefined)) {
    throw zapError(ErrorCode.InvalidConfig, 'gRPC TLS: a client certificate needs both cert and key');
  }
  const verify: grpc.VerifyOptions = t.insecure === true ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {};
  return grpc.credentials.createSsl(
    t.ca === undefined ? null : pemOf(t.ca),
    t.key === undefined ? null : pemOf(t.key),
    t.cert === undefined ? null : pemOf(t.cert),
    verify,
  );
}

function channelOptions(settings: GrpcChannelSettings): grpc.ChannelOptions {
  const options: grpc.ChannelOptions = {
    // Each pool connection gets its own HTTP/2 connection: no subchannel sharing between channels.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.keepalive_time_ms': settings.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    // We check sizes ourselves (per call, typed error); this is only the backstop.
    'grpc.max_send_message_length': settings.maxSendBytes,
    'grpc.max_receive_message_length': settings.maxReceiveBytes,
    // A long-lived stream must not be buffered for retries, nor go through an HTTP proxy from env.
    'grpc.enable_retries': 0,
    'grpc.enable_http_proxy': 0,
    // Pipelined small messages: a larger stream window avoids stalls waiting for WINDOW_UPDATE.
    'grpc-node.flow_control_window': 4 * 1024 * 1024,
  };
  if (settings.tls?.serverName !== undefined) options['grpc.ssl_target_name_override'] = settings.tls.serverName;
  return options;
}

/**
 * Opens a channel to `address` (host:port) and waits until its HTTP/2 connection is READY (the
 * agent's SETTINGS arrived). Fails fast when the dial fails, and within `connectTimeoutMs` when the
 * peer accepts TCP but never speaks HTTP/2. The channel is closed on failure.
 */
export function openGrpcChannel(
  address: string,
  useTls: boolean,
  settings: GrpcChannelSettings,
  connectTimeoutMs: number,
  agentId?: string,
): Promise<grpc.Client> {
  let client: grpc.Client;
  let credentials: SocketTrackingCredentials;
  try {
    credentials = new SocketTrackingCredentials(credentialsFor(useTls || settings.tls !== null, settings.tls));
    client = new grpc.Client(address, credentials, channelOptions(settings));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return Promise.reject(zapError(ErrorCode.ConnectFailed, `Connect to ${address} failed: ${why}`, { agentId, cause: err }));
  }
  const channel = client.getChannel();
  const deadline = Date.now() + connectTimeoutMs;
  return new Promise<grpc.Client>((resolve, reject) => {
    const fail = (why: string) => {
      client.close();
      credentials.destroySockets();
      reject(zapError(ErrorCode.ConnectFailed, `Connect to ${address} ${why}`, { agentId }));
    };
    const check = () => {
      const state = channel.getConnectivityState(true);
      switch (state) {
        case grpc.connectivityState.READY:
          return resolve(client);
        case grpc.connectivityState.TRANSIENT_FAILURE:
          return lastError(client, Math.min(deadline, Date.now() + 1_000), (why) => fail(`failed: ${why}`));
        case grpc.connectivityState.SHUTDOWN:
          return fail('failed (channel shut down)');
        default:
          channel.watchConnectivityState(state, deadline, (err) => {
            if (err !== undefined) fail(`timed out after ${connectTimeoutMs} ms`);
            else check();
          });
      }
    };
    check();
  });
}

/**
 * grpc-js keeps the reason of a failed dial to itself; a call on a failing channel reports it in
 * its status details ("… Last error: connect ECONNREFUSED …"). Costs one call, on failure only.
 */
function lastError(client: grpc.Client, deadline: number, done: (why: string) => void): void {
  client.makeUnaryRequest(PROCESS_EVENT_PATH, identityBytes, identityBytes, Buffer.alloc(0), { deadline }, (err) => {
    done(cleanGrpcDetails(err?.details ?? ''));
  });
}
