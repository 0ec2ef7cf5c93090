// Structure-aware fuzzer for every reader of peer bytes in src/protocol: the frame decoder (random
// chunking), both payload codecs (every event kind, AgentResponse parse + validation, control
// messages), the handshake and registration readers, Cancel and Ping, and the gRPC messages. The oracle: a reader either
// returns or throws an AgentPoolError; anything else (TypeError, RangeError, …) is a failure, also
// downstream of what it returned (a MessagePort clone, re-encoding), as is heap growth past a bound
// or a frame decoder holding more than twice its bytes. Seeded: the same seed and input count
// replay the same run.
import { isDeepStrictEqual } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AgentPoolError, protocolError } from '../../src/protocol/errors.js';
import { jsonCodec, msgpackCodec, type PayloadCodec } from '../../src/protocol/payload-codec.js';
import { agentResponseFromWire } from '../../src/protocol/agent-response.js';
import { decodeHandshakeRequest, decodeHandshakeResponse, validateHandshakeResponse } from '../../src/protocol/handshake.js';
import { decodeRegistrationRequest, decodeRegistrationResponse, validateRegistration } from '../../src/protocol/registration.js';
import { decodeCancel } from '../../src/protocol/cancel.js';
import { decodePing } from '../../src/protocol/ping.js';
import { healthStatusFromWire } from '../../src/protocol/health-status.js';
import { metricsReportFromWire } from '../../src/protocol/metrics-report.js';
import { flowControlFromWire } from '../../src/protocol/flow-control.js';
import { configUpdateRequestFromWire, configUpdateResponseFromWire } from '../../src/protocol/config-update.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { encodeFrame } from '../../src/protocol/frame-encoder.js';
import { EVENT_MESSAGE_TYPE, eventKindOfMessageType, MessageType } from '../../src/protocol/message-type.js';
import type { EventKind } from '../../src/protocol/types.js';
import { ALL_EVENT_KINDS } from '../support/events.js';
import { msgpackBombs } from '../support/msgpack-bombs.js';
import { wireCorpus } from './codec-corpus.js';
import { encodeWire, mutateBytes, mutateStructure, Rng } from './mutators.js';
import { protoTargets } from './proto-targets.js';

export interface FuzzOptions {
  seed: number;
  inputs: number;
  /** Fail when heapUsed (after a full GC) grows more than this over the warmed-up baseline. */
  heapBoundBytes?: number;
  /** Called every `progressEvery` inputs. */
  onProgress?: (done: number, inputsPerSecond: number, heapUsed: number) => void;
  progressEvery?: number;
}

export interface FuzzFailure {
  target: string;
  index: number;
  inputHex: string;
  /** Chunk sizes the frame target pushed the input in (empty for the other targets). */
  chunks: number[];
  error: string;
}

export interface FuzzSummary {
  seed: number;
  inputs: number;
  seconds: number;
  inputsPerSecond: number;
  /** Per target: inputs run, accepted (returned), refused with an AgentPoolError. */
  targets: Record<string, { inputs: number; accepted: number; refused: number }>;
  heapBaseline: number;
  heapMax: number;
  slowestMs: number;
  slowestTarget: string;
  /** The slowest input itself, as hex, for a look at what made it slow. */
  slowestInputHex: string;
  failure: FuzzFailure | null;
}

/** A target reads one payload; `chunks` only matters for the frame decoder. */
interface Target {
  name: string;
  msgpack: boolean;
  seeds: unknown[];
  /** Seeds already as bytes (gRPC messages): byte-level mutations only. */
  encoded?: Buffer[];
  run(payload: Buffer, chunks: number[]): void;
}

class DecoderBoundError extends Error {}

function codecTargets(codec: PayloadCodec, corpus: ReturnType<typeof wireCorpus>): Target[] {
  const msgpack = codec === msgpackCodec;
  const name = codec.encoding;
  const targets: Target[] = ALL_EVENT_KINDS.map((kind) => ({
    name: `${name}:event:${kind}`,
    msgpack,
    seeds: [corpus.events[kind]],
    run: (p) => {
      const d = codec.decodeEvent(kind, p);
      // Downstream of the decoder: a MessagePort clone (workers) and an agent echoing the event back.
      structuredClone(d.event);
      codec.encodeEvent(kind, d.event, d.correlationId);
    },
  }));
  const control = (what: string, seeds: unknown[], fromWire: (v: unknown) => unknown): Target => ({
    name: `${name}:${what}`,
    msgpack,
    seeds,
    run: (p) => void structuredClone(fromWire(codec.decodeValue(p))),
  });
  targets.push(
    {
      name: `${name}:response`,
      msgpack,
      seeds: corpus.responses,
      run: (p) => {
        // As a connection reads it; where the JSON scanner took the reply, the general path must agree.
        const read = codec.readReply(p);
        const response = read.response ?? agentResponseFromWire(read.body);
        if (read.response !== undefined) {
          const parsed = codec.parseResponse(p);
          if (!isDeepStrictEqual(agentResponseFromWire(parsed.body), response) || parsed.correlationId !== read.correlationId)
            throw new Error('the reply scanner and the general path read this reply differently');
        }
        structuredClone(response);
        codec.encodeResponse(response, 'c-1');
      },
    },
    control('health', [corpus.health], healthStatusFromWire),
    control('metrics', [corpus.metrics], metricsReportFromWire),
    control('flow-control', [corpus.flowControl], flowControlFromWire),
    control('config-update-request', corpus.configUpdateRequests, configUpdateRequestFromWire),
    control('config-update-response', [corpus.configUpdateResponse], configUpdateResponseFromWire),
  );
  return targets;
}

