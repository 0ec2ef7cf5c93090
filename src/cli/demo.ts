// `zap demo` (npm start): a self-contained gateway. It starts the example agents as child
// processes — waf over a Unix socket, auth over gRPC, echo dialling in over a reverse TCP
// connection — an AgentPool with worker threads, a tiny upstream and an HTTP gateway on loopback
// that runs every request through the HTTP lifecycle engine (streamed request bodies to the waf, the
// response phase to echo); then drives a bounded mixed workload and prints a summary. `--serve`
// keeps the gateway (and /metrics) up until Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AgentPool } from '../pool/agent-pool.js';
import { startGateway, type Gateway } from '../demo/gateway.js';
import { startMetricsServer, type MetricsServer } from '../demo/metrics-server.js';
import { formatSummary } from '../demo/summary.js';
import { startUpstream } from '../demo/upstream.js';
import { runWorkload } from '../demo/workload.js';
import { freePort, startChildAgent, type ChildAgent } from './child-agent.js';
import { UsageError } from './cli-error.js';
import { integerFlag } from './flag-values.js';
import { DEMO_OPTIONS } from './command-table.js';

const DEMO_TOKEN = 'demo-token';

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: DEMO_OPTIONS,
  });
  const durationMs = Number(values.duration) * 1000;
  const concurrency = Number(values.concurrency);
  if (!(durationMs > 0) || !Number.isInteger(concurrency) || concurrency <= 0)
    throw new UsageError('--duration must be a positive number of seconds and --concurrency a positive integer');
  const workers = values.workers === undefined ? 1 : integerFlag(values.workers, '--workers', 0);

  const dir = mkdtempSync(join(tmpdir(), 'zap-demo-'));
  const agents: ChildAgent[] = [];
  const closers: Array<() => Promise<void>> = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const close of closers.reverse()) await close().catch(() => {});
    await Promise.all(agents.map((a) => a.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  let interrupted!: () => void;
  const interruption = new Promise<void>((resolve) => (interrupted = resolve));
  const onSignal = () => interrupted();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const upstream = await startUpstream();
    closers.push(() => new Promise<void>((r) => upstream.server.close(() => r())));

    const pool = new AgentPool({ workers, failureMode: 'closed' });
    closers.push(() => pool.close());
    // The reverse agent registers with a token made for this run, valid for the id `echo` only;
    // `echo` is declared first, so its registrations have an entry to join.
    const registrationToken = randomBytes(16).toString('hex');
    await pool.addAgent('echo', 'reverse://echo', { failureMode: 'open' });
    const listener = await pool.listenReverse({ tcpAddress: '127.0.0.1:0', authTokens: [{ token: registrationToken, agents: ['echo'] }] });
    const reverseAt = listener.tcpAddress as string;

    out(
      `zap demo: starting agents — waf (Unix socket), auth (gRPC), echo (reverse TCP to ${reverseAt}) ` +
        `— pool with ${workers} worker thread(s)`,
    );
    const wafPath = join(dir, 'waf.sock');
    const authPort = await freePort();
    const echoRegistered = new Promise<void>((resolve) => pool.on('reverse-registered', (id) => id === 'echo' && resolve()));
    const started = await Promise.all([
      startChildAgent(['agent', '--listen', wafPath, '--example', 'waf']),
      startChildAgent(['agent', '--listen', `127.0.0.1:${authPort}`, '--example', 'auth', '--token', DEMO_TOKEN]),
      startChildAgent(
        [
          'agent',
          '--reverse',
          `tcp://${reverseAt}`,
          '--id',
          'echo',
          '--token',
          registrationToken,
          '--example',
          'echo',
          '--connections',
          '2',
        ],
        /connect|regist/i,
      ),
    ]);
    agents.push(...started);
    await pool.addAgent('waf', `unix:${wafPath}`, { connectionsPerAgent: 2 });
    await pool.addAgent('auth', `http://127.0.0.1:${authPort}`, { connectionsPerAgent: 2 });
    await Promise.race([echoRegistered, new Promise((r) => setTimeout(r, 5_000))]);

    const gateway: Gateway = await startGateway(pool, upstream.port);
    closers.push(() => gateway.close());
    let metrics: MetricsServer | undefined;
    if (values.serve) {
      metrics = await startMetricsServer(pool);
      closers.push(() => metrics!.close());
    }
    out(`zap demo: gateway http://127.0.0.1:${gateway.port} → upstream http://127.0.0.1:${upstream.port}`);

    if (values.serve) {
      out(`zap demo: serving until Ctrl-C. Try:`);
      out(`  curl -i -H 'authorization: Bearer ${DEMO_TOKEN}' 'http://127.0.0.1:${gateway.port}/products?id=1'`);
      out(`  curl -i -H 'authorization: Bearer ${DEMO_TOKEN}' 'http://127.0.0.1:${gateway.port}/search?q=%3Cscript%3E'`);
      out(`  curl -i 'http://127.0.0.1:${gateway.port}/account'`);
      out(
        `  printf 'part one; <script>' | curl -i -H 'authorization: Bearer ${DEMO_TOKEN}' -T - 'http://127.0.0.1:${gateway.port}/upload'`,
      );
      out(`  curl -s 'http://${metrics!.address}/metrics'`);
      await interruption;
      return 0;
    }

    out(`zap demo: driving a mixed workload for ${durationMs / 1000} s with ${concurrency} concurrent clients…`);
    const tty = process.stderr.isTTY === true;
    const result = await Promise.race([
      runWorkload(gateway.port, DEMO_TOKEN, {
        durationMs,
        concurrency,
        onProgress: (done, elapsed) => {
          if (!tty) return;
          const frac = Math.min(1, elapsed / durationMs);
          const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
          process.stderr.write(`\r  [${bar}] ${Math.round(frac * 100)}%  ${done} requests`);
        },
      }),
      interruption.then(() => undefined),
    ]);
    if (tty) process.stderr.write('\n');
    if (result === undefined) {
      out('zap demo: interrupted.');
      return 130;
    }
    const breakers = Object.fromEntries(['waf', 'auth', 'echo'].map((id) => [id, pool.circuitState(id)]));
    out(formatSummary(result, gateway.stats, breakers));
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }
}
