// Unix-socket transport, proxy side: connect with a deadline (spec §5.1 step 1, connect_timeout).
import { createConnection, type Socket } from 'node:net';
import { ErrorCode, zapError } from '../protocol/errors.js';

export function connectUds(path: string, timeoutMs: number, agentId?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(zapError(ErrorCode.ConnectFailed, `Connect to ${path} timed out after ${timeoutMs} ms`, { agentId }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay?.(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(zapError(ErrorCode.ConnectFailed, `Connect to ${path} failed: ${err.message}`, { agentId, cause: err }));
    });
  });
}
