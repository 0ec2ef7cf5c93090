// What addAgent answers: how many connections came up on their first attempt and, for each one that
// did not, the typed error that stopped it — and, with `requireReady`, a rejection instead of a
// silent `{ ready: 0 }` (a missing socket, a refused handshake) when too few came up.
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import type { AgentOptions } from './pool-config.js';

export type AddAgentOptions = AgentOptions & {
  /**
   * Reject unless this many connections are ready once each first attempt has ended: `true` = at
   * least one, a number = at least that many (1 … connectionsPerAgent). Default: no requirement
   * (the agent is kept and its connections keep retrying). On rejection the agent is removed again;
   * the error has the code and, as `cause`, the error of the last connection that failed.
   * Not for reverse agents: they dial in later.
   */
  requireReady?: boolean | number;
};

export interface AddAgentResult {
  /** Connections ready after their first attempt. */
  ready: number;
  /** For each connection not ready, the error that ended its first attempt (in connection order). */
  errors: AgentPoolError[];
}

/** The minimum ready count `requireReady` asks for (0 = none); throws ZAP_INVALID_CONFIG when malformed. */
export function requiredReady(requireReady: boolean | number | undefined, connectionsPerAgent: number, where: string): number {
  if (requireReady === undefined || requireReady === false) return 0;
  if (requireReady === true) return 1;
  if (!Number.isSafeInteger(requireReady) || requireReady < 1 || requireReady > connectionsPerAgent) {
    throw zapError(
      ErrorCode.InvalidConfig,
      `${where}: option 'requireReady' must be a boolean or an integer from 1 to connectionsPerAgent ` +
        `(${connectionsPerAgent}), got ${String(requireReady)}`,
    );
  }
  return requireReady;
}

/** The rejection of an addAgent whose agent has fewer than `required` ready connections. */
export function notReadyError(agentId: string, result: AddAgentResult, required: number, connections: number): AgentPoolError {
  const last = result.errors.at(-1);
  const why = last === undefined ? 'no error was reported' : `last error: ${last.code}: ${last.message}`;
  return zapError(
    last?.code ?? ErrorCode.NoHealthyConnection,
    `Agent '${agentId}': ${result.ready} of ${connections} connections ready, at least ${required} required (${why})`,
    { agentId, cause: last },
  );
}
