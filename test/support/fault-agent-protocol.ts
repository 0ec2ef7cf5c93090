// IPC messages between a fault-injection test and its fault-agent process (fault-agent.ts).

/**
 * How the agent treats events from now on: answer at once, never, after delayMs (ignoring Cancel),
 * or answer one event in `answerOneIn` at once and never the others.
 */
export type Behaviour =
  { kind: 'normal' } | { kind: 'hang' } | { kind: 'slow'; delayMs: number } | { kind: 'partial'; answerOneIn: number };

/**
 * One-shot misbehaviour written on every established connection:
 * garbage = random bytes whose length prefix reads > 16 MiB; unknown-type = a frame of type 0xf0;
 * bad-json = an AgentResponse frame whose payload is not JSON; half-frame = half of a real reply,
 * then close; half-header = 2 of the 4 length bytes, then close; close = orderly close between frames.
 */
export type FaultKind = 'garbage' | 'unknown-type' | 'bad-json' | 'half-frame' | 'half-header' | 'close';

export interface AgentStatsSnapshot {
  /** Events received (any kind, after the handshake). */
  received: number;
  answered: number;
  cancels: number;
  cancelReasons: Record<string, number>;
  /** Cancels for a cid the socket they came on never carried (each should go to its carrier only). */
  strayCancels: number;
  /** Pings answered with a Pong (liveness, spec §10.8). */
  pings: number;
  handshakes: number;
  /** Sockets open now. */
  open: number;
  /** Connections a one-shot fault was written on, in total. */
  faultsWritten: number;
}

export type ToAgent =
  | { op: 'behave'; id: number; behaviour: Behaviour }
  | { op: 'inject'; id: number; fault: FaultKind }
  /** Writes an AgentResponse (allow) for `cid` on every established connection, pending there or not. */
  | { op: 'reply'; id: number; cid: string }
  | { op: 'stats'; id: number };

export type FromAgent = { op: 'listening' } | { op: 'ack'; id: number; value: unknown };
