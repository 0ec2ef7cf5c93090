// Child process for the hostile reverse-listener tests: opens `count` sockets to a reverse listener,
// each announcing a registration frame of `announce` bytes (N of spec §2.1) and then dripping up to
// `dripBytes` of it in `chunk`-byte writes every `intervalMs`, never completing it. Bounded: every
// socket stops writing at `dripBytes`, and the proxy closes it (refusal or handshake timeout). Reports over IPC, one message per socket:
// { i, refusal } (the proxy's `error` text) or { i, closed: true } (closed without a reply), then
// { done: true }. It lives in its own process so its send buffers do not count in the proxy's RSS.
// argv: <path | host:port> <count> <announce> <dripBytes> <chunk> <intervalMs>
import { createConnection, type Socket } from 'node:net';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';

const [target, countText, announceText, dripText, chunkText, intervalText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const [count, announce, dripBytes, chunk, intervalMs] = [countText, announceText, dripText, chunkText, intervalText].map(Number) as [
  number,
  number,
  number,
  number,
  number,
];

function connect(): Socket {
  const i = target.lastIndexOf(':');
  return target.startsWith('/') ? createConnection(target) : createConnection(Number(target.slice(i + 1)), target.slice(0, i));
}

function flood(i: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect();
    let refusal: string | null = null;
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const decoder = new FrameDecoder((_type, payload) => {
      refusal = String((JSON.parse(payload.toString('utf8')) as { error: unknown }).error);
    });
    socket.on('data', (data: Buffer) => decoder.push(data));
    socket.on('error', () => {});
    socket.once('close', () => {
      clearInterval(timer);
      process.send?.(refusal === null ? { i, closed: true } : { i, refusal });
      resolve();
    });
    socket.once('connect', () => {
      const header = Buffer.alloc(5);
      header.writeUInt32BE(announce, 0);
      header[4] = 0x01;
      socket.write(header);
      const filler = Buffer.alloc(chunk, 0x7b);
      timer = setInterval(() => {
        // Done dripping: the socket waits for the proxy, whose handshake timeout bounds it in time.
        if (sent >= dripBytes || socket.destroyed) {
          clearInterval(timer);
          return;
        }
        socket.write(filler);
        sent += filler.length;
      }, intervalMs);
    });
  });
}

await Promise.all(Array.from({ length: count }, (_, i) => flood(i)));
process.send?.({ done: true });
process.disconnect?.();
