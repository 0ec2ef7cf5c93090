// The scenarios after pool-uds (uds, open-loop, body, scale, memory) with tiny settings: every row
// measures something and names a measured baseline; plus the pieces they rest on — body chunk
// framing, the open-loop arrival schedule and its drops, the plot helpers.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bodyChunk, bodyChunkWire, chunkCount, KIB, MIB } from '../bench/body-chunks.js';
import { runOpenLoop } from '../bench/open-loop-driver.js';
import { fitScalingModel, flatteningPoint, predictThroughput } from '../bench/amdahl.js';
import { bandOf, rssTrend, trendVerdict } from '../bench/rss-trend.js';
import { createMemoryScenario } from '../bench/scenarios/memory.js';
import { agentSteps } from '../bench/scenarios/scale.js';
import { inflightLevels } from '../bench/scenarios/uds.js';
import type { BenchRow } from '../bench/scenario.js';
import { lineChartSvg, niceStep } from '../bench/svg-plot.js';
import { fitLine } from '../bench/trend.js';
import { runBench } from '../src/cli/bench.js';
import { UsageError } from '../src/cli/cli-error.js';
import { defaultWorkerCount } from '../src/pool/pool-config.js';
import { jsonCodec } from '../src/protocol/payload-codec.js';
import { benchJson, type Row } from './support/bench-json.js';

