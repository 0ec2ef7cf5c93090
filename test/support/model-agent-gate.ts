// A controllable agent endpoint for the connection-machine model test. The proxy dials `endpoint`,
// a symlink the test re-points between connect attempts: at the gate's socket (connect succeeds)
// or at a missing file (connect fails, ENOENT). The gate relays each accepted connection, byte for
// byte, to one of two real AgentServers — one that completes the msgpack handshake, one that is
// json-only and so fails it for a proxy that requires msgpack — or holds it unanswered. Every
// accepted socket is tracked so the test can cut one (a real loss) and check that the proxy side
// really closed the ones it should have.
import { once } from 'node:events';
import { renameSync, symlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { AgentServer } from '../../src/agent/agent-server.js';
import { socketPath } from './tmp.js';

/** What the gate does with the next accepted connection. */
export type GatePlan = 'accept' | 'refuse' | 'hold';

interface GateConnection {
  readonly index: number;
  readonly plan: GatePlan;
  readonly socket: Socket;
  upstream: Socket | undefined;
  closed: boolean;
}

export class AgentGate {
  /** The path the proxy dials (a symlink). */
  readonly endpoint = socketPath('gate-endpoint');
  readonly connections: GateConnection[] = [];
  private readonly gatePath = socketPath('gate');
  private readonly missingPath = socketPath('gate-missing');
  private readonly acceptPath = socketPath('gate-accepting-agent');
  private readonly refusePath = socketPath('gate-refusing-agent');
  private readonly plans: GatePlan[] = [];
  private server: Server | undefined;
  private readonly agents: AgentServer[] = [];
  /** Replies the accepting agent holds back (uri '/hold') until release(). */
  private readonly held: Array<() => void> = [];
  private swaps = 0;

  static async start(): Promise<AgentGate> {
    const gate = new AgentGate();
    await gate.init();
    return gate;
  }

  private async init(): Promise<void> {
    const accepting = new AgentServer({
      agentId: 'model-agent',
      encoding: 'prefer-msgpack',
      handler: {
        onRequestHeaders: async (e) => {
          if (e.uri === '/hold') await new Promise<void>((resolve) => this.held.push(resolve));
          return { routingMetadata: { seen: e.metadata.correlationId } };
        },
      },
    });
    const refusing = new AgentServer({ agentId: 'model-agent', encoding: 'json' });
    this.agents.push(accepting, refusing);
    await accepting.listen(this.acceptPath);
    await refusing.listen(this.refusePath);
    const server = createServer((socket) => this.onAccept(socket));
    server.listen(this.gatePath);
    await once(server, 'listening');
    this.server = server;
    this.setConnectable(false);
  }

  /** The agent that completes the handshake (to send control frames from the agent side). */
  get acceptingAgent(): AgentServer {
    return this.agents[0] as AgentServer;
  }

  /** Held '/hold' requests so far. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Lets every held '/hold' request answer. */
  release(): void {
    for (const r of this.held.splice(0)) r();
  }

  /** Re-points the endpoint atomically; takes effect for the next connect(2) the proxy makes. */
  setConnectable(connectable: boolean): void {
    const tmp = `${this.endpoint}.${++this.swaps}.tmp`;
    symlinkSync(connectable ? this.gatePath : this.missingPath, tmp);
    renameSync(tmp, this.endpoint);
  }

  /** Queues what to do with the next accepted connection (default when none is queued: hold). */
  plan(plan: GatePlan): void {
    this.plans.push(plan);
  }

  /** Accepted connections not yet closed (by either side). */
  get open(): number {
    return this.connections.filter((c) => !c.closed).length;
  }

  /** Cuts the newest live connection on the agent side, as a crashing agent would. */
  cutLatest(): boolean {
    const live = this.connections.filter((c) => !c.closed).at(-1);
    if (live === undefined) return false;
    live.upstream?.destroy();
    live.socket.destroy();
    return true;
  }

  /** Waits (bounded) until `cond` holds; false when it never did. */
  async until(cond: () => boolean, timeoutMs = 1_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  async close(): Promise<void> {
    this.release();
    for (const c of this.connections) {
      c.upstream?.destroy();
      c.socket.destroy();
    }
    const server = this.server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(this.agents.map((a) => a.close()));
  }

  private onAccept(socket: Socket): void {
    const plan = this.plans.shift() ?? 'hold';
    const conn: GateConnection = { index: this.connections.length, plan, socket, upstream: undefined, closed: false };
    this.connections.push(conn);
    socket.on('error', () => {});
    socket.once('close', () => {
      conn.closed = true;
      conn.upstream?.destroy();
    });
    if (plan === 'hold') {
      socket.resume(); // read and drop: the handshake request never gets an answer
      return;
    }
    const upstream = createConnection(plan === 'accept' ? this.acceptPath : this.refusePath);
    conn.upstream = upstream;
    upstream.on('error', () => socket.destroy());
    upstream.once('close', () => socket.destroy());
    socket.pipe(upstream);
    upstream.pipe(socket);
  }
}
