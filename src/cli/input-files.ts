// Files named on the command line: a missing or unreadable one is reported as the flag's problem,
// `ZAP_INVALID_ARGUMENT: cannot read --key file /x.pem (ENOENT)`, never as a bare library error.
import { accessSync, constants } from 'node:fs';
import { ErrorCode, zapError } from '../protocol/errors.js';

/** Throws ZAP_INVALID_ARGUMENT when `path` (given with `flag`) cannot be read. PEM text given inline passes. */
export function checkReadable(flag: string, path: string | undefined): void {
  if (path === undefined || path.includes('-----BEGIN')) return;
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw zapError(ErrorCode.InvalidArgument, `cannot read ${flag} file ${path} (${code})`, { cause: err });
  }
}
