// The Unix socket file of a listener (agent server, reverse listener, spec §9.1): a file left by a dead process is removed
// before binding; a live socket or a non-socket at that path is never touched.
import { lstat, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { ErrorCode, zapError } from '../protocol/errors.js';

export async function removeStaleSocketFile(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = (await lstat(path)).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw zapError(ErrorCode.InvalidConfig, `cannot listen on ${path}: ${(err as Error).message}`);
  }
  if (!isSocket) throw zapError(ErrorCode.InvalidConfig, `cannot listen on ${path}: the file exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw zapError(ErrorCode.InvalidConfig, `cannot listen on ${path}: another process is serving that socket`);
  await rm(path, { force: true });
}

export async function removeSocketFile(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}
