// A histogram family whose observations are plain array writes (one per call, on the hot path) and
// which prom-client reads only at scrape time, as a custom metric of the registry. It prints the
// same text as prom-client's own Histogram (`le` first, the series labels after, `+Inf`, `_sum`,
// `_count`), so swapping one for the other leaves the exposition byte-exact (GV-30).
import type { Aggregator } from 'prom-client';

/** One labelled series: per-bucket (not cumulative) counts, the last slot being +Inf. */
export class BucketTally {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** `value` in seconds, finite (the caller filters NaN); bounds are inclusive, as in prom-client. */
  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

interface ExportedSample {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  /** Always empty; present because prom-client's JSON lists it (null on buckets, undefined on _sum/_count). */
  exemplar: null | undefined;
}

interface ExportedFamily<V> {
  name: string;
  help: string;
  type: 'histogram';
  values: V[];
  aggregator: Aggregator;
}

/**
 * A histogram family with at most one label. Series print in the order they were first observed,
 * as prom-client prints its own. The family holds one series per label value it was given, so the
 * label must come from configuration (the agent id), never from a peer.
 */
export class TallyHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator: Aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #label: string | undefined;
  /** Label value ('' when unlabelled) → its series, in creation order. */
  readonly #series = new Map<string, { tally: BucketTally; shared: Record<string, string> }>();

  /** `label` names the one label, or is undefined for a family with a single unlabelled series (always printed). */
  constructor(name: string, help: string, bounds: readonly number[], label?: string) {
    this.name = name;
    this.help = help;
    this.#bounds = [...bounds];
    this.#label = label;
    if (label === undefined) this.series('');
  }

  /** The series of `labelValue`, created on first use; callers keep it to observe without a lookup. */
  series(labelValue: string): BucketTally {
    let s = this.#series.get(labelValue);
    if (s === undefined) {
      s = { tally: new BucketTally(this.#bounds), shared: this.#label === undefined ? {} : { [this.#label]: labelValue } };
      this.#series.set(labelValue, s);
    }
    return s.tally;
  }

  /** `registry.resetMetrics()`: every series back to zero (the series themselves stay). */
  reset(): void {
    for (const s of this.#series.values()) s.tally.reset();
  }

  /** The registry's text path: `le` as the sample's own label, the series label shared. */
  getForPromString(): Promise<ExportedFamily<ExportedSample>> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.#values(), aggregator: this.aggregator });
  }

  /** The registry's JSON path: labels merged, as prom-client's Histogram.get() gives them. */
  get(): Promise<ExportedFamily<Omit<ExportedSample, 'sharedLabels'>>> {
    const values = this.#values().map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  #values(): ExportedSample[] {
    const out: ExportedSample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { tally, shared } of this.#series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += tally.counts[i] as number;
        const le = this.#bounds[i] as number;
        out.push({ metricName: bucket, labels: { le }, sharedLabels: shared, value: cumulative, exemplar: null });
      }
      out.push({ metricName: bucket, labels: { le: '+Inf' }, sharedLabels: shared, value: tally.count, exemplar: null });
      out.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: shared, value: tally.sum, exemplar: undefined });
      out.push({ metricName: `${this.name}_count`, labels: {}, sharedLabels: shared, value: tally.count, exemplar: undefined });
    }
    return out;
  }
}
