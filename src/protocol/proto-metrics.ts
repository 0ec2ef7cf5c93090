// gRPC mapping of MetricsReport (spec §7.5), both directions. Bucket `le` is a proto double, so the
// infinite bucket travels as IEEE +Infinity (no "+Inf" string on gRPC); this relies on
// PROTO_LOADER_OPTIONS leaving `json` off, which would turn it into the text "Infinity".
import type { HistogramBucket, HistogramSample, MetricSample, MetricsReport } from './types.js';
import type { PbAgentToProxy, PbHistogramBucket, PbHistogramMetric, PbMetricSample, PbMetricsReport } from './proto-messages.js';
import { listOf, mapOf, num, str } from './proto-values.js';

function sampleToProto(s: MetricSample): PbMetricSample {
  return { name: s.name || undefined, help: s.help, labels: s.labels, value: s.value || undefined };
}

function bucketToProto(b: HistogramBucket): PbHistogramBucket {
  return { le: b.le || undefined, count: b.count || undefined };
}

function histogramToProto(h: HistogramSample): PbHistogramMetric {
  return {
    name: h.name || undefined,
    help: h.help,
    labels: h.labels,
    sum: h.sum || undefined,
    count: h.count || undefined,
    buckets: h.buckets.map(bucketToProto),
  };
}

export function metricsToProto(m: MetricsReport): PbAgentToProxy {
  const msg: PbMetricsReport = {
    agent_id: m.agentId || undefined,
    timestamp_ms: m.timestampMs || undefined,
    interval_ms: m.intervalMs || undefined,
    counters: m.counters.map(sampleToProto),
    gauges: m.gauges.map(sampleToProto),
    histograms: m.histograms.map(histogramToProto),
  };
  return { metrics: msg };
}

function sampleFromProto(p: PbMetricSample): MetricSample {
  const s: MetricSample = { name: str(p.name), labels: mapOf(p.labels), value: num(p.value) };
  if (typeof p.help === 'string') s.help = p.help;
  return s;
}

function bucketFromProto(p: PbHistogramBucket): HistogramBucket {
  return { le: num(p.le), count: num(p.count) };
}

function histogramFromProto(p: PbHistogramMetric): HistogramSample {
  const h: HistogramSample = {
    name: str(p.name),
    labels: mapOf(p.labels),
    sum: num(p.sum),
    count: num(p.count),
    buckets: listOf(p.buckets).map(bucketFromProto),
  };
  if (typeof p.help === 'string') h.help = p.help;
  return h;
}

/** `agent_id` is reported as received; the pool labels series with the configured id (§7.5). */
export function metricsFromProto(p: PbMetricsReport): MetricsReport {
  return {
    agentId: str(p.agent_id),
    timestampMs: num(p.timestamp_ms),
    intervalMs: num(p.interval_ms),
    counters: listOf(p.counters).map(sampleFromProto),
    gauges: listOf(p.gauges).map(sampleFromProto),
    histograms: listOf(p.histograms).map(histogramFromProto),
  };
}
