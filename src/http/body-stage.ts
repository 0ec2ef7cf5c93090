// One agent's view of one body (spec §10.2): its body mode decides what is buffered and when chunks
// go out; every chunk is answered before the next is sent; needs_more keeps a non-allow provisional.
import type { AgentResponse, Decision } from '../protocol/types.js';
import { applyBodyMutation } from '../protocol/body-mutation.js';
import type { RouteAgent } from './route.js';
import { bodyTooLarge, callAgent } from './agent-call.js';

export type BodyDirection = 'request' | 'response';

/** What the stage passes on: bytes for the next stage, or a decision that ends the request. */
export type StageResult = { type: 'pass'; chunks: Buffer[] } | { type: 'stop'; decision: Decision };

/** Sends one chunk event of this body to the agent. */
export type ChunkSender = (chunk: ChunkEventFields, timeoutMs: number) => Promise<AgentResponse>;

export interface ChunkEventFields {
  data: Buffer;
  isLast: boolean;
  totalSize: number | null;
  chunkIndex: number;
  /** Cumulative bytes of this body sent to the agent, this chunk included. */
  bytes: number;
}

/** Called for a mutation that could not be applied or an agent that failed open (already escaped text). */
export type StageWarn = (message: string) => void;

export class BodyStage {
  private readonly buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Hybrid: past the threshold. Stream: always. */
  private streaming: boolean;
  private chunkIndex = 0;
  private seen = 0;
  private sent = 0;
  /** Fail-open agent that failed or outgrew its limit: bytes pass untouched. */
  private skipped = false;

  constructor(
    private readonly agent: RouteAgent,
    private readonly direction: BodyDirection,
    private readonly totalSize: number | null,
    private readonly send: ChunkSender,
    private readonly warn: StageWarn,
  ) {
    this.streaming = this.mode().mode === 'stream';
  }

  private mode(): RouteAgent['requestBodyMode'] {
    return this.direction === 'request' ? this.agent.requestBodyMode : this.agent.responseBodyMode;
  }

  private limit(): number {
    return this.direction === 'request' ? this.agent.maxRequestBodyBytes : this.agent.maxResponseBodyBytes;
  }

  /** Takes the next bytes of the body (`isLast` on the final call, possibly with zero bytes). */
  async push(chunk: Buffer, isLast: boolean): Promise<StageResult> {
    if (this.skipped) return { type: 'pass', chunks: chunk.length > 0 ? [chunk] : [] };
    this.seen += chunk.length;
    if (this.seen > this.limit()) {
      if (this.agent.failureMode === 'closed') return { type: 'stop', decision: bodyTooLarge() };
      this.warn(`agent ${this.agent.id}: ${this.direction} body over ${this.limit()} bytes, not inspected further (fail-open)`);
      return this.skip(chunk);
    }
    if (!this.streaming) {
      if (chunk.length > 0) this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      const { mode, hybridThreshold } = this.mode();
      if (!isLast && (mode === 'buffer' || this.bufferedBytes < hybridThreshold)) return { type: 'pass', chunks: [] };
      chunk = Buffer.concat(this.buffered, this.bufferedBytes);
      this.buffered.length = 0;
      this.bufferedBytes = 0;
      this.streaming = mode === 'hybrid';
    }
    // Nothing new and nothing sent before: an empty body is not inspected.
    if (chunk.length === 0 && (!isLast || this.chunkIndex === 0)) return { type: 'pass', chunks: [] };
    return this.inspect(chunk, isLast);
  }

  private skip(chunk: Buffer): StageResult {
    this.skipped = true;
    const chunks = [...this.buffered, chunk].filter((c) => c.length > 0);
    this.buffered.length = 0;
    this.bufferedBytes = 0;
    return { type: 'pass', chunks };
  }

  private async inspect(data: Buffer, isLast: boolean): Promise<StageResult> {
    this.sent += data.length;
    const fields: ChunkEventFields = { data, isLast, totalSize: this.totalSize, chunkIndex: this.chunkIndex++, bytes: this.sent };
    // A streamed chunk gets the chunk timeout; the single chunk of a buffered body the call timeout.
    const whole = isLast && fields.chunkIndex === 0;
    const outcome = await callAgent(this.agent, () => this.send(fields, whole ? this.agent.timeoutMs : this.agent.chunkTimeoutMs));
    if (outcome.kind === 'failed') return { type: 'stop', decision: outcome.decision };
    if (outcome.kind === 'skipped') {
      this.warn(`agent ${this.agent.id}: ${outcome.error.code} on a ${this.direction} body chunk, skipped (fail-open)`);
      return this.skip(data);
    }
    const reply = outcome.response;
    // needs_more: a non-allow is provisional until a reply without it, or the last chunk (spec §6.9.6).
    if (reply.decision.type !== 'allow' && (!reply.needsMore || isLast)) return { type: 'stop', decision: reply.decision };
    const mutation = this.direction === 'request' ? reply.requestBodyMutation : reply.responseBodyMutation;
    const applied = applyBodyMutation(this.direction, mutation, data);
    if (applied.ignored !== undefined) this.warn(`agent ${this.agent.id}: ${applied.ignored}; chunk passed unchanged`);
    const out = Buffer.from(applied.data.buffer, applied.data.byteOffset, applied.data.byteLength);
    return { type: 'pass', chunks: out.length > 0 ? [out] : [] };
  }
}

/**
 * Runs one piece of body through the stages in configured order ("one after another, stop at the
 * first non-allow", spec §10.2): each stage's output is the next stage's input.
 */
export async function runStages(stages: readonly BodyStage[], chunk: Buffer, isLast: boolean): Promise<StageResult> {
  let chunks = [chunk];
  for (const stage of stages) {
    const next: Buffer[] = [];
    for (let i = 0; i < chunks.length; i++) {
      const last = isLast && i === chunks.length - 1;
      const result = await stage.push(chunks[i] as Buffer, last);
      if (result.type === 'stop') return result;
      next.push(...result.chunks);
    }
    // The end must reach every later stage even when this one passed nothing on.
    if (isLast && chunks.length === 0) {
      const result = await stage.push(Buffer.alloc(0), true);
      if (result.type === 'stop') return result;
      next.push(...result.chunks);
    }
    chunks = next;
  }
  return { type: 'pass', chunks };
}
