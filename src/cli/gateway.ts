// `zap gateway --config <file.kdl> [--metrics 127.0.0.1:9464] [--workers N] [--drain-timeout MS]`:
// a standalone reverse proxy configured by the Zentinel proxy's own blocks (listeners, upstreams,
// routes, agents). SIGHUP reloads: a new generation (pool, upstreams, routes) serves new requests
// while the old one finishes its own, new or moved listeners are bound and removed ones close; a
// configuration that does not load or bind is logged and the running one keeps serving.
// SIGTERM / SIGINT stop accepting, drain and exit 0.
import { parseArgs } from 'node:util';
import type { ZapConfig } from '../config/config-types.js';
import { loadConfigFile } from '../config/load-config.js';
import { GatewayGeneration } from '../gateway/gateway-generation.js';
import { GatewayMetrics } from '../gateway/gateway-metrics.js';
import { GatewayServer } from '../gateway/gateway-server.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { peerText } from '../protocol/peer-text.js';
import { UsageError } from './cli-error.js';
import { GATEWAY_OPTIONS } from './command-table.js';
import { integerFlag } from './flag-values.js';
import { openReverseListener, startPool } from './serve.js';

/** Long enough for one engine warning that quotes an agent, still one bounded line. */
const LOG_TEXT_MAX = 1024;

function requireGateway(config: ZapConfig): void {
  const g = config.gateway;
  if (g === undefined || g.listeners.length === 0 || g.routes.length === 0) {
    throw zapError(
      ErrorCode.InvalidConfig,
      `${config.file}: zap gateway needs a listeners block and a routes block (see zap check ${config.file})`,
    );
  }
}

export async function runGateway(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: GATEWAY_OPTIONS });
  if (values.config === undefined) throw new UsageError('missing --config <file.kdl>');
  const file = values.config;
  if (!/^.+:\d{1,5}$/.test(values.metrics)) throw new UsageError(`--metrics must be host:port, got '${values.metrics}'`);
  const workers = values.workers === undefined ? undefined : integerFlag(values.workers, '--workers', 0);
  const drainTimeoutMs = integerFlag(values['drain-timeout'], '--drain-timeout', 1);
  const log = (line: string) => process.stdout.write(`zap gateway: ${line}\n`);
  const engineLog = (level: 'warn' | 'error', message: string) => log(`${level}: ${peerText(message, LOG_TEXT_MAX)}`);
  const metrics = new GatewayMetrics();

  const generation = async (config: ZapConfig): Promise<GatewayGeneration> => {
    requireGateway(config);
    const pool = await startPool(config, workers, log);
    try {
      return new GatewayGeneration({ config, pool, metrics, log: engineLog });
    } catch (err) {
      await pool.close();
      throw err;
    }
  };

  const first = await generation(await loadConfigFile(file));
  let server: GatewayServer;
  try {
    server = await GatewayServer.start(first, { metrics, adminAddress: values.metrics, log });
  } catch (err) {
    await first.retire(0); // the pool's workers and sockets would keep the process alive
    throw err;
  }
  for (const l of server.listeners) log(`listener "${l.config.id}" on http://${l.address}`);
  log(`metrics on http://${server.adminAddress}/metrics, health on http://${server.adminAddress}/healthz`);

  let reloading = Promise.resolve();
  const reload = () => {
    reloading = reloading.then(async () => {
      const running = server.current;
      let stoppedReverse = false;
      const refuse = async (err: unknown) => {
        log(`reload refused, keeping the running configuration: ${err instanceof Error ? err.message : String(err)}`);
        const r = running.config.reverseListener;
        if (!stoppedReverse || r === undefined) return;
        // The running pool gave its reverse listener up for the new one: it takes it back.
        await openReverseListener(running.pool, r, log).catch((e: unknown) =>
          log(`error: the reverse listener could not be reopened: ${e instanceof Error ? e.message : String(e)}`),
        );
      };
      let next: GatewayGeneration;
      try {
        const config = await loadConfigFile(file);
        requireGateway(config);
        // The running pool's reverse listener holds the address the new pool binds.
        if (config.reverseListener !== undefined && running.config.reverseListener !== undefined) {
          await running.pool.stopReverseListeners();
          stoppedReverse = true;
        }
        next = await generation(config);
      } catch (err) {
        await refuse(err);
        return;
      }
      try {
        const { bound, closed, renamed } = await server.applyListeners(next.gateway.listeners);
        for (const l of bound) log(`listener "${l.config.id}" on http://${l.address}`);
        for (const r of renamed) log(`listener "${r.from}" on http://${r.listener.address} is now "${r.listener.config.id}"`);
        for (const l of closed) log(`listener "${l.config.id}" on http://${l.address} closed`);
      } catch (err) {
        await next.retire(0);
        await refuse(err);
        return;
      }
      log('reloaded: new requests use the new configuration; the previous one drains');
      const left = await server.swap(next, drainTimeoutMs);
      log(left === 0 ? 'previous configuration drained' : `previous configuration closed with ${left} request(s) unfinished`);
    });
  };
  process.on('SIGHUP', reload);

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  process.removeListener('SIGHUP', reload);
  log('draining…');
  await reloading;
  const left = await server.close(drainTimeoutMs);
  log(left === 0 ? 'stopped' : `stopped with ${left} request(s) unfinished after ${drainTimeoutMs} ms`);
  return 0;
}
