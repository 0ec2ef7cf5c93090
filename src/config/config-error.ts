// Configuration errors: ZAP_INVALID_CONFIG with the message `<file>:<line>: <what>` (spec §13).
import { ErrorCode, zapError, type AgentPoolError } from '../protocol/errors.js';

/** `<file>:<line>: <what>`; a line of 0 (position unknown) is left out. */
export function configLocation(file: string, line: number): string {
  return line > 0 ? `${file}:${line}` : file;
}

export function configError(file: string, line: number, what: string): AgentPoolError {
  return zapError(ErrorCode.InvalidConfig, `${configLocation(file, line)}: ${what}`);
}

/** Shows a KDL value the way it is written in KDL (strings quoted, `#true`, `#null`). */
export function showKdl(value: unknown): string {
  if (value === null) return '#null';
  if (value === true) return '#true';
  if (value === false) return '#false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '#nan';
    if (value === Infinity) return '#inf';
    if (value === -Infinity) return '#-inf';
    return String(value);
  }
  return JSON.stringify(value);
}