/** What a connection does with one frame: decode it as the receiving side would. */
function dispatchFrame(type: number, payload: Buffer, codec: PayloadCodec): void {
  const kind = eventKindOfMessageType(type);
  try {
    if (kind !== undefined) codec.decodeEvent(kind, payload);
    else if (type === MessageType.AgentResponse) {
      const read = codec.readReply(payload);
      if (read.response === undefined) agentResponseFromWire(read.body);
    } else if (type === MessageType.HandshakeRequest) decodeHandshakeRequest(payload);
    else if (type === MessageType.HandshakeResponse) decodeHandshakeResponse(payload);
    else if (type === MessageType.Cancel) decodeCancel(payload);
    else if (type === MessageType.Ping || type === MessageType.Pong) decodePing(payload);
    else if (type === MessageType.HealthStatus) healthStatusFromWire(codec.decodeValue(payload));
    else if (type === MessageType.MetricsReport) metricsReportFromWire(codec.decodeValue(payload));
    else if (type === MessageType.FlowControl) flowControlFromWire(codec.decodeValue(payload));
    else if (type === MessageType.ConfigUpdateRequest) configUpdateRequestFromWire(codec.decodeValue(payload));
  } catch (err) {
    // A bad payload is that frame's problem (the connection decides); only untyped errors escape.
    if (!(err instanceof AgentPoolError)) throw err;
  }
}

function frameTarget(codec: PayloadCodec, corpus: ReturnType<typeof wireCorpus>): Target {
  const kinds = ALL_EVENT_KINDS;
  return {
    name: `${codec.encoding}:frames`,
    msgpack: codec === msgpackCodec,
    // A stream seed is a list of [type, wire value] frames; the fuzzer encodes them, then mutates bytes.
    seeds: [
      kinds.map((k: EventKind) => [EVENT_MESSAGE_TYPE[k], corpus.events[k]]),
      [
        [MessageType.AgentResponse, corpus.responses[1]],
        [MessageType.HealthStatus, corpus.health],
        [MessageType.Ping, corpus.ping],
      ],
    ],
    run: (stream, chunks) => {
      const d = new FrameDecoder((type, payload) => dispatchFrame(type, payload, codec));
      // A framing error (AgentPoolError) ends the input: the connection would close.
      let at = 0;
      for (let i = 0; at < stream.length; i++) {
        const size = chunks[i % chunks.length] as number;
        d.push(stream.subarray(at, at + size));
        at += size;
        if (d.capacity > Math.max(2 * d.bufferedBytes, 4096)) {
          throw new DecoderBoundError(`frame decoder capacity ${d.capacity} for ${d.bufferedBytes} bytes held`);
        }
      }
      d.end();
    },
  };
}

function jsonTargets(corpus: ReturnType<typeof wireCorpus>): Target[] {
  const always = { requireAuth: true, authTokens: ['secret'], allowedAgents: ['waf-*'] };
  const t = (name: string, seeds: unknown[], run: (p: Buffer) => void): Target => ({ name, msgpack: false, seeds, run });
  return [
    t('handshake-request', [corpus.handshakeRequest], (p) => void decodeHandshakeRequest(p)),
    t(
      'handshake-response',
      [corpus.handshakeResponse],
      (p) => void validateHandshakeResponse(decodeHandshakeResponse(p), 'prefer-msgpack'),
    ),
    t('registration-request', [corpus.registrationRequest], (p) => void decodeRegistrationRequest(p)),
    t('registration-validate', [corpus.registrationRequest], (p) => {
      // A refusal verdict counts as refused, like a thrown AgentPoolError.
      const verdict = validateRegistration(0x01, p, always);
      if (!verdict.ok) throw protocolError(verdict.error);
    }),
    t('registration-response', [corpus.registrationResponse], (p) => void decodeRegistrationResponse(p)),
    t('cancel', [corpus.cancel], (p) => void decodeCancel(p)),
    t('ping', [corpus.ping], (p) => void decodePing(p)),
  ];
}

function encodeSeed(target: Target, seed: unknown): Buffer {
  if (!target.name.endsWith(':frames')) return encodeWire(seed, target.msgpack);
  return Buffer.concat((seed as [number, unknown][]).map(([type, v]) => encodeFrame(type, encodeWire(v, target.msgpack))));
}

