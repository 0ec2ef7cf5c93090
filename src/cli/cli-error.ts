// How the CLI reports a failure: one line on stderr starting with the error code (spec §10.11).
import { AgentPoolError } from '../protocol/errors.js';

export class UsageError extends Error {}

export function reportFailure(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`usage: ${err.message}\n`);
    return 2;
  }
  if (err instanceof AgentPoolError) {
    process.stderr.write(`${err.code}: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ZAP_ERROR: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return 1;
}
