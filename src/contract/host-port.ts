// The router↔host contract as it crosses a MessagePort (workers: N). Each message is defined once
// here, and both ends send and receive only through these helpers. The per-tick messages ('batch'
// one way, 'results' the other) are posted exactly as written: the helpers add no wrapping object.
import type { MessagePort, Worker } from 'node:worker_threads';
import type { CancelItem, HostCommand, HostReport, PackedSendItem, WorkerResult } from './host-messages.js';

/** Router → host thread. */
export type ToHost =
  | { t: 'cmd'; c: HostCommand }
  /** One per tick: every frame of the tick's sends packed in `b` (transferred, not cloned), and the cancels. */
  | { t: 'batch'; s: PackedSendItem[]; b: ArrayBuffer; c: CancelItem[] }
  | { t: 'terminate' };

/** Host thread → router. */
export type FromHost =
  /** One per tick: the tick's results, replies in sparse form. */
  { t: 'results'; r: WorkerResult[] } | { t: 'report'; r: HostReport } | { t: 'terminated' };

export interface RouterMessageHandlers {
  command(command: HostCommand): void;
  batch(sends: PackedSendItem[], bytes: ArrayBuffer, cancels: CancelItem[]): void;
  /** Close every connection, then answer 'terminated'. */
  terminate(): void;
}

export interface HostMessageHandlers {
  results(results: WorkerResult[]): void;
  report(report: HostReport): void;
  /** The host closed its connections after 'terminate'. */
  terminated(): void;
}

/** `transfer`: the batch's ArrayBuffer, moved to the host thread. */
export function sendToHost(worker: Worker, message: ToHost, transfer?: readonly ArrayBuffer[]): void {
  worker.postMessage(message, transfer);
}

export function sendToRouter(port: MessagePort, message: FromHost): void {
  port.postMessage(message);
}

/** Host side: what the router sends. */
export function onRouterMessage(port: MessagePort, on: RouterMessageHandlers): void {
  port.on('message', (message: ToHost) => {
    switch (message.t) {
      case 'batch':
        return on.batch(message.s, message.b, message.c);
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
    switch (message.t) {
      case 'results':
        return on.results(message.r);
      case 'report':
        return on.report(message.r);
      case 'terminated':
        return on.terminated();
    }
  });
}
