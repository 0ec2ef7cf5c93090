// Small pieces of the upstream exchange: back-pressure on the client response, and the status a
// failed upstream exchange is answered with.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { Decision } from '../protocol/types.js';
import { peerText } from '../protocol/peer-text.js';
import type { EngineLog } from './engine-types.js';

/** Writes `chunk`, waiting for 'drain' when the client reads slower than the upstream sends. */
export async function writeOrWait(res: ServerResponse, chunk: Buffer): Promise<void> {
  if (res.destroyed) throw new Error('client response closed');
  if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
}

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** 504 when the upstream timed out, else 502; logged with the upstream's id. */
export function upstreamFailure(error: unknown, upstreamId: string, log: EngineLog): Decision {
  const code = (error as { code?: unknown }).code;
  const timeout = typeof code === 'string' && TIMEOUTS.has(code);
  log('warn', `upstream ${upstreamId}: ${peerText((error as Error).message)}`);
  return timeout
    ? { type: 'block', status: 504, body: 'Gateway timeout', headers: null }
    : { type: 'block', status: 502, body: 'Bad gateway', headers: null };
}

/** Drops an upstream body nobody will read (undici reports the destroy as an error: expected here). */
export function discardBody(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * `body` as the upstream client reads it, with `onBytes` told of each chunk. Not a 'data' listener
 * on `body`: that starts the flow before the upstream client subscribes, and the chunks between
 * are lost (a truncated upload, or a length mismatch). Backpressure and errors pass through.
 */
export function countedBody(body: Readable, onBytes: (bytes: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  // A client that goes away destroys `counter` with its error: the upstream request aborts.
  return pipeline(body, counter, () => {});
}