const dir = mkdtempSync(join(tmpdir(), 'zap-bench-scen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bench = (args: string[]) => benchJson(args, join(dir, args[0] as string));

/** The checks every row of every scenario passes. */
function checkRows(rows: readonly Row[], sameInflightAsBase = true): void {
  assert.ok(rows.length > 0);
  for (const row of rows) {
    const name = String(row['name']);
    for (const key of [
      'reqPerSec',
      'p50Us',
      'p99Us',
      'p999Us',
      'mainCpuUsPerReq',
      'ratioToBaseline',
      'workers',
      'inflight',
      'eventLoopUtilization',
    ]) {
      assert.equal(typeof row[key], 'number', `${name}.${key}`);
    }
    assert.equal(typeof row['transport'], 'string', name);
    assert.equal(row['errors'], 0, `${name}: ${String(row['firstError'])}`);
    assert.ok((row['reqPerSec'] as number) > 0, `${name} measured no requests`);
    assert.ok((row['p50Us'] as number) <= (row['p99Us'] as number) && (row['p99Us'] as number) <= (row['p999Us'] as number), name);
    const base = rows.find((r) => r['name'] === row['baseline']);
    assert.ok(base !== undefined, `${name} names a missing baseline '${String(row['baseline'])}'`);
    if (sameInflightAsBase) assert.equal(base['inflight'], row['inflight'], name);
    if (base === row) assert.equal(row['ratioToBaseline'], 1);
    else
      assert.ok(Math.abs((row['ratioToBaseline'] as number) - (row['reqPerSec'] as number) / (base['reqPerSec'] as number)) < 1e-9, name);
  }
}

describe('zap bench scenarios', () => {
  test('body chunks: indices, is_last, cumulative bytes_received, one cid; the raw JSON is the pool codec’s', () => {
    const cid = 'body-1';
    const n = chunkCount(MIB, 64 * KIB);
    assert.equal(n, 16);
    assert.equal(chunkCount(KIB, 64 * KIB), 1);
    assert.equal(chunkCount(0, 64 * KIB), 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const c = bodyChunk(cid, MIB, 64 * KIB, i);
      total += c.data.length;
      assert.equal(c.correlationId, cid);
      assert.equal(c.chunkIndex, i);
      assert.equal(c.isLast, i === n - 1);
      assert.equal(c.bytesReceived, total);
      assert.equal(c.totalSize, MIB);
      assert.equal(JSON.stringify(bodyChunkWire(c)), jsonCodec.encodeEvent('request_body_chunk', c, cid).toString('utf8'));
    }
    assert.equal(total, MIB);
    const odd = bodyChunk(cid, 100 * KIB, 64 * KIB, 1);
    assert.equal(odd.data.length, 36 * KIB);
    assert.ok(odd.isLast);
    // Every chunk has bytes of its own, as read from a socket (honest load).
    const again = bodyChunk(cid, 100 * KIB, 64 * KIB, 1);
    assert.deepEqual(again.data, odd.data);
    assert.notEqual(again.data.buffer, odd.data.buffer);
  });

  test('open loop: every arrival of the window is sent or dropped; drops once maxOutstanding are open', async () => {
    const free = await runOpenLoop({
      ratePerSec: 2_000,
      warmupMs: 50,
      durationMs: 200,
      maxOutstanding: 1_000,
      request: () => Promise.resolve(),
    });
    assert.ok(Math.abs(free.sent + free.dropped - 400) <= 1, `sent ${free.sent} + dropped ${free.dropped}`);
    assert.equal(free.dropped, 0);
    assert.equal(free.latency.count, free.sent);
    assert.ok(free.reqPerSec > 0);

    const held: Array<() => void> = [];
    const timer = setTimeout(() => held.splice(0).forEach((r) => r()), 400);
    const stuck = await runOpenLoop({
      ratePerSec: 2_000,
      warmupMs: 50,
      durationMs: 200,
      maxOutstanding: 10,
      request: () => new Promise<void>((resolve) => held.push(resolve)),
    });
    clearTimeout(timer);
    assert.equal(stuck.sent, 0, 'the 10 open requests were all sent during the warm-up');
    assert.ok(stuck.dropped >= 399, `dropped ${stuck.dropped}`);
    assert.equal(stuck.peakOutstanding, 10);
  });

  test('plot and grid helpers', () => {
    assert.deepEqual([niceStep(2, 2), niceStep(100_000), niceStep(7)], [1, 20_000, 2]);
    assert.deepEqual(agentSteps(1), [1]);
    assert.deepEqual(agentSteps(4), [1, 2, 4]);
    assert.deepEqual(agentSteps(6), [1, 2, 4, 6]);
    assert.deepEqual(inflightLevels(256), [256, 16, 1]);
    assert.deepEqual(inflightLevels(16), [16, 1]);
    const svg = lineChartSvg({
      title: 'a <b>',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          points: [
            [0, 1],
            [2, 3],
          ],
        },
        {
          name: 'r',
          points: [
            [0, 2],
            [2, 2],
          ],
          dashed: true,
        },
      ],
    });
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /a &lt;b&gt;/);
    assert.equal(svg.match(/<polyline /g)?.length, 2);
    assert.match(svg, /<\/svg>\n$/);
  });

  test('trend: least-squares slope and its standard error; the raw band judges the pool', () => {
    const xs = [0, 1, 2, 3, 4, 5];
    const exact = fitLine(xs, [3, 5, 7, 9, 11, 13]);
    assert.deepEqual([exact.slope, exact.intercept, exact.slopeStdErr, exact.meanY, exact.minY, exact.maxY], [2, 3, 0, 8, 3, 13]);
    const noisy = fitLine(xs, [10, 12, 10, 12, 10, 12]);
    assert.ok(Math.abs(noisy.slope - 3 / 17.5) < 1e-12 && noisy.slopeStdErr > noisy.slope, JSON.stringify(noisy));
    assert.ok(Number.isNaN(fitLine([1, 1], [1, 2]).slope));
    const samples = (rss: (i: number) => number) =>
      Array.from({ length: 12 }, (_, i) => ({ completed: i * 100_000, rss: rss(i), heapUsed: 20e6, heapTotal: 30e6, external: 1e6 }));
    const raw = rssTrend(samples((i) => 100e6 + (i % 2) * 4e6));
    const band = bandOf(raw);
    assert.ok(band.low < raw.rssPctPer1M && raw.rssPctPer1M < band.high);
    assert.equal(raw.requests, 1_100_000);
    assert.equal(trendVerdict(rssTrend(samples(() => 100e6)), band), 'ok: in raw band');
    // 1 MB per 100K requests on 100 MB: +10 % per 1M, +11 % over 1.1M requests.
    const leak = rssTrend(samples((i) => 100e6 + i * 1e6));
    assert.ok(Math.abs(leak.rssPctPer1M - 10 / 1.055) < 0.01, String(leak.rssPctPer1M));
    assert.equal(trendVerdict(leak, band), 'grows: above raw band');
    assert.equal(trendVerdict(leak, undefined), 'grows: >10% over run');
    assert.equal(trendVerdict(rssTrend(samples((i) => 100e6 + i * 0.5e6)), undefined), 'ok: ≤10% over run');
  });

  test('Amdahl model: the lowest bound wins; the 16-core curve flattens where N/c_worker meets it', () => {
    const inline = { mainUs: 10, workerUs: 0, restUs: 20, agentUs: 15 };
    const offloaded = { mainUs: 4, workerUs: 12, restUs: 20, agentUs: 15 };
    const model = fitScalingModel([
      { workers: 0, costs: inline },
      { workers: 1, costs: offloaded },
      { workers: 2, costs: { ...offloaded, mainUs: 6 } },
      { workers: 3, costs: { ...offloaded, workerUs: Number.NaN } },
    ]);
    assert.deepEqual(model.inline, inline);
    assert.deepEqual(model.offloaded, { ...offloaded, mainUs: 5 });
    // 2 cores: C/(5+12+20) = 54 054/s binds before N/c_worker = 83 333/s and 1/c_main = 200 000/s.
    assert.deepEqual(predictThroughput(model, 1, 2), { perSec: 2e6 / 37, bound: 'cores' });
    assert.deepEqual(predictThroughput(model, 1, 8), { perSec: 1e6 / 12, bound: 'workers' });
    assert.equal(predictThroughput(model, 4, 2).bound, 'cores');
    assert.equal(predictThroughput(model, 0, 2).perSec, 2e6 / 30);
    assert.equal(predictThroughput(model, 0, 64, 2).bound, 'main thread');
    assert.equal(predictThroughput(model, 0, 64, 1).bound, 'agents');
    // 16 cores: C/37 µs = 432 432/s, the main thread's 200 000/s binds; 200 000 × 12 µs = 2.4 → 3 workers.
    assert.deepEqual(flatteningPoint(model, 16), { workers: 3, perSec: 200_000, bound: 'main thread' });
    assert.equal(flatteningPoint(fitScalingModel([{ workers: 0, costs: inline }]), 16), undefined);
  });

  test('--agents must be a positive integer', async () => {
    const quiet = { out: () => {}, err: () => {} };
    await assert.rejects(runBench(['scale', '--agents', '0'], quiet), UsageError);
    await assert.rejects(runBench(['scale', '--agents', 'two'], quiet), UsageError);
  });

  test('uds: workers 0…cores × each concurrency, raw baseline per concurrency', async () => {
    const { rows } = await bench(['uds', '--warmup', '30', '--duration', '120', '--inflight', '1']);
    checkRows(rows);
    assert.deepEqual([...new Set(rows.map((r) => r['inflight']))], [16, 1]);
    assert.equal(rows.length, 2 * (availableParallelism() + 2), 'raw + workers 0…cores at each concurrency');
    assert.ok(rows.some((r) => r['name'] === 'uds-w1@1'));
    for (const r of rows) assert.equal(r['baseline'], `raw-uds@${String(r['inflight'])}`);
  });

  test('open-loop --quick: raw, UDS, gRPC and reverse rows at a rate', async () => {
    const w = defaultWorkerCount();
    // rev-uds runs the same code as rev-tcp: left out to save an agent start-up.
    const only = ['raw-uds@5k/s', ...['uds', 'grpc', 'rev-tcp'].map((t) => `${t}-w${w}@5k/s`)];
    const { rows } = await bench(['open-loop', '--quick', '--warmup', '30', '--duration', '150', '--only', only.join(',')]);
    assert.deepEqual(
      rows.map((r) => r['name']),
      only,
    );
    checkRows(rows, false);
    const names = rows.map((r) => String(r['name']));
    for (const prefix of ['raw-uds@', 'uds-w', 'grpc-w', 'rev-tcp-w'])
      assert.ok(
        names.some((n) => n.startsWith(prefix)),
        `${prefix} row missing: ${names.join(', ')}`,
      );
    for (const r of rows) {
      const extra = r['extra'] as Record<string, number>;
      assert.ok(extra['target/s']! > 0 && extra['sent']! > 0 && extra['dropped']! >= 0 && extra['late']! >= 0, String(r['name']));
    }
  });

  test('body: raw JSON, pool JSON and pool MessagePack rows per size', async () => {
    const { rows } = await bench(['body', '--warmup', '30', '--duration', '200', '--inflight', '4']);
    checkRows(rows);
    assert.deepEqual(
      rows.map((r) => r['name']),
      [
        'raw-json-1KiB@4',
        'pool-json-1KiB@4',
        'pool-msgpack-1KiB@4',
        'raw-json-64KiB@4',
        'pool-json-64KiB@4',
        'pool-msgpack-64KiB@4',
        'raw-json-1MiB@4',
        'pool-json-1MiB@4',
        'pool-msgpack-1MiB@4',
      ],
    );
    const mp = rows.find((r) => r['name'] === 'pool-msgpack-1MiB@4') as Row;
    assert.deepEqual({ ...(mp['extra'] as object), 'MiB/s': 0 }, { encoding: 'msgpack', 'body KiB': 1_024, chunks: 16, 'MiB/s': 0 });
  });

  test('scale --agents 2: a raw row and pool rows per agent count, and scale.svg', async () => {
    // Worker rows beyond w1 only cost start-up time here.
    const only = 'raw-a1,pool-a1-w0,raw-a2,pool-a2-w0,pool-a2-w1';
    const { rows, out } = await bench(['scale', '--agents', '2', '--warmup', '30', '--duration', '120', '--inflight', '8', '--only', only]);
    assert.deepEqual(
      rows.map((r) => r['name']),
      only.split(','),
    );
    checkRows(rows);
    assert.deepEqual([...new Set(rows.map((r) => (r['extra'] as Record<string, number>)['agents']))], [1, 2]);
    assert.ok(rows.some((r) => r['name'] === 'pool-a2-w0' && r['baseline'] === 'raw-a2'));
    const svgPath = join(dir, 'scale', 'scale.svg');
    assert.ok(existsSync(svgPath));
    const svg = readFileSync(svgPath, 'utf8');
    assert.equal(svg.match(/<polyline /g)?.length, 7, 'two pool lines, two raw baselines, two model lines and the 16-core model');
    assert.equal(svg.match(/stroke-dasharray="2 3"/g)?.length, 6, 'three dotted model lines and their legend entries');
    assert.match(out, /note: plot: .*scale\.svg/);
    for (const row of rows.filter((r) => String(r['name']).startsWith('pool-'))) {
      const extra = row['extra'] as Record<string, unknown>;
      // Each worker brings its own thread and may start more (2 per worker on Node 20 today); workers 0 starts none.
      const threads = extra['worker threads'] as number;
      if (row['workers'] === 0) assert.equal(threads, 0, String(row['name']));
      else assert.ok(threads >= (row['workers'] as number), `${String(row['name'])}: ${threads} threads`);
      for (const key of ['worker CPU µs/req', 'other CPU µs/req', 'agent CPU µs/req']) assert.equal(typeof extra[key], 'number', key);
      assert.ok(extra['model req/s'] === null || (extra['model req/s'] as number) > 0, String(row['name']));
      assert.match(String(extra['model bound']), /^(main thread|workers|cores|agents)$/);
    }
    assert.match(out, /note: model \(bench\/amdahl\.ts\): X\(N workers, C cores\) = min\(/);
    assert.match(
      out,
      /note: model, 2 agent\(s\)' costs on 16 cores with enough agents: flattens at \d+ worker\(s\), [\d,]+ calls\/s, bound by the /,
    );
  });

  test('memory (tiny counts): drift and held rows with their figures', async () => {
    const scenario = createMemoryScenario({ heldCounts: [300], driftTotal: 4_000, quickDriftTotal: 4_000, driftSamples: 13 });
    const result = await scenario.run({ warmupMs: 0, durationMs: 1, inflight: 16, quick: false, log: () => {} });
    const rows = result.rows as unknown as Row[];
    assert.deepEqual(
      rows.map((r) => r['name']),
      ['raw-drift@4k', 'pool-drift@4k', 'raw-held@300', 'pool-held@300'],
    );
    checkRows(rows);
    for (const row of result.rows as BenchRow[]) {
      const extra = row.extra ?? {};
      if (row.name.includes('held')) {
        assert.equal(row.inflight, 300);
        assert.ok(Number.isFinite(extra['heap B/req']), row.name);
      } else {
        assert.equal(row.requests, 3_600, 'the 10 % warm-up is not counted');
        assert.equal(extra['samples'], 13, row.name);
        assert.ok((extra['RSS mean MiB'] as number) > 0, row.name);
        assert.match(String(extra['RSS min–max MiB']), /^\d+\.\d–\d+\.\d$/, row.name);
        for (const key of ['RSS KiB/100K', 'RSS %/1M', 'heap %/1M']) assert.ok(Number.isFinite(extra[key]), `${row.name} ${key}`);
        assert.ok(Number.isFinite(extra['±2SE %/1M']) && (extra['±2SE %/1M'] as number) >= 0, row.name);
        assert.match(String(extra['raw band %/1M']), /^-?\d+\.\d\d…-?\d+\.\d\d$/, row.name);
        assert.match(String(extra['verdict']), /^(ok: in raw band|ok: ≤10% over run|grows: above raw band)$/, row.name);
      }
    }
  });
});