// Error texts are logged and sometimes sent to the peer: peer bytes in them must be escaped (peerText)
// and bounded. C0/C1 controls, line/paragraph separators and bidi controls must never appear raw.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const MAX_MESSAGE = 1024;

/** Why an error message is unsafe to log, or null. */
function unsafeMessage(message: string): string | null {
  if (message.length > MAX_MESSAGE) return `is ${message.length} characters long (peer text not bounded)`;
  if (RAW_CONTROL.test(message)) return 'holds a raw control character (peer text not escaped)';
  return null;
}

function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.constructor.name}: ${err.message}\n${err.stack ?? ''}` : `thrown non-Error: ${String(err)}`;
}

export function runFuzz(o: FuzzOptions): FuzzSummary {
  const rng = new Rng(o.seed);
  const corpus = wireCorpus();
  const targets = [
    ...codecTargets(jsonCodec, corpus),
    ...codecTargets(msgpackCodec, corpus),
    ...jsonTargets(corpus),
    frameTarget(jsonCodec, corpus),
    frameTarget(msgpackCodec, corpus),
    ...protoTargets().map((b): Target => ({ name: b.name, msgpack: false, seeds: [], encoded: b.seeds, run: b.run })),
  ];
  const encodedSeeds = targets.map((t) => t.encoded ?? t.seeds.map((s) => encodeSeed(t, s)));
  const bombs = msgpackBombs().map(([, b]) => b);
  const stats: FuzzSummary['targets'] = {};
  for (const t of targets) stats[t.name] = { inputs: 0, accepted: 0, refused: 0 };
  const gc = gcFunction();
  const heapBound = o.heapBoundBytes ?? 64 * 1024 * 1024;
  const every = o.progressEvery ?? 10_000;
  const warmup = Math.min(5_000, Math.floor(o.inputs / 4));
  let heapBaseline = 0;
  let heapMax = 0;
  let slowestMs = 0;
  let slowestTarget = '';
  let slowestInput: Buffer = Buffer.alloc(0);
  let failure: FuzzFailure | null = null;
  const t0 = performance.now();

  for (let i = 0; i < o.inputs; i++) {
    const ti = rng.int(targets.length);
    const target = targets[ti] as Target;
    const seeds = encodedSeeds[ti] as Buffer[];
    let input: Buffer;
    if (target.msgpack && rng.chance(0.02)) {
      input = rng.pick(bombs);
    } else if (rng.chance(0.4) && target.encoded === undefined && !target.name.endsWith(':frames')) {
      input = encodeWire(mutateStructure(rng.pick(target.seeds), rng, target.msgpack), target.msgpack);
    } else {
      input = rng.pick(seeds);
    }
    for (let m = rng.int(4); m > 0; m--) input = mutateBytes(input, rng.pick(seeds), rng, target.msgpack);
    const chunks = target.name.endsWith(':frames')
      ? Array.from({ length: 1 + rng.int(5) }, () => 1 + rng.int(rng.chance(0.3) ? 4 : 400))
      : [];
    const stat = stats[target.name] as { inputs: number; accepted: number; refused: number };
    stat.inputs++;
    const start = performance.now();
    try {
      target.run(input, chunks);
      stat.accepted++;
    } catch (err) {
      const unsafe = err instanceof AgentPoolError ? unsafeMessage(err.message) : null;
      if (err instanceof AgentPoolError && unsafe === null) {
        stat.refused++;
      } else if (unsafe !== null) {
        failure = {
          target: target.name,
          index: i,
          inputHex: input.toString('hex'),
          chunks,
          error: `AgentPoolError message ${unsafe}: ${JSON.stringify(err instanceof Error ? err.message.slice(0, 300) : '')}`,
        };
        break;
      } else {
        failure = { target: target.name, index: i, inputHex: input.toString('hex'), chunks, error: describeError(err) };
        break;
      }
    }
    const ms = performance.now() - start;
    if (ms > slowestMs) {
      slowestMs = ms;
      slowestTarget = target.name;
      slowestInput = input;
    }
    if ((i + 1) % every === 0 || i + 1 === warmup) {
      gc();
      const heap = process.memoryUsage().heapUsed;
      if (i + 1 === warmup) heapBaseline = heap;
      if (i + 1 > warmup) {
        heapMax = Math.max(heapMax, heap);
        if (heap - heapBaseline > heapBound) {
          failure = {
            target: '(heap)',
            index: i,
            inputHex: '',
            chunks: [],
            error: `heapUsed grew ${heap - heapBaseline} bytes past the baseline (bound ${heapBound})`,
          };
          break;
        }
      }
      o.onProgress?.(i + 1, ((i + 1) * 1000) / (performance.now() - t0), heap);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const inputs = Object.values(stats).reduce((n, s) => n + s.inputs, 0);
  return {
    seed: o.seed,
    inputs,
    seconds,
    inputsPerSecond: inputs / seconds,
    targets: stats,
    heapBaseline,
    heapMax,
    slowestMs,
    slowestTarget,
    slowestInputHex: slowestInput.toString('hex'),
    failure,
  };
}
