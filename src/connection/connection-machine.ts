// Lifecycle of one pool connection as an xstate machine (spec §10.4): connecting → handshaking →
// ready ⇄ paused → draining → closed, + backoff → connecting. Only the lifecycle lives here;
// per-request bookkeeping stays in plain Maps inside FramedConnection (an xstate event costs ~2 µs).
//
// The transport work is injected as two promise actors, `connect` and `handshake`, so the same
// definition drives UDS, gRPC and (without redial) reverse connections, and tests can walk it.
import { backoffDelayMs } from './backoff.js';
import { xstate } from './xstate-runtime.js';

export interface ConnectionMachineInput {
  /** Proxy-dialled connections redial after loss; accepted reverse connections do not. */
  redial: boolean;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface ConnectionMachineContext extends ConnectionMachineInput {
  /** Consecutive failed attempts (k of spec §10.8); reset by a successful handshake. */
  attempt: number;
  /** Why the connection last failed, for stats and logs. */
  lastError: string | null;
}

export type ConnectionMachineEvent =
  /** Agent flow control: global PAUSE / RESUME (spec §10.5). */
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  /** The pool drains this connection (drainAgent, removeAgent, close): no new requests. Agent-reported
   *  health (degraded / draining / unhealthy) is an overlay on `ready`, not a lifecycle state. */
  | { type: 'DRAIN' }
  /** Nothing outstanding any more while draining. */
  | { type: 'DRAINED' }
  /** The transport died (socket closed, stream ended, ping timeout, protocol violation). */
  | { type: 'LOST'; error: string }
  /** Close for good (removeAgent, shutdown). */
  | { type: 'CLOSE' };

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function defineConnectionMachine() {
  const { assign, fromPromise, setup } = xstate();
  return setup({
    types: {
      context: {} as ConnectionMachineContext,
      events: {} as ConnectionMachineEvent,
      input: {} as ConnectionMachineInput,
    },
    actors: {
      // Placeholders: the connection actor provides the transport's implementations.
      connect: fromPromise<unknown, { attempt: number }>(() => Promise.reject(new Error('connect not provided'))),
      handshake: fromPromise<unknown, { transport: unknown }>(() => Promise.reject(new Error('handshake not provided'))),
    },
    delays: {
      backoff: ({ context }) => backoffDelayMs(context.attempt, context.initialBackoffMs, context.maxBackoffMs),
    },
    guards: {
      redials: ({ context }) => context.redial,
    },
    actions: {
      recordFailure: assign({
        attempt: ({ context }) => context.attempt + 1,
        lastError: (_, params: { error: unknown }) => errorText(params.error),
      }),
      recordLoss: assign({ lastError: (_, params: { error: string }) => params.error }),
      resetAttempts: assign({ attempt: 0 }),
    },
  }).createMachine({
    id: 'connection',
    context: ({ input }) => ({ ...input, attempt: 0, lastError: null }),
    initial: 'connecting',
    states: {
      connecting: {
        invoke: {
          src: 'connect',
          input: ({ context }) => ({ attempt: context.attempt }),
          onDone: { target: 'handshaking' },
          onError: [
            { guard: 'redials', target: 'backoff', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
            { target: 'closed', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
          ],
        },
        on: { CLOSE: 'closed' },
      },
      handshaking: {
        invoke: {
          src: 'handshake',
          input: ({ event }) => ({ transport: (event as unknown as { output: unknown }).output }),
          onDone: { target: 'ready', actions: 'resetAttempts' },
          onError: [
            { guard: 'redials', target: 'backoff', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
            { target: 'closed', actions: { type: 'recordFailure', params: ({ event }) => ({ error: event.error }) } },
          ],
        },
        on: { CLOSE: 'closed' },
      },
      ready: {
        on: {
          PAUSE: 'paused',
          DRAIN: 'draining',
          LOST: [
            { guard: 'redials', target: 'backoff', actions: { type: 'recordLoss', params: ({ event }) => ({ error: event.error }) } },
            { target: 'closed', actions: { type: 'recordLoss', params: ({ event }) => ({ error: event.error }) } },
          ],
          CLOSE: 'closed',
        },
      },
      paused: {
        on: {
          RESUME: 'ready',
          DRAIN: 'draining',
          LOST: [
            { guard: 'redials', target: 'backoff', actions: { type: 'recordLoss', params: ({ event }) => ({ error: event.error }) } },
            { target: 'closed', actions: { type: 'recordLoss', params: ({ event }) => ({ error: event.error }) } },
          ],
          CLOSE: 'closed',
        },
      },
      draining: {
        on: {
          DRAINED: 'closed',
          LOST: { target: 'closed', actions: { type: 'recordLoss', params: ({ event }) => ({ error: event.error }) } },
          CLOSE: 'closed',
        },
      },
      backoff: {
        after: { backoff: 'connecting' },
        on: { CLOSE: 'closed' },
      },
      closed: { type: 'final' },
    },
  });
}

export type ConnectionMachine = ReturnType<typeof defineConnectionMachine>;
let defined: ConnectionMachine | undefined;

/** The machine, defined on first use (xstate loads with it). */
export function connectionMachine(): ConnectionMachine {
  return (defined ??= defineConnectionMachine());
}

/** The states this machine runs, as named in the router↔host contract. */
export type { ConnectionStateName } from '../contract/connection-state.js';
