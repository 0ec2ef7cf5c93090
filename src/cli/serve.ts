// `zap serve --config <file.kdl> [--metrics 127.0.0.1:9464] [--workers N]`: runs an AgentPool
// (and the reverse listener) from a KDL configuration, serves /metrics (the pool's families, then
// prom-client's process_* and nodejs_* ones) and /healthz, reloads on SIGHUP (a new pool — a new
// generation of connections — takes over while the old one drains) and drains on SIGTERM / SIGINT
// before exiting.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { agentPoolOptions } from '../config/agent-pool-options.js';
import type { ReverseListenerConfig, ZapConfig } from '../config/config-types.js';
import { endpointOf } from '../config/endpoint-of.js';
import { loadConfigFile } from '../config/load-config.js';
import { startMetricsServer } from '../demo/metrics-server.js';
import { AgentPool, type ReverseListenOptions } from '../pool/agent-pool.js';
import { peerText, quotedPeerText } from '../protocol/peer-text.js';
import { UsageError } from './cli-error.js';
import { integerFlag } from './flag-values.js';
import { SERVE_OPTIONS } from './command-table.js';

/** A refusal or error text is ours but may quote the agent: longer than one peer string, still bounded. */
const REFUSAL_TEXT_MAX = 512;

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: SERVE_OPTIONS,
  });
  if (values.config === undefined) throw new UsageError('missing --config <file.kdl>');
  const file = values.config;
  const m = /^(.+):(\d{1,5})$/.exec(values.metrics);
  if (m === null) throw new UsageError(`--metrics must be host:port, got '${values.metrics}'`);
  const workers = values.workers === undefined ? undefined : integerFlag(values.workers, '--workers', 0);
  const log = (line: string) => process.stdout.write(`zap serve: ${line}\n`);

  const first = await loadConfigFile(file);
  // Not silently: this command runs the pool only; the proxy blocks are `zap gateway`'s.
  if (first.gateway !== undefined) log('warning: listeners, upstreams and routes are not served by zap serve (run zap gateway)');
  let pool = await startPool(first, workers, log);
  let draining = false;
  const metrics = await startMetricsServer(
    () => pool,
    m[1] as string,
    Number(m[2]),
    () => !draining,
  );
  log(`metrics on http://${metrics.address}/metrics, health on http://${metrics.address}/healthz`);

  let running = first;
  let reloading = Promise.resolve();
  const refuse = (err: unknown): void => {
    log(`reload refused, keeping the running configuration: ${err instanceof Error ? err.message : String(err)}`);
  };
  const reload = () => {
    reloading = reloading.then(async () => {
      let config: ZapConfig;
      try {
        config = await loadConfigFile(file);
      } catch (err) {
        return refuse(err);
      }
      const old = pool;
      await old.stopReverseListeners(); // the new generation binds the same addresses
      try {
        pool = await startPool(config, workers, log);
      } catch (err) {
        // A failed start must not end the process nor leave the running pool without its listener.
        refuse(err);
        const r = running.reverseListener;
        if (r !== undefined) {
          await openReverseListener(old, r, log).catch((e: unknown) =>
            log(`error: the reverse listener could not be reopened: ${e instanceof Error ? e.message : String(e)}`),
          );
        }
        return;
      }
      running = config;
      log('reloaded: new connections are serving; the previous generation drains');
      void old.close();
    });
  };
  process.on('SIGHUP', reload);

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  process.removeListener('SIGHUP', reload);
  draining = true;
  log('draining…');
  await reloading;
  await pool.close();
  await metrics.close();
  log('stopped');
  return 0;
}

/** An AgentPool with every agent of `config` added and its reverse listener open (shared with `zap gateway`). */
export async function startPool(config: ZapConfig, workers: number | undefined, log: (line: string) => void): Promise<AgentPool> {
  for (const warning of config.warnings) log(`warning: ${warning}`);
  // A service's /metrics carries its process and Node.js metrics too (process_*, nodejs_*).
  const pool = new AgentPool({ ...(workers === undefined ? {} : { workers }), metrics: { defaultMetrics: true } });
  // Both parts may carry the refused agent's own text: escaped and cut, so one refusal is one line.
  pool.on('reverse-refused', (agentId, error) =>
    log(
      `reverse registration refused (${agentId === null ? 'unknown agent' : quotedPeerText(agentId)}): ` +
        `${peerText(error, REFUSAL_TEXT_MAX)}`,
    ),
  );
  // Agents are declared before the listener opens, so no registration is refused as undeclared.
  const adding = config.agents.map(async (agent) => {
    const { ready, errors } = await pool.addAgent(agent.id, endpointOf(agent), agentPoolOptions(agent));
    // Why some are not ready (a missing socket, a refused handshake): the last connection's error.
    const last = errors.at(-1);
    return (
      `${agent.id} (${endpointOf(agent)}): ${ready} ` +
      `ready${last === undefined ? '' : ` (${last.code}: ${peerText(last.message, REFUSAL_TEXT_MAX)})`}`
    );
  });
  for (const p of adding) p.catch(() => {}); // handled by Promise.all below, after the listener
  try {
    if (config.reverseListener !== undefined) await openReverseListener(pool, config.reverseListener, log);
  } catch (err) {
    await Promise.allSettled(adding);
    await pool.close(); // its worker threads would keep the process alive
    throw err;
  }
  const results = await Promise.all(adding);
  log(`${config.agents.length} agent(s): ${results.join('; ')}`);
  return pool;
}

/** Opens the reverse listener a `reverse-listener { }` block describes on `pool` (TLS files read now). */
export async function openReverseListener(pool: AgentPool, r: ReverseListenerConfig, log: (line: string) => void): Promise<void> {
  const options: ReverseListenOptions = {
    handshakeTimeoutMs: r.handshakeTimeoutMs,
    maxConnectionsPerAgent: r.maxConnectionsPerAgent,
    requireAuth: r.requireAuth,
    insecureAllowUnauthenticated: r.insecureAllowUnauthenticated,
    authTokens: r.authTokens,
    allowedAgents: r.allowedAgents,
    maxRegistrationBytes: r.maxRegistrationBytes,
    maxPendingHandshakes: r.maxPendingHandshakes,
    allowUndeclaredAgents: r.allowUndeclaredAgents,
    maxUndeclaredAgents: r.maxUndeclaredAgents,
    ...(r.path === undefined ? {} : { path: r.path }),
    ...(r.tcpAddress === undefined ? {} : { tcpAddress: r.tcpAddress }),
    ...(r.tls === undefined
      ? {}
      : {
          tls: {
            cert: readFileSync(r.tls.cert, 'utf8'),
            key: readFileSync(r.tls.key, 'utf8'),
            ...(r.tls.caCert === undefined ? {} : { ca: readFileSync(r.tls.caCert, 'utf8') }),
          },
        }),
  };
  const listener = await pool.listenReverse(options);
  log(`reverse listener on ${[listener.path, listener.tcpAddress].filter(Boolean).join(' and ')}`);
  if (!r.requireAuth) log('warning: the reverse listener admits agents WITHOUT a token (insecure-allow-unauthenticated #true)');
}
