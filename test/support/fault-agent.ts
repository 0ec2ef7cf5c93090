// A misbehaving agent PROCESS for fault-injection tests (run with child_process.fork; tsx comes
// through execArgv). It is a raw net server speaking the UDS frame codec, so it can do what our
// AgentServer never would: write garbage, stop half-way through a frame, ignore Cancel and
// answer late. argv: <socket path> <initial behaviour as JSON>. Behaviour changes, one-shot
// faults and counters travel over IPC (see fault-agent-protocol.ts).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { allowResponse } from '../../src/protocol/agent-response.js';
import { decodeCancel } from '../../src/protocol/cancel.js';
import { defaultCapabilities } from '../../src/protocol/capabilities.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import { answerHandshake, decodeHandshakeRequest, encodeHandshakeResponse } from '../../src/protocol/handshake.js';
import { jsonCodec } from '../../src/protocol/json-codec.js';
import { eventKindOfMessageType, MessageType } from '../../src/protocol/message-type.js';
import type { AgentStatsSnapshot, Behaviour, FaultKind, ToAgent, FromAgent } from './fault-agent-protocol.js';

const [path, initial] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: fault-agent <socket path> [behaviour JSON]');

let behaviour: Behaviour = initial === undefined ? { kind: 'normal' } : (JSON.parse(initial) as Behaviour);

const stats: AgentStatsSnapshot = {
  received: 0,
  answered: 0,
  cancels: 0,
  cancelReasons: {},
  strayCancels: 0,
  pings: 0,
  handshakes: 0,
  open: 0,
  faultsWritten: 0,
};

interface Peer {
  socket: Socket;
  established: boolean;
  /** cids received and not answered yet, in arrival order (the half-frame fault cuts a reply to one). */
  pending: Set<string>;
  /** Every cid this socket carried (a Cancel for any other is stray). */
  carried: Set<string>;
}
const peers = new Set<Peer>();

function reply(peer: Peer, cid: string): void {
  if (peer.socket.destroyed) return;
  peer.pending.delete(cid);
  stats.answered++;
  peer.socket.write(encodeFrame(MessageType.AgentResponse, jsonCodec.encodeResponse(allowResponse(), cid)));
}

function onFrame(peer: Peer, type: number, payload: Buffer): void {
  if (!peer.established) {
    // §5.1: the first frame is the HandshakeRequest; answer it the way our SDK does.
    const answer = answerHandshake(decodeHandshakeRequest(payload), {
      capabilities: defaultCapabilities({ agentId: 'fault-agent', name: 'fault-agent', features: { cancellation: true } }),
      encoding: 'json',
    });
    peer.socket.write(encodeFrame(MessageType.HandshakeResponse, encodeHandshakeResponse(answer)));
    peer.established = true;
    stats.handshakes++;
    return;
  }
  if (type === MessageType.Cancel) {
    const cancel = decodeCancel(payload);
    stats.cancels++;
    const reason = cancel.reason ?? 'unspecified';
    stats.cancelReasons[reason] = (stats.cancelReasons[reason] ?? 0) + 1;
    if (!peer.carried.has(cancel.correlationId)) stats.strayCancels++;
    return; // deliberately ignored: a slow agent still answers, late
  }
  if (type === MessageType.Ping) {
    stats.pings++;
    peer.socket.write(encodeFrame(MessageType.Pong, payload));
    return;
  }
  const kind = eventKindOfMessageType(type);
  if (kind === undefined) return;
  const { correlationId } = jsonCodec.decodeEvent(kind, payload);
  stats.received++;
  peer.pending.add(correlationId);
  peer.carried.add(correlationId);
  const b = behaviour;
  if (b.kind === 'normal') reply(peer, correlationId);
  else if (b.kind === 'slow') setTimeout(() => reply(peer, correlationId), b.delayMs);
  else if (b.kind === 'partial' && stats.received % b.answerOneIn === 0) reply(peer, correlationId);
  // 'hang' (and the rest of 'partial'): never answers
}

/** A reply for `cid` on every established connection, whether that connection carried it or not. */
function replyEverywhere(cid: string): number {
  let n = 0;
  for (const peer of peers) {
    if (!peer.established || peer.socket.destroyed) continue;
    n++;
    if (peer.pending.delete(cid)) stats.answered++;
    peer.socket.write(encodeFrame(MessageType.AgentResponse, jsonCodec.encodeResponse(allowResponse(), cid)));
  }
  return n;
}

/** One-shot misbehaviour on every established connection. */
function inject(fault: FaultKind): number {
  let n = 0;
  for (const peer of peers) {
    if (!peer.established || peer.socket.destroyed) continue;
    n++;
    const s = peer.socket;
    switch (fault) {
      case 'garbage': {
        // Random bytes, but the first one ≥ 0x02 so the length prefix reads > 16 MiB: the proxy
        // must reject it at once rather than wait for a frame that never completes.
        const bytes = randomBytes(256);
        bytes[0] = 0x02 + ((bytes[0] as number) % 0xfe);
        s.write(bytes);
        break;
      }
      case 'unknown-type':
        s.write(Buffer.from([0, 0, 0, 1, 0xf0]));
        break;
      case 'bad-json':
        s.write(encodeFrame(MessageType.AgentResponse, Buffer.from('{"version":2,"decision":', 'utf8')));
        break;
      case 'half-frame': {
        // The first half of a real reply to an outstanding cid, then an orderly close.
        const cid = peer.pending.values().next().value ?? 'none';
        const frame = encodeFrame(MessageType.AgentResponse, jsonCodec.encodeResponse(allowResponse(), cid));
        s.end(frame.subarray(0, Math.floor(frame.length / 2)));
        break;
      }
      case 'half-header':
        s.end(Buffer.from([0, 0]));
        break;
      case 'close':
        s.end();
        break;
    }
  }
  stats.faultsWritten += n;
  return n;
}

const server = createServer((socket) => {
  const peer: Peer = { socket, established: false, pending: new Set(), carried: new Set() };
  peers.add(peer);
  stats.open++;
  const decoder = new FrameDecoder((type, payload) => onFrame(peer, type, payload));
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk);
    } catch {
      socket.destroy();
    }
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    peers.delete(peer);
    stats.open--;
  });
});

function send(message: FromAgent): void {
  process.send?.(message);
}

process.on('message', (message: ToAgent) => {
  switch (message.op) {
    case 'behave':
      behaviour = message.behaviour;
      send({ op: 'ack', id: message.id, value: null });
      return;
    case 'inject':
      send({ op: 'ack', id: message.id, value: inject(message.fault) });
      return;
    case 'reply':
      send({ op: 'ack', id: message.id, value: replyEverywhere(message.cid) });
      return;
    case 'stats':
      send({ op: 'ack', id: message.id, value: { ...stats, cancelReasons: { ...stats.cancelReasons } } });
      return;
  }
});
// The parent going away (test runner killed) takes this process with it.
process.on('disconnect', () => process.exit(0));

// A killed predecessor leaves its socket file behind: restarting on the same path replaces it.
rmSync(path, { force: true });
server.listen(path, () => send({ op: 'listening' }));
