// The router↔host contract as it crosses a MessagePort (workers: N). Each message is defined once
// here, and both ends send and receive only through these helpers. The per-tick hot-path messages
// are bytes (send-batch.ts one way, result-batch.ts the other): a batch travels as a bare
// ArrayBuffer (transferred when large), so nothing but the buffer itself crosses the port. A large
// send batch the host read without keeping a view of it goes back with the next results, as their
// 'spare', for the router to write its next batches into (a message of its own would wake the
// router's thread for nothing: measured, it doubled that thread's wake-ups).
import type { MessagePort, Worker } from 'node:worker_threads';
import { KEEP_BYTES } from '../protocol/growable-bytes.js';
import type { HostCommand, HostReport } from './host-messages.js';
import type { RareResult, ResultBatch } from './result-batch.js';

/** Router → host thread: a send batch (ArrayBuffer), or a command. */
export type ToHost = ArrayBuffer | { t: 'cmd'; c: HostCommand } | { t: 'terminate' };

/** Host thread → router: a results batch (a bare ArrayBuffer when nothing rare or spare goes with it), or a report. */
export type FromHost =
  ArrayBuffer | { t: 'results'; b: ArrayBuffer; x: RareResult[]; s?: ArrayBuffer[] } | { t: 'report'; r: HostReport } | { t: 'terminated' };

export interface RouterMessageHandlers {
  command(command: HostCommand): void;
  /** A send batch (send-batch.ts). */
  batch(bytes: ArrayBuffer): void;
  /** Close every connection, then answer 'terminated'. */
  terminate(): void;
}

export interface HostMessageHandlers {
  results(batch: ResultBatch): void;
  report(report: HostReport): void;
  /** A send batch's buffer, read and free (it came with results): the router's next batches may be written into it. */
  spare(buffer: ArrayBuffer): void;
  /** The host closed its connections after 'terminate'. */
  terminated(): void;
}

const NO_RARE: RareResult[] = [];

/**
 * Below this size a batch is copied, not transferred: moving a buffer's ownership costs more than
 * copying a few KiB (bench/worker-messages.ts, "small batches"); above it the transfer wins.
 */
export const COPY_BELOW_BYTES = 8192;

function transferOf(bytes: ArrayBuffer): ArrayBuffer[] {
  return bytes.byteLength < COPY_BELOW_BYTES ? [] : [bytes];
}

/** Sends a send batch (large ones are moved to the host thread, detached here). */
export function sendBatchToHost(worker: Worker, bytes: ArrayBuffer): void {
  worker.postMessage(bytes, transferOf(bytes));
}

export function sendToHost(worker: Worker, message: Exclude<ToHost, ArrayBuffer>): void {
  worker.postMessage(message);
}

/**
 * Whether a read send batch's buffer is worth giving back: it was moved here (a small one was copied)
 * and is no larger than a writer keeps (KEEP_BYTES; a burst's grown buffer is let go instead).
 */
export function isReusableBatch(bytes: ArrayBuffer): boolean {
  return bytes.byteLength >= COPY_BELOW_BYTES && bytes.byteLength <= KEEP_BYTES;
}

/** Spare send-batch buffers held on each side (the host's to give back, the router's to write into); more are let go. */
export const MAX_SPARES = 2;

/** Sends a results batch (large ones are moved to the router thread), and the read send batches' buffers `spares` with it. */
export function sendResultsToRouter(port: MessagePort, batch: ResultBatch, spares: readonly ArrayBuffer[] = []): void {
  const bytes = batch.bytes;
  const transfer = transferOf(bytes);
  if (spares.length === 0) {
    if (batch.rare.length === 0) port.postMessage(bytes, transfer);
    else port.postMessage({ t: 'results', b: bytes, x: batch.rare }, transfer);
    return;
  }
  transfer.push(...spares);
  port.postMessage({ t: 'results', b: bytes, x: batch.rare, s: spares }, transfer);
}

export function sendToRouter(port: MessagePort, message: Exclude<FromHost, ArrayBuffer | { t: 'results' }>): void {
  port.postMessage(message);
}

/** Host side: what the router sends. */
export function onRouterMessage(port: MessagePort, on: RouterMessageHandlers): void {
  port.on('message', (message: ToHost) => {
    if (message instanceof ArrayBuffer) return on.batch(message);
    switch (message.t) {
      case 'cmd':
        return on.command(message.c);
      case 'terminate':
        return on.terminate();
    }
  });
}

/** Router side: what the host thread sends. */
export function onHostMessage(worker: Worker, on: HostMessageHandlers): void {
  worker.on('message', (message: FromHost) => {
    if (message instanceof ArrayBuffer) return on.results({ bytes: message, rare: NO_RARE });
    switch (message.t) {
      case 'results':
        // The spare first: reading the results may throw (a router bug surfaces from there).
        if (message.s !== undefined) for (const spare of message.s) on.spare(spare);
        return on.results({ bytes: message.b, rare: message.x });
      case 'report':
        return on.report(message.r);
      case 'terminated':
        return on.terminated();
    }
  });
}
