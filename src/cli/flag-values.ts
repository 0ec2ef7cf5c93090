// Numeric flag values, checked the same way by every command: a bad one is a usage error that
// quotes what was given.
import { UsageError } from './cli-error.js';

/** A whole number ≥ `min` (at most 10 digits), or a UsageError naming the flag. */
export function integerFlag(text: string, flag: string, min: number): number {
  const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min)) throw new UsageError(`${flag} must be an integer ≥ ${min}, got '${text}'`);
  return value;
}
