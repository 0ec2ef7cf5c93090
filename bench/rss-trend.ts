// RSS drift as a trend (issue 13): a least-squares line through RSS (and heapUsed) sampled after a
// full GC many times over a drift run, instead of two points that mostly measure fluctuation. A
// leak shows as a positive slope outside the raw client's band: the raw client's slope ± 2
// standard errors, i.e. what a process that keeps no per-request state shows on this machine.
import type { CountedMemorySample } from './counted-loop.js';
import { fitLine, type LineFit } from './trend.js';

const MIB = 1_048_576;
/** Target: the trend must not add more than this share of the mean RSS over the measured requests. */
export const RSS_TREND_TARGET_PCT = 10;

export interface RssTrend {
  samples: number;
  /** Requests between the first and the last sample. */
  requests: number;
  rss: LineFit;
  heap: LineFit;
  /** RSS slope in % of its mean per 1 M requests, and 2 standard errors of it. */
  rssPctPer1M: number;
  rssTwoSePctPer1M: number;
  heapPctPer1M: number;
}

/** The figures of one drift row's samples (x = requests completed after the warm-up). */
export function rssTrend(samples: readonly CountedMemorySample[]): RssTrend {
  const xs = samples.map((s) => s.completed);
  const rss = fitLine(
    xs,
    samples.map((s) => s.rss),
  );
  const heap = fitLine(
    xs,
    samples.map((s) => s.heapUsed),
  );
  const pctPer1M = (bytesPerRequest: number, mean: number): number => ((bytesPerRequest * 1e6) / mean) * 100;
  return {
    samples: samples.length,
    requests: xs.length === 0 ? 0 : Math.max(...xs) - Math.min(...xs),
    rss,
    heap,
    rssPctPer1M: pctPer1M(rss.slope, rss.meanY),
    rssTwoSePctPer1M: pctPer1M(2 * rss.slopeStdErr, rss.meanY),
    heapPctPer1M: pctPer1M(heap.slope, heap.meanY),
  };
}

/** The band a row is judged against: the raw client's RSS slope ± 2 SE, in % per 1 M requests. */
export interface TrendBand {
  low: number;
  high: number;
}

export function bandOf(t: RssTrend): TrendBand {
  return { low: t.rssPctPer1M - t.rssTwoSePctPer1M, high: t.rssPctPer1M + t.rssTwoSePctPer1M };
}

/**
 * Verdict: ok when the slope lies at or below the top of the raw client's band, or when the trend
 * adds at most RSS_TREND_TARGET_PCT % of the mean over the requests measured; otherwise `grows`.
 */
export function trendVerdict(t: RssTrend, band: TrendBand | undefined): string {
  if (band !== undefined && t.rssPctPer1M <= band.high) return 'ok: in raw band';
  const overRun = (t.rssPctPer1M * t.requests) / 1e6;
  if (overRun <= RSS_TREND_TARGET_PCT) return `ok: ≤${RSS_TREND_TARGET_PCT}% over run`;
  return band === undefined ? `grows: >${RSS_TREND_TARGET_PCT}% over run` : 'grows: above raw band';
}

/** The row's extra columns (table and JSON). */
export function trendColumns(t: RssTrend, band: TrendBand | undefined): Record<string, number | string | null> {
  const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
  return {
    samples: t.samples,
    'RSS mean MiB': t.rss.meanY / MIB,
    'RSS min–max MiB': `${(t.rss.minY / MIB).toFixed(1)}–${(t.rss.maxY / MIB).toFixed(1)}`,
    'RSS KiB/100K': finite((t.rss.slope * 1e5) / 1_024),
    'RSS %/1M': finite(t.rssPctPer1M),
    '±2SE %/1M': finite(t.rssTwoSePctPer1M),
    'raw band %/1M': band === undefined ? '-' : `${band.low.toFixed(2)}…${band.high.toFixed(2)}`,
    'heap %/1M': finite(t.heapPctPer1M),
    verdict: trendVerdict(t, band),
  };
}
