// The long-lived part of `zap gateway`: one node:http server per configured listener, and the
// admin server (/metrics, /healthz). Requests go to the current generation; `swap` hands new
// requests to a new one while the old one drains; `close` stops accepting and drains.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayListenerConfig } from '../config/config-types.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { GatewayGeneration } from './gateway-generation.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { applyListenerLimits, closeAtRequestLimit, listenerServerOptions } from './listener-limits.js';

export interface GatewayServerOptions {
  metrics: GatewayMetrics;
  /** `host:port` of /metrics and /healthz (port 0: any free port). */
  adminAddress: string;
  log: (line: string) => void;
}

/** One bound listener: its config (replaced when a reload changes only its settings) and its address. */
export interface BoundListener {
  config: GatewayListenerConfig;
  readonly server: Server;
  /** The bound address (port 0 resolved). */
  readonly address: string;
}

function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
}

/** Binds `server`; resolves with the bound address. A refused bind is ZAP_INVALID_CONFIG naming `what`. */
async function listen(server: Server, address: string, what: string): Promise<string> {
  const { host, port } = splitHostPort(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(zapError(ErrorCode.InvalidConfig, `${what}: cannot listen on ${address} (${err.code ?? err.message})`, { cause: err })),
    );
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

export class GatewayServer {
  readonly adminAddress: string;
  #listeners: BoundListener[];
  #current: GatewayGeneration;
  #draining = false;
  readonly #admin: Server;
  readonly #metrics: GatewayMetrics;

  private constructor(first: GatewayGeneration, admin: Server, adminAddress: string, metrics: GatewayMetrics) {
    this.#current = first;
    this.#metrics = metrics;
    this.#listeners = [];
    this.#admin = admin;
    this.adminAddress = adminAddress;
  }

  /** Binds every listener of `first`'s configuration and the admin server. */
  static async start(first: GatewayGeneration, options: GatewayServerOptions): Promise<GatewayServer> {
    const admin = createServer();
    const adminAddress = await listen(admin, options.adminAddress, '--metrics');
    const gateway = new GatewayServer(first, admin, adminAddress, options.metrics);
    gateway.#wireAdmin(options);
    try {
      gateway.#listeners = await gateway.#bindAll(first.gateway.listeners);
    } catch (err) {
      await closeServer(admin);
      throw err;
    }
    return gateway;
  }

  /** The listeners now serving. */
  get listeners(): readonly BoundListener[] {
    return this.#listeners;
  }

  get current(): GatewayGeneration {
    return this.#current;
  }

  async #bind(config: GatewayListenerConfig): Promise<BoundListener> {
    const server = createServer(listenerServerOptions());
    applyListenerLimits(server, config);
    const bound: BoundListener = { config, server, address: await listen(server, config.address, `listener "${config.id}"`) };
    server.on('request', (req, res) => {
      // While draining, kept-alive clients are told to reconnect (to whoever serves next).
      if (this.#draining) res.setHeader('connection', 'close');
      else closeAtRequestLimit(res);
      this.#current.handle(req, res, bound.config.defaultRoute);
    });
    server.on('upgrade', (req, socket, head: Buffer) => this.#current.upgrade(req, socket, head));
    // Over max-connections Node closes the socket at accept: counted, not logged (a flood would flood the log).
    server.on('drop', () => this.#metrics.connectionRefused(bound.config.id));
    return bound;
  }

  /** Binds all of `configs`, or none: a failed bind closes the ones bound before it. */
  async #bindAll(configs: readonly GatewayListenerConfig[]): Promise<BoundListener[]> {
    const bound: BoundListener[] = [];
    try {
      for (const config of configs) bound.push(await this.#bind(config));
      return bound;
    } catch (err) {
      await Promise.all(bound.map((b) => closeServer(b.server)));
      throw err;
    }
  }

  #wireAdmin(options: GatewayServerOptions): void {
    this.#admin.on('request', (req, res) => {
      if (req.url === '/metrics') {
        const pool = this.#current.pool;
        Promise.all([pool.metrics(), options.metrics.text()]).then(
          ([poolText, gatewayText]) => {
            res.writeHead(200, { 'content-type': pool.metricsContentType }).end(`${poolText.trimEnd()}\n\n${gatewayText}`);
          },
          (err: unknown) => {
            options.log(`metrics failed: ${err instanceof Error ? err.message : String(err)}`);
            res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
          },
        );
      } else if (req.url === '/healthz') {
        res.writeHead(this.#draining ? 503 : 200, { 'content-type': 'text/plain' }).end(this.#draining ? 'draining\n' : 'ok\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
  }

  /**
   * Makes the listeners those of `configs`: a listener kept at the same address takes its new
   * settings (and id, when renamed) in place; a new or moved one is bound (all or nothing, before
   * anything else changes, so a refused bind leaves the running set as it was); the ones left over
   * stop accepting and close once their connections are done. Resolves with the listeners bound,
   * closed and renamed.
   */
  async applyListeners(
    configs: readonly GatewayListenerConfig[],
  ): Promise<{ bound: BoundListener[]; closed: BoundListener[]; renamed: Array<{ from: string; listener: BoundListener }> }> {
    const kept = new Map<BoundListener, GatewayListenerConfig>();
    const unmatched: GatewayListenerConfig[] = [];
    for (const config of configs) {
      const same = this.#listeners.find((l) => l.config.id === config.id && l.config.address === config.address);
      if (same === undefined) unmatched.push(config);
      else kept.set(same, config);
    }
    // A renamed listener at the same address keeps its socket: binding it anew would find the address
    // in use. Port 0 names no address of its own: such a listener is new, on a port of its own.
    const toBind: GatewayListenerConfig[] = [];
    const renamed: Array<{ from: string; listener: BoundListener }> = [];
    for (const config of unmatched) {
      const listener = config.address.endsWith(':0')
        ? undefined
        : this.#listeners.find((l) => !kept.has(l) && l.config.address === config.address);
      if (listener === undefined) toBind.push(config);
      else {
        kept.set(listener, config);
        renamed.push({ from: listener.config.id, listener });
      }
    }
    const bound = await this.#bindAll(toBind);
    for (const [listener, config] of kept) {
      listener.config = config;
      applyListenerLimits(listener.server, config);
    }
    const closed = this.#listeners.filter((l) => !kept.has(l));
    this.#listeners = [...kept.keys(), ...bound];
    for (const l of closed) void closeServer(l.server);
    return { bound, closed, renamed };
  }

  /** New requests go to `next` at once; resolves when the previous generation has drained and closed. */
  async swap(next: GatewayGeneration, drainTimeoutMs: number): Promise<number> {
    const previous = this.#current;
    this.#current = next;
    return previous.retire(drainTimeoutMs);
  }

  /** Stops accepting, lets requests in flight finish (at most `drainTimeoutMs`), closes everything. */
  async close(drainTimeoutMs: number): Promise<number> {
    this.#draining = true;
    const closed = this.#listeners.map((l) => closeServer(l.server));
    const left = await this.#current.retire(drainTimeoutMs);
    for (const l of this.#listeners) l.server.closeAllConnections();
    await Promise.all(closed);
    this.#admin.closeAllConnections();
    await closeServer(this.#admin);
    return left;
  }
}
