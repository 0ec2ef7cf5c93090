// Raw HTTP/1.1 over a fresh TCP connection, for what a client library will not send (upgrade
// requests written by hand, hostile headers) and for every byte a server writes before it closes.
import { connect, type Socket } from 'node:net';

/** A connection to `host:port` (errors ignored: a server closing on us is what some tests expect). */
export function rawSocket(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => resolve(socket));
    socket.on('error', () => {});
  });
}

/** Resolves with what `socket` received until the peer closed it; rejects after `guardMs`. */
export function answerOf(socket: Socket, guardMs: number, start: () => void = () => {}): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`not closed within ${guardMs} ms; got ${JSON.stringify(text.slice(0, 200))}`));
    }, guardMs);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    start();
  });
}

/** Writes `text` on a fresh connection; resolves with everything the server sent before closing (at most `guardMs`). */
export async function rawExchange(port: number, text: string, host = '127.0.0.1', guardMs = 10_000): Promise<string> {
  const socket = await rawSocket(port, host);
  return answerOf(socket, guardMs, () => socket.write(text));
}

/** A WebSocket upgrade request for `path` (a valid RFC 6455 handshake), with `headers` added. */
export function upgradeRequest(path: string, host: string, headers: Record<string, string> = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `host: ${host}`,
    'connection: upgrade',
    'upgrade: websocket',
    'sec-websocket-version: 13',
    'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}
