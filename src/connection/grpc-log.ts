// Spec §7.3: an agent's gRPC LogMessage re-logged by the proxy, level 1 → debug, 2 → info,
// 3 → warn, 4 → error (0 or unknown → info), with the agent, correlation id and fields added.
import type { LogMessage } from '../protocol/types.js';

const METHOD: Record<number, 'debug' | 'info' | 'warn' | 'error'> = { 1: 'debug', 2: 'info', 3: 'warn', 4: 'error' };

export function logLevelName(level: number): 'debug' | 'info' | 'warn' | 'error' {
  return METHOD[level] ?? 'info';
}

/** One line: `[zap agent <id>] <message> {"correlation_id":…,"fields":{…}}`. */
export function relogAgentLog(agentId: string, log: LogMessage): void {
  const extra: Record<string, unknown> = {};
  if (log.correlationId !== undefined) extra['correlation_id'] = log.correlationId;
  if (Object.keys(log.fields).length > 0) extra['fields'] = log.fields;
  const tail = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
  console[logLevelName(log.level)](`[zap agent ${agentId}] ${log.message}${tail}`);
}
