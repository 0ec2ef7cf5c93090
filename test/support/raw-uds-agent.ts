// A raw Unix-socket agent for wire tests: on the proxy's first frame (the HandshakeRequest) it writes
// `answer()` in a single write, so a test controls exactly which bytes, and how many frames per
// read, the proxy sees. Closed when the test file ends.
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { after } from 'node:test';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { socketPath } from './tmp.js';

export async function rawUdsAgent(name: string, answer: () => Buffer): Promise<{ path: string; sockets: Set<Socket> }> {
  const path = socketPath(name);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let shook = false;
    const decoder = new FrameDecoder(() => {
      if (shook) return;
      shook = true;
      socket.write(answer());
    });
    socket.on('data', (c: Buffer) => decoder.push(c));
  });
  server.listen(path);
  await once(server, 'listening');
  after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { path, sockets };
}
