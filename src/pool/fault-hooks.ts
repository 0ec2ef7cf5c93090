// Fault injection for tests, kept off AgentPool's public surface: the pool registers how to kill
// one of its connection-host workers, and the `/testing` subpath's killWorker reaches it here.

type WorkerKiller = (index: number) => Promise<void>;

const killers = new WeakMap<object, WorkerKiller>();

/** Called once by the pool's constructor. */
export function registerWorkerKiller(pool: object, kill: WorkerKiller): void {
  killers.set(pool, kill);
}

/**
 * Kills connection-host worker `index` of `pool` as a crash would: its calls fail with
 * ZAP_WORKER_LOST, the pool emits 'worker-lost', starts a successor and reconnects.
 */
export async function killWorker(pool: object, index: number): Promise<void> {
  const kill = killers.get(pool);
  if (kill === undefined) throw new TypeError('killWorker: not an AgentPool');
  await kill(index);
}
