// An AgentPool connected to one echo agent process over a given transport, ready to measure:
// forward UDS (`zap agent --listen <sock>`), gRPC (`zap agent --listen grpc://127.0.0.1:0`), or
// reverse — the agent dials the pool's listener (`zap agent --reverse`) over UDS or TCP.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startChildAgent, type ChildAgent } from '../src/cli/child-agent.js';
import { AgentPool } from '../src/pool/agent-pool.js';
import type { AgentPoolConfig } from '../src/pool/pool-config.js';
import { ErrorCode, zapError } from '../src/protocol/errors.js';

export type PoolTransport = 'uds' | 'grpc' | 'rev-uds' | 'rev-tcp';

export interface PoolTarget {
  readonly pool: AgentPool;
  readonly agentId: string;
  /** The agent process, for CPU sampling. */
  readonly pids: readonly number[];
  /** The agent's socket path for forward UDS (a raw client may share the agent), else undefined. */
  readonly socket: string | undefined;
  close(): Promise<void>;
}

const AGENT = 'echo';

/** `dir` is a private temp directory for socket files; `config` goes to the AgentPool as is. */
export async function startPoolTarget(transport: PoolTransport, dir: string, config: AgentPoolConfig): Promise<PoolTarget> {
  const connections = config.connectionsPerAgent ?? 4;
  const pool = new AgentPool(config);
  let agent: ChildAgent | undefined;
  let socket: string | undefined;
  const close = async () => {
    await pool.destroy();
    await agent?.stop();
  };
  try {
    if (transport === 'uds' || transport === 'grpc') {
      const listen = transport === 'uds' ? join(dir, `${transport}-echo.sock`) : 'grpc://127.0.0.1:0';
      agent = await startChildAgent(['agent', '--listen', listen, '--example', 'echo', '--id', AGENT]);
      // gRPC with port 0: the agent prints the port it bound.
      const bound = /listening on (\S+)/.exec(agent.output())?.[1];
      if (transport === 'uds') socket = listen;
      const endpoint = transport === 'uds' ? `unix:${listen}` : bound;
      if (endpoint === undefined) throw zapError(ErrorCode.ConnectFailed, `${transport}: the agent did not say where it listens`);
      const { ready } = await pool.addAgent(AGENT, endpoint);
      if (ready !== connections)
        throw zapError(ErrorCode.ConnectFailed, `${transport}: only ${ready} of ${connections} connections became ready`);
    } else {
      const token = randomBytes(16).toString('hex');
      await pool.addAgent(AGENT, `reverse://${AGENT}`);
      const where = transport === 'rev-uds' ? { path: join(dir, 'reverse.sock') } : { tcpAddress: '127.0.0.1:0' };
      const handle = await pool.listenReverse({ ...where, authTokens: [{ token, agents: [AGENT] }] });
      const endpoint = handle.path !== undefined ? `unix:${handle.path}` : `tcp://${handle.tcpAddress ?? ''}`;
      agent = await startChildAgent(
        ['agent', '--reverse', endpoint, '--id', AGENT, '--token', token, '--connections', String(connections), '--example', 'echo'],
        /registered with/,
      );
      await waitHealthy(pool, connections, 15_000);
    }
  } catch (err) {
    await close();
    throw err;
  }
  const pid = agent.process.pid;
  return { pool, agentId: AGENT, pids: pid === undefined ? [] : [pid], socket, close };
}

async function waitHealthy(pool: AgentPool, connections: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (pool.agentIds().includes(AGENT) && pool.agentStats(AGENT).healthyConnections === connections) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw zapError(ErrorCode.ConnectFailed, `the reverse agent did not register ${connections} connections within ${timeoutMs} ms`);
}
