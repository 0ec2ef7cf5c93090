// Typed errors (spec §10.11). One base class with a stable string `code` that survives a
// MessagePort or a process boundary: serialize with toSerialized(), rebuild with fromSerialized().

export const ErrorCode = {
  ConnectFailed: 'ZAP_CONNECT_FAILED',
  HandshakeFailed: 'ZAP_HANDSHAKE_FAILED',
  Timeout: 'ZAP_TIMEOUT',
  Abort: 'ABORT_ERR',
  CircuitOpen: 'ZAP_CIRCUIT_OPEN',
  FlowPaused: 'ZAP_FLOW_PAUSED',
  NoHealthyConnection: 'ZAP_NO_HEALTHY_CONNECTION',
  /** The connection was lost, or its stream failed, while the call was outstanding. */
  ConnectionLost: 'ZAP_CONNECTION_LOST',
  /** The caller's event or options are malformed; raised before admission, nothing is sent. */
  InvalidArgument: 'ZAP_INVALID_ARGUMENT',
  /** An unexpected internal error only. */
  Error: 'ZAP_ERROR',
  FrameTooLarge: 'ZAP_FRAME_TOO_LARGE',
  ProtocolError: 'ZAP_PROTOCOL_ERROR',
  QueueFull: 'ZAP_QUEUE_FULL',
  WorkerLost: 'ZAP_WORKER_LOST',
  NotFound: 'ZAP_NOT_FOUND',
  /** Bad options or configuration given by the caller. */
  InvalidConfig: 'ZAP_INVALID_CONFIG',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface AgentPoolErrorOptions {
  agentId?: string | undefined;
  correlationId?: string | undefined;
  cause?: unknown;
}

export interface SerializedAgentPoolError {
  code: ErrorCodeValue;
  message: string;
  agentId?: string;
  correlationId?: string;
  cause?: string;
}

export class AgentPoolError extends Error {
  readonly code: ErrorCodeValue;
  readonly agentId: string | undefined;
  readonly correlationId: string | undefined;

  constructor(code: ErrorCodeValue, message: string, options: AgentPoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // AbortError-compatible (spec §10.9): name "AbortError", code "ABORT_ERR".
    this.name = code === ErrorCode.Abort ? 'AbortError' : 'AgentPoolError';
    this.agentId = options.agentId;
    this.correlationId = options.correlationId;
  }

  /** `kind` label of `agent_errors_total` (spec §12.2). */
  get kind(): string {
    return this.code.toLowerCase().replace(/^zap_/, '');
  }

  toSerialized(): SerializedAgentPoolError {
    const out: SerializedAgentPoolError = { code: this.code, message: this.message };
    if (this.agentId !== undefined) out.agentId = this.agentId;
    if (this.correlationId !== undefined) out.correlationId = this.correlationId;
    if (this.cause !== undefined) out.cause = String(this.cause instanceof Error ? this.cause.message : this.cause);
    return out;
  }

  static fromSerialized(s: SerializedAgentPoolError): AgentPoolError {
    return new AgentPoolError(s.code, s.message, {
      agentId: s.agentId,
      correlationId: s.correlationId,
      cause: s.cause,
    });
  }
}

export function isAgentPoolError(value: unknown): value is AgentPoolError {
  return value instanceof AgentPoolError;
}

/** Shorthand constructor used across the code base. */
export function zapError(code: ErrorCodeValue, message: string, options?: AgentPoolErrorOptions): AgentPoolError {
  return new AgentPoolError(code, message, options);
}

export function protocolError(message: string, options?: AgentPoolErrorOptions): AgentPoolError {
  return new AgentPoolError(ErrorCode.ProtocolError, message, options);
}
