// Agent side of one reverse connection attempt (spec §9): dial the proxy's listener (Unix socket,
// TCP, or TCP + TLS) within a connect timeout, send the RegistrationRequest, and read the
// RegistrationResponse within a registration timeout. Bytes the proxy sent after the reply in the
// same read are returned, so the connection that takes over misses nothing.
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ErrorCode, isAgentPoolError, zapError } from '../protocol/errors.js';
import { encodeFrame } from '../protocol/frame-encoder.js';
import { MessageType, messageTypeName } from '../protocol/message-type.js';
import { decodeRegistrationResponse, encodeRegistrationRequest } from '../protocol/registration.js';
import type { RegistrationRequest, RegistrationResponse } from '../protocol/types.js';
import type { ReverseAddress } from '../transport/reverse-endpoint.js';
import { FirstFrameReader } from '../transport/reverse-first-frame.js';

/** TLS client material as PEM text; `ca` replaces the system roots when given. */
export interface ReverseTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  /** SNI / certificate host name (default: the endpoint's host unless it is an IP address). */
  servername?: string;
}

export function dialProxy(
  address: ReverseAddress,
  tls: ReverseTlsOptions | undefined,
  timeoutMs: number,
  agentId: string,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const where = address.kind === 'unix' ? address.path : `${address.host}:${address.port}`;
    let socket: Socket;
    let ready: string;
    if (address.kind === 'unix') {
      socket = createConnection({ path: address.path });
      ready = 'connect';
    } else if (address.tls || tls !== undefined) {
      socket = tlsConnect({ host: address.host, port: address.port, ...tls });
      ready = 'secureConnect';
    } else {
      socket = createConnection({ host: address.host, port: address.port, noDelay: true });
      ready = 'connect';
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(zapError(ErrorCode.ConnectFailed, `Connect to ${where} timed out after ${timeoutMs} ms`, { agentId }));
    }, timeoutMs);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(zapError(ErrorCode.ConnectFailed, `Connect to ${where} failed: ${err.message}`, { agentId, cause: err }));
    });
  });
}

export interface RegistrationOutcome {
  response: RegistrationResponse;
  /** What followed the reply in the same read (frames for the established connection). */
  leftover: Buffer;
}

/**
 * Registers on a connected socket. Resolves with the proxy's answer (success or refusal); rejects
 * with ZAP_HANDSHAKE_FAILED when no valid reply comes in time. On return the socket is paused and
 * carries none of our listeners but a no-op 'error' one.
 */
export function register(socket: Socket, request: RegistrationRequest, timeoutMs: number): Promise<RegistrationOutcome> {
  const agentId = request.agentId;
  return new Promise((resolve, reject) => {
    const reader = new FirstFrameReader();
    const done = (): void => {
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.off('error', onError);
      socket.on('error', () => {});
    };
    const fail = (why: string): void => {
      done();
      socket.destroy();
      reject(zapError(ErrorCode.HandshakeFailed, `Registration of '${agentId}' failed: ${why}`, { agentId }));
    };
    const onData = (chunk: Buffer): void => {
      let frame;
      try {
        frame = reader.push(chunk);
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
        return;
      }
      if (frame === undefined) return;
      if (frame.type !== MessageType.HandshakeResponse) {
        fail(`expected a RegistrationResponse, got ${messageTypeName(frame.type)}`);
        return;
      }
      let response: RegistrationResponse;
      try {
        response = decodeRegistrationResponse(frame.payload);
      } catch (err) {
        fail(isAgentPoolError(err) ? err.message : String(err));
        return;
      }
      done();
      resolve({ response, leftover: frame.leftover });
    };
    const onGone = (): void => fail('connection closed before the registration reply');
    const onError = (err: Error): void => fail(err.message);
    const timer = setTimeout(() => fail(`no registration reply within ${timeoutMs} ms`), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
    socket.on('error', onError);
    socket.write(encodeFrame(MessageType.HandshakeRequest, encodeRegistrationRequest(request)));
  });
}
