// The initial Configure of a new connection (spec §10.7): is_initial true, config_version = the
// push id. Anything but Allow, or no answer, fails the connection with ZAP_HANDSHAKE_FAILED — the
// same rule for every transport.
import { AgentPoolError, ErrorCode, zapError } from '../protocol/errors.js';
import type { AgentResponse, EventMap } from '../protocol/types.js';

interface ConfigurableConnection {
  readonly agentId: string;
  send(kind: 'configure', event: EventMap['configure'], correlationId: string): Promise<AgentResponse>;
  close(): void;
}

export async function sendInitialConfigure(connection: ConfigurableConnection, config: unknown, pushId: string): Promise<void> {
  try {
    const reply = await connection.send('configure', { correlationId: pushId, config, configVersion: pushId, isInitial: true }, pushId);
    if (reply.decision.type !== 'allow') throw new Error(`initial configuration rejected (${reply.decision.type})`);
  } catch (err) {
    connection.close();
    const why = err instanceof Error ? err.message : String(err);
    throw zapError(ErrorCode.HandshakeFailed, `Handshake with agent '${connection.agentId}' failed: ${why}`, {
      agentId: connection.agentId,
      cause: err instanceof AgentPoolError ? err : undefined,
    });
  }
}
