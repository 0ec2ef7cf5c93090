// A fake agent PROCESS that negotiates MessagePack and answers a RequestHeaders event for URI
// `/bomb/<n>` with the n-th MessagePack bomb of msgpack-bombs.ts as its AgentResponse payload; every
// other event gets a normal MessagePack Allow. Run with child_process.fork (tsx comes through
// execArgv); argv: <socket path>. Sends 'listening' over IPC once it accepts connections.
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { allowResponse } from '../../src/protocol/agent-response.js';
import { defaultCapabilities } from '../../src/protocol/capabilities.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import { answerHandshake, decodeHandshakeRequest, encodeHandshakeResponse } from '../../src/protocol/handshake.js';
import { eventKindOfMessageType, MessageType } from '../../src/protocol/message-type.js';
import { msgpackCodec } from '../../src/protocol/msgpack-codec.js';
import type { RequestHeadersEvent } from '../../src/protocol/types.js';
import { msgpackBombs } from './msgpack-bombs.js';

const [path] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: msgpack-bomb-agent <socket path>');
const bombs = msgpackBombs();

const server = createServer((socket) => {
  let established = false;
  const decoder = new FrameDecoder((type, payload) => {
    if (!established) {
      const answer = answerHandshake(decodeHandshakeRequest(payload), {
        capabilities: defaultCapabilities({ agentId: 'bomb-agent', name: 'bomb-agent' }),
        encoding: 'msgpack',
      });
      socket.write(encodeFrame(MessageType.HandshakeResponse, encodeHandshakeResponse(answer)));
      established = true;
      return;
    }
    const kind = eventKindOfMessageType(type);
    if (kind === undefined) return;
    const { event, correlationId } = msgpackCodec.decodeEvent(kind, payload);
    const bomb = kind === 'request_headers' ? /^\/bomb\/(\d+)$/.exec((event as RequestHeadersEvent).uri) : null;
    const reply = bomb === null ? msgpackCodec.encodeResponse(allowResponse(), correlationId) : (bombs[Number(bomb[1])]?.[1] as Buffer);
    socket.write(encodeFrame(MessageType.AgentResponse, reply));
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk);
    } catch {
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
});

// The parent going away (test runner killed) takes this process with it.
process.on('disconnect', () => process.exit(0));
rmSync(path, { force: true });
server.listen(path, () => process.send?.('listening'));
