// Starts N echo agents (`zap agent --listen <dir>/<id>.sock --example echo`) as child processes,
// in parallel, and stops them together. The agents keep their default `--encoding prefer-msgpack`.
import { join } from 'node:path';
import { startChildAgent, type ChildAgent } from '../src/cli/child-agent.js';

export interface EchoAgents {
  readonly ids: readonly string[];
  readonly sockets: readonly string[];
  /** For CPU sampling of the agents (empty when a pid is unknown). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** `count` agents with ids `<prefix>-1` … (just `<prefix>` when count is 1). */
export async function startEchoAgents(dir: string, count: number, prefix = 'echo'): Promise<EchoAgents> {
  const ids = Array.from({ length: count }, (_, i) => (count === 1 ? prefix : `${prefix}-${i + 1}`));
  const sockets = ids.map((id) => join(dir, `${id}.sock`));
  const started = await Promise.allSettled(
    ids.map((id, i) => startChildAgent(['agent', '--listen', sockets[i] as string, '--example', 'echo', '--id', id])),
  );
  const agents = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(agents.map((a: ChildAgent) => a.stop()));
  };
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  const pids = agents.flatMap((a) => (a.process.pid === undefined ? [] : [a.process.pid]));
  return { ids, sockets, pids, stop };
}
