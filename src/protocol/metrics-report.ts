// MetricsReport (spec §7.5, D16), agent → proxy. JSON cannot carry an infinite number, so the
// infinite histogram bound travels as the string "+Inf"; readers also accept "Inf" and numeric strings.
import type { HistogramBucket, HistogramSample, MetricSample, MetricsReport } from './types.js';
import { protocolError } from './errors.js';
import { asStruct, describe, intOr, isAbsent, reqInt, reqNumber, reqString, stringMapOr, type WireStruct } from './wire-reader.js';

const WHAT = 'MetricsReport';
const REPORT_KEYS = ['agent_id', 'timestamp_ms', 'interval_ms', 'counters', 'gauges', 'histograms'] as const;
const SAMPLE_KEYS = ['name', 'help', 'labels', 'value'] as const;
const HISTOGRAM_KEYS = ['name', 'help', 'labels', 'sum', 'count', 'buckets'] as const;
const BUCKET_KEYS = ['le', 'count'] as const;

function leToWire(le: number): number | string {
  if (le === Infinity) return '+Inf';
  if (le === -Infinity) return '-Inf';
  return le;
}

function sampleToWire(m: MetricSample): Record<string, unknown> {
  // `help` is omitted when absent (§7.5), so the key order is built in two shapes.
  return m.help === undefined
    ? { name: m.name, labels: m.labels, value: m.value }
    : { name: m.name, help: m.help, labels: m.labels, value: m.value };
}

function histogramToWire(h: HistogramSample): Record<string, unknown> {
  const buckets = h.buckets.map((b) => ({ le: leToWire(b.le), count: b.count }));
  return h.help === undefined
    ? { name: h.name, labels: h.labels, sum: h.sum, count: h.count, buckets }
    : { name: h.name, help: h.help, labels: h.labels, sum: h.sum, count: h.count, buckets };
}

export function metricsReportToWire(m: MetricsReport): Record<string, unknown> {
  return {
    agent_id: m.agentId,
    timestamp_ms: m.timestampMs,
    interval_ms: m.intervalMs,
    counters: m.counters.map(sampleToWire),
    gauges: m.gauges.map(sampleToWire),
    histograms: m.histograms.map(histogramToWire),
  };
}

const INFINITE_NAMES: Readonly<Record<string, number>> = {
  '+inf': Infinity,
  inf: Infinity,
  '+infinity': Infinity,
  infinity: Infinity,
  '-inf': -Infinity,
  '-infinity': -Infinity,
};

/** `le` as number, "+Inf" / "Inf" (any case), or a numeric string such as "0.5". */
function parseBucketBound(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const text = v.trim();
    const inf = INFINITE_NAMES[text.toLowerCase()];
    if (inf !== undefined) return inf;
    const n = text === '' ? NaN : Number(text);
    if (!Number.isNaN(n)) return n;
  }
  throw protocolError(`${what}: key 'le' must be a number, "+Inf" or a numeric string, got ${describe(v)}`);
}

function optHelp(s: WireStruct, what: string): string | undefined {
  return isAbsent(s['help']) ? undefined : reqString(s, 'help', what);
}

function listFromWire<T>(s: WireStruct, key: string, read: (v: unknown, what: string) => T): T[] {
  const v = s[key];
  if (isAbsent(v)) return [];
  if (!Array.isArray(v)) throw protocolError(`${WHAT}: key '${key}' must be an array, got ${describe(v)}`);
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) out.push(read(v[i], `${WHAT}.${key}[${i}]`));
  return out;
}

function sampleReader(integral: boolean): (v: unknown, what: string) => MetricSample {
  return (v, what) => {
    const s = asStruct(v, SAMPLE_KEYS, what);
    const name = reqString(s, 'name', what);
    const help = optHelp(s, what);
    const labels = stringMapOr(s, 'labels', what);
    // Counters are u64 on the wire, gauges f64.
    const value = integral ? reqInt(s, 'value', what) : reqNumber(s, 'value', what);
    return help === undefined ? { name, labels, value } : { name, help, labels, value };
  };
}

const readCounter = sampleReader(true);
const readGauge = sampleReader(false);

function readBucket(v: unknown, what: string): HistogramBucket {
  const s = asStruct(v, BUCKET_KEYS, what);
  return { le: parseBucketBound(s['le'], what), count: reqInt(s, 'count', what) };
}

function readHistogram(v: unknown, what: string): HistogramSample {
  const s = asStruct(v, HISTOGRAM_KEYS, what);
  const name = reqString(s, 'name', what);
  const help = optHelp(s, what);
  const labels = stringMapOr(s, 'labels', what);
  const sum = reqNumber(s, 'sum', what);
  const count = reqInt(s, 'count', what);
  const raw = s['buckets'];
  // `buckets` has no default (§7.5).
  if (!Array.isArray(raw)) throw protocolError(`${what}: key 'buckets' must be an array, got ${describe(raw)}`);
  const buckets: HistogramBucket[] = [];
  for (let i = 0; i < raw.length; i++) buckets.push(readBucket(raw[i], `${what}.buckets[${i}]`));
  return help === undefined ? { name, labels, sum, count, buckets } : { name, help, labels, sum, count, buckets };
}

/** Lenient on the top-level numbers (missing → 0), strict on the required fields of each sample. */
export function metricsReportFromWire(v: unknown): MetricsReport {
  const s = asStruct(v, REPORT_KEYS, WHAT);
  return {
    agentId: isAbsent(s['agent_id']) ? '' : reqString(s, 'agent_id', WHAT),
    timestampMs: intOr(s, 'timestamp_ms', WHAT, 0),
    intervalMs: intOr(s, 'interval_ms', WHAT, 0),
    counters: listFromWire(s, 'counters', readCounter),
    gauges: listFromWire(s, 'gauges', readGauge),
    histograms: listFromWire(s, 'histograms', readHistogram),
  };
}
