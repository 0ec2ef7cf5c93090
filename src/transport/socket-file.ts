// The Unix socket file of a listener (agent server, reverse listener, spec §9.1).
//
// Before binding, a socket file left by a dead process is removed; a live socket (a connect to it
// succeeds) or a non-socket at that path is never touched: listening there is refused instead.
//
// listenOnSocketFile() binds inside a fresh private directory (mkdtemp makes it 0700) next to the
// target, sets the socket's final mode there, then hard-links it into place:
// - the socket is never reachable with a laxer mode: until the link nobody else can reach it (a
//   connect needs search permission on every directory of the path). Node's readableAll /
//   writableAll chmod after binding at the final path, which leaves a window; process.umask()
//   would close it but is process-wide and throws in worker threads.
// - link() fails when the path exists, so a socket another process bound meanwhile is not replaced
//   (rename() would replace it silently).
// - libuv unlinks the path it bound when the server closes, whatever is at that path by then. The
//   path libuv knows is the private one, gone already; the real path is removed only by
//   BoundSocketFile.remove(), and only while its device and inode are still the ones we bound, so a
//   second server's live socket at the same path survives our shutdown. (Between that check and
//   the unlink another process could still swap the file: there is no unlink-if-inode call.)
import { chmod, link, lstat, mkdtemp, rm, unlink } from 'node:fs/promises';
import { createConnection, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { ErrorCode, zapError } from '../protocol/errors.js';

/** Mode of a new socket file unless a listener's `socketMode` says otherwise: the owner only. */
export const DEFAULT_SOCKET_MODE = 0o600;

// sun_path holds 108 bytes on Linux, 104 on the BSDs and macOS, the terminating NUL included.
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

export interface SocketFileOptions {
  /** Permission bits of the socket file (default 0o600). Connecting needs write permission. */
  mode?: number;
  /** listen() backlog (Node's default when left out). */
  backlog?: number;
}

/** A socket file we bound; remove() deletes it only while it is still that very file. */
export interface BoundSocketFile {
  readonly path: string;
  remove(): Promise<void>;
}

/** Validates a `socketMode` option: permission bits only (0 … 0o777). */
export function socketModeOf(mode: unknown, option = 'socketMode'): number {
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw zapError(ErrorCode.InvalidConfig, `${option} must be permission bits between 0 and 0o777, got ${String(mode)}`);
  }
  return mode;
}

function inUse(path: string): Error {
  return zapError(ErrorCode.InvalidConfig, `cannot listen on ${path}: address in use (another process is serving that socket)`);
}

function cannotListen(path: string, err: unknown): Error {
  return zapError(ErrorCode.InvalidConfig, `cannot listen on ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * Whether someone serves the socket at `path`: a connect succeeds ('live') or is refused ('dead').
 * Any other answer ('EAGAIN': a live server with a full backlog; 'EACCES': not ours to test) is
 * returned as is and treated as live: only a socket known dead is removed.
 */
function probe(path: string): Promise<'live' | 'dead' | string> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('live');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'dead' : (err.code ?? 'unknown'));
    });
  });
}

type Identity = { dev: bigint; ino: bigint };

async function identityOf(path: string): Promise<(Identity & { isSocket: boolean }) | undefined> {
  try {
    const st = await lstat(path, { bigint: true });
    return { dev: st.dev, ino: st.ino, isSocket: st.isSocket() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cannotListen(path, err);
  }
}

/** Removes a dead socket file at `path`; refuses (ZAP_INVALID_CONFIG) a live socket or a non-socket. */
async function removeStaleSocketFile(path: string): Promise<void> {
  const found = await identityOf(path);
  if (found === undefined) return;
  if (!found.isSocket) throw zapError(ErrorCode.InvalidConfig, `cannot listen on ${path}: the file exists and is not a socket`);
  const state = await probe(path);
  if (state === 'live') throw inUse(path);
  if (state !== 'dead') {
    throw zapError(
      ErrorCode.InvalidConfig,
      `cannot listen on ${path}: a socket is there and a test connect got ${state}, so it may be live; remove it if it is stale`,
    );
  }
  // Only the file we probed: a socket another process bound there meanwhile stays.
  const now = await identityOf(path);
  if (now !== undefined && now.dev === found.dev && now.ino === found.ino) await rm(path, { force: true });
}

/**
 * Removes the socket file at `path` only if it is a socket nobody serves any more; a live socket or
 * any other file stays. For listeners that bound without listenOnSocketFile (libuv has then already
 * unlinked the path when the server closed); prefer BoundSocketFile.remove().
 */
export async function removeSocketFile(path: string): Promise<void> {
  try {
    await removeStaleSocketFile(path);
  } catch {
    // live or not a socket: not ours to remove
  }
}

function listenAt(server: Server, path: string, backlog: number | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(backlog === undefined ? { path } : { path, backlog }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Binds `server` to the Unix socket `path` with `mode` (default 0o600) and no window where the
 * socket is reachable with another mode; refuses a live socket or a non-socket there. The caller
 * closes the server as usual and calls remove() (before or after closing it).
 */
export async function listenOnSocketFile(server: Server, path: string, o: SocketFileOptions = {}): Promise<BoundSocketFile> {
  const mode = socketModeOf(o.mode ?? DEFAULT_SOCKET_MODE);
  await removeStaleSocketFile(path);
  let dir: string;
  try {
    dir = await mkdtemp(join(dirname(path), '.zap-'));
  } catch (err) {
    throw cannotListen(path, err);
  }
  const privatePath = join(dir, 's');
  let id: Identity;
  try {
    if (Buffer.byteLength(privatePath) > MAX_SOCKET_PATH_BYTES) {
      throw zapError(
        ErrorCode.InvalidConfig,
        `cannot listen on ${path}: the socket is first bound at ${privatePath}, longer than the ` +
          `${MAX_SOCKET_PATH_BYTES} bytes a socket path may have; use a shorter directory`,
      );
    }
    try {
      await listenAt(server, privatePath, o.backlog);
    } catch (err) {
      throw cannotListen(path, err);
    }
    try {
      await chmod(privatePath, mode);
      await link(privatePath, path);
      const st = await lstat(privatePath, { bigint: true });
      id = { dev: st.dev, ino: st.ino };
    } catch (err) {
      server.close();
      throw (err as NodeJS.ErrnoException).code === 'EEXIST' ? inUse(path) : cannotListen(path, err);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    path,
    async remove() {
      const now = await identityOf(path).catch(() => undefined);
      if (now !== undefined && now.dev === id.dev && now.ino === id.ino) await unlink(path).catch(() => undefined);
    },
  };
}
