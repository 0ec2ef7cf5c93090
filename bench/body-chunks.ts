// Request bodies as the proxy streams them (spec §6.3): a body of `size` bytes cut into chunks of
// at most `chunkSize`, numbered 0, 1, … with cumulative bytes_received, is_last on the final one,
// and total_size known. Every chunk's bytes are copied out of one random buffer into a buffer of
// its own, as a gateway reads each chunk from its socket into new memory: no two chunks share
// memory, so nothing can recognise bytes it encoded before (issue 13, honest load), and the bench
// measures encoding and transport, not producing random bytes. The wire form is what a hand-written JSON client
// sends (the same bytes as the pool's JSON codec; test/bench-scenarios-smoke.test.ts checks).
import { randomBytes } from 'node:crypto';
import type { RequestBodyChunkEvent } from '../src/protocol/types.js';

export const KIB = 1_024;
export const MIB = 1_024 * KIB;

let shared: Buffer | undefined;

function source(bytes: number): Buffer {
  if (shared === undefined || shared.length < bytes) shared = randomBytes(bytes);
  return shared;
}

/** Number of chunks a body of `size` bytes takes (an empty body still sends one, is_last). */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Chunk `index` of a body of `size` bytes for correlation id `cid`. */
export function bodyChunk(cid: string, size: number, chunkSize: number, index: number): RequestBodyChunkEvent {
  const offset = index * chunkSize;
  const length = Math.max(0, Math.min(chunkSize, size - offset));
  return {
    correlationId: cid,
    data: Buffer.from(source(chunkSize).subarray(0, length)),
    isLast: index === chunkCount(size, chunkSize) - 1,
    totalSize: size,
    chunkIndex: index,
    bytesReceived: offset + length,
  };
}

/** The same chunk in wire JSON (spec §6.3): data as padded base64. Key order matches the pool's codec. */
export function bodyChunkWire(e: RequestBodyChunkEvent): Record<string, unknown> {
  return {
    correlation_id: e.correlationId,
    data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('base64'),
    is_last: e.isLast,
    total_size: e.totalSize,
    chunk_index: e.chunkIndex,
    bytes_received: e.bytesReceived,
  };
}

/** Sends the chunks of one body in order, each after the reply to the previous (one event per cid at a time, spec §10.2). */
export async function sendBody(
  cid: string,
  size: number,
  chunkSize: number,
  send: (chunk: RequestBodyChunkEvent) => Promise<unknown>,
): Promise<void> {
  const n = chunkCount(size, chunkSize);
  for (let i = 0; i < n; i++) await send(bodyChunk(cid, size, chunkSize, i));
}
