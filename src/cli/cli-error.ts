// How the CLI reports a failure: one line on stderr starting with the error code (spec §10.11).
import { AgentPoolError } from '../protocol/errors.js';
import { peerText } from '../protocol/peer-text.js';

/** Generous: our own messages are long sentences; the bound is for the peer text they may quote. */
const FAILURE_TEXT_MAX = 4096;

/** One line, whatever a peer put into the message (its parts should be escaped already; this is the last guard). */
function oneLine(message: string): string {
  return peerText(message.replace(/\s*\n\s*/g, ' '), FAILURE_TEXT_MAX);
}

export class UsageError extends Error {}

export function reportFailure(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`usage: ${err.message}\n`);
    return 2;
  }
  if (err instanceof AgentPoolError) {
    process.stderr.write(`${err.code}: ${oneLine(err.message)}\n`);
    return 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`ZAP_ERROR: ${oneLine(message)}\n`);
  return 1;
}
