// A hand-driven reverse-connecting "agent" for listener tests: raw frames over a Unix or TCP socket,
// registration JSON written by hand (spec §9.2) so the proxy's validation is tested against the wire
// shapes, plus helpers to read a refusal exactly as the listener sent it.
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { VERSION } from '../../src/version.js';
import { within } from './wait-for.js';

export type ReverseTarget = { path: string } | { host: string; port: number };

/** `host:port` from a listener handle → a TCP target. */
export function tcpTarget(tcpAddress: string): ReverseTarget {
  const i = tcpAddress.lastIndexOf(':');
  return { host: tcpAddress.slice(0, i), port: Number(tcpAddress.slice(i + 1)) };
}

/** A §9.2 RegistrationRequest body with every capability key, as a Rust agent writes it. */
export function registrationBody(
  agentId: string,
  o: { token?: string | null; version?: number; metadata?: unknown } = {},
): Record<string, unknown> {
  return {
    protocol_version: o.version ?? 2,
    agent_id: agentId,
    capabilities: {
      agent_id: agentId,
      name: agentId,
      version: '1.0.0',
      supported_events: [1, 2, 3, 4, 5, 6, 7],
      features: {
        streaming_body: false,
        websocket: true,
        guardrails: true,
        config_push: false,
        metrics_export: false,
        concurrent_requests: 10,
        cancellation: true,
        flow_control: false,
        health_reporting: true,
      },
      limits: { max_body_size: 10_485_760, max_concurrency: 10, preferred_chunk_size: 65_536 },
    },
    auth_token: o.token ?? null,
    metadata: o.metadata ?? null,
  };
}

export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export class RawReverseClient {
  readonly frames: Array<{ type: number; payload: Buffer }> = [];
  readonly closed: Promise<void>;
  private readonly waiters: Array<() => void> = [];
  private ended = false;

  private constructor(readonly socket: Socket) {
    const decoder = new FrameDecoder((type, payload) => {
      this.frames.push({ type, payload: Buffer.from(payload) });
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        for (const w of this.waiters.splice(0)) w();
        resolve();
      }),
    );
  }

  static connect(target: ReverseTarget): Promise<RawReverseClient> {
    return new Promise((resolve, reject) => {
      const socket = 'path' in target ? createConnection(target.path) : createConnection(target.port, target.host);
      socket.once('connect', () => resolve(new RawReverseClient(socket)));
      socket.once('error', reject);
    });
  }

  send(type: number, payload: Uint8Array): void {
    this.socket.write(encodeFrame(type, payload));
  }

  register(agentId: string, o: Parameters<typeof registrationBody>[1] = {}): void {
    this.send(0x01, jsonBytes(registrationBody(agentId, o)));
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next frame from the proxy; rejects when the socket closes first or nothing comes in time. */
  async next(timeoutMs = 10_000): Promise<{ type: number; payload: Buffer }> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000; i++) {
      const f = this.frames.shift();
      if (f !== undefined) return f;
      if (this.ended) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    throw new Error(`no frame within ${timeoutMs} ms`);
  }

  async nextJson(type: number): Promise<Record<string, unknown>> {
    const f = await this.next();
    assert.equal(f.type, type, `expected frame 0x${type.toString(16)}, got 0x${f.type.toString(16)}`);
    return JSON.parse(f.payload.toString('utf8')) as Record<string, unknown>;
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Reads the proxy's answer, checks it is a complete §9.3 refusal followed by the close, and returns
 * its `error` text.
 */
export async function expectRefusal(client: RawReverseClient): Promise<string> {
  const body = await client.nextJson(0x02);
  assert.equal(body['success'], false);
  assert.deepEqual(Object.keys(body), ['success', 'error', 'proxy_id', 'proxy_version', 'connection_id']);
  assert.equal(body['proxy_id'], 'zentinel-proxy');
  assert.equal(body['proxy_version'], VERSION);
  assert.equal(body['connection_id'], '');
  assert.equal(typeof body['error'], 'string');
  await within(client.closed, 'the close after the refusal');
  return body['error'] as string;
}

/** Reads a success reply (§9.3) and returns its connection id. */
export async function expectAdmitted(client: RawReverseClient, agentId: string): Promise<string> {
  const body = await client.nextJson(0x02);
  assert.equal(body['success'], true, `refused: ${String(body['error'])}`);
  assert.equal(body['error'], null);
  assert.equal(body['proxy_id'], 'zentinel-proxy');
  const id = body['connection_id'] as string;
  assert.match(id, new RegExp(`^${agentId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]+$`));
  return id;
}

/** Polls `check` until it holds (bounded in time and count); fails with `what`. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000; i++) {
    if (check()) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}
