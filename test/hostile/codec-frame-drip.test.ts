// Issue 11 item 2b over a real Unix socket: a child process announces a 16 MiB frame and drips its
// payload one byte per write. The reading side (a FrameDecoder fed by the socket's 'data' events,
// as every transport feeds it) must hold those bytes in about twice their size: before the fix each
// read became its own retained Buffer, +531 MB RSS for 5 MB sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { socketPath } from '../support/tmp.js';
import { waitFor } from '../support/wait-for.js';

const DRIP_BYTES = 512 * 1024;
const DRIP_DEADLINE_MS = 20_000;
/** Allowed RSS growth: 4 bytes per held byte (the decoder needs ≤ 2) plus 16 MiB of noise. */
const bound = (held: number): number => 4 * held + 16 * 1024 * 1024;

// The dripper: header of a RequestBodyChunk frame announcing 16 MiB, then 1-byte writes, each waiting
// for the previous one to be flushed so reads on the other side stay small. Stops by count or time,
// prints how many payload bytes it wrote, and keeps the socket open until killed.
const DRIPPER = `
const net = require('node:net');
const [path, count, deadlineMs] = process.argv.slice(1);
const s = net.createConnection(path, () => {
  s.write(Buffer.from([0x01, 0x00, 0x00, 0x00, 0x11]));
  const stop = Date.now() + Number(deadlineMs);
  let sent = 0;
  const one = Buffer.from([0x61]);
  const next = () => {
    if (sent >= Number(count) || Date.now() > stop) { process.stdout.write(sent + '\\n'); return; }
    sent++;
    s.write(one, next);
  };
  next();
});
s.on('error', () => process.exit(1));
`;

test(
  'frame decoder memory: 1-byte writes over a real socket: RSS grows ≤ 4 bytes per byte held + 16 ' + 'MiB (was 65–250 bytes per byte)',
  async (t) => {
    let decoder: FrameDecoder | null = null;
    let reads = 0;
    let peer: Socket | null = null;
    const server = createServer((socket) => {
      peer = socket;
      const d = new FrameDecoder(() => assert.fail('the frame never completes'));
      decoder = d;
      socket.on('data', (chunk: Buffer) => {
        reads++;
        d.push(chunk);
      });
      socket.on('error', () => {});
    });
    const path = socketPath('drip');
    server.listen(path);
    await once(server, 'listening');
    t.after(() => server.close());

    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const child = spawn(process.execPath, ['-e', DRIPPER, path, String(DRIP_BYTES), String(DRIP_DEADLINE_MS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await waitFor(() => out.endsWith('\n'), DRIP_DEADLINE_MS + 10_000);
    const sent = Number(out.trim());
    assert.ok(sent > 64 * 1024, `only ${sent} bytes dripped`);
    // The header (5 bytes) and every dripped byte are in the decoder once the last read is in.
    await waitFor(() => decoder !== null && decoder.bufferedBytes === 5 + sent, 10_000);
    const d = decoder as unknown as FrameDecoder;
    const grown = process.memoryUsage().rss - rss0;
    t.diagnostic(
      `held ${d.bufferedBytes} bytes in ${reads} reads; capacity ${d.capacity}; RSS ` +
        `+${(grown / 1048576).toFixed(1)} MiB (${(grown / d.bufferedBytes).toFixed(2)} bytes per byte ` +
        `held)`,
    );
    assert.ok(d.capacity <= 2 * d.bufferedBytes, `capacity ${d.capacity}`);
    assert.ok(grown < bound(d.bufferedBytes), `RSS grew ${grown} bytes for ${d.bufferedBytes} held in ${reads} reads`);
    (peer as Socket | null)?.destroy();
  },
);
