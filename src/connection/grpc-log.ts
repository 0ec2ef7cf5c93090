// Spec §7.3: an agent's gRPC LogMessage re-logged by the proxy, level 1 → debug, 2 → info,
// 3 → warn, 4 → error (0 or unknown → info), with the agent, correlation id and fields added.
// Every part of it is the agent's text: escaped and cut (peer-text.ts), so one LogMessage is one
// line in our log however many newlines or escape sequences it carries.
import { peerText } from '../protocol/peer-text.js';
import type { LogMessage } from '../protocol/types.js';

const METHOD: Record<number, 'debug' | 'info' | 'warn' | 'error'> = { 1: 'debug', 2: 'info', 3: 'warn', 4: 'error' };
/** Longer than an id: a log message is prose. */
const MESSAGE_MAX = 1024;
/** Fields beyond this many are counted, not printed. */
const MAX_FIELDS = 32;

function logLevelName(level: number): 'debug' | 'info' | 'warn' | 'error' {
  return METHOD[level] ?? 'info';
}

/** One line: `[zap agent <id>] <message> {"correlation_id":…,"fields":{…}}`. */
export function formatAgentLog(agentId: string, log: LogMessage): string {
  const extra: Record<string, unknown> = {};
  if (log.correlationId !== undefined) extra['correlation_id'] = peerText(log.correlationId);
  const names = Object.keys(log.fields);
  if (names.length > 0) {
    // Entries, not assignment: a field named `__proto__` stays a field.
    const fields = names.slice(0, MAX_FIELDS).map((name) => [peerText(name), peerText(log.fields[name])]);
    if (names.length > MAX_FIELDS) fields.push(['…', `${names.length - MAX_FIELDS} more fields`]);
    extra['fields'] = Object.fromEntries(fields);
  }
  const tail = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
  return `[zap agent ${peerText(agentId)}] ${peerText(log.message, MESSAGE_MAX)}${tail}`;
}

export function relogAgentLog(agentId: string, log: LogMessage): void {
  console[logLevelName(log.level)](formatAgentLog(agentId, log));
}
