// One family of agent-reported series (spec §12.3) as a prom-client custom metric: registered in the
// pool's registry, so `registry.metrics()` prints it after our own families with prom-client's
// escaping of HELP text and label values.
import type { Aggregator } from 'prom-client';
import type { HistogramBucket } from '../protocol/types.js';

export type ReportedType = 'counter' | 'gauge' | 'histogram';

export interface ReportedSeries {
  /** Exported labels: `agent_id` first, then the agent's labels sorted by name. */
  readonly labels: Readonly<Record<string, string>>;
  help: string | undefined;
  /** Counters and gauges. */
  value: number;
  /** Histograms: the buckets as reported (cumulative counts, `le` as decoded). */
  buckets: readonly HistogramBucket[];
  sum: number;
  count: number;
  updatedAt: number;
}

interface ExportedValue {
  metricName?: string;
  labels: Record<string, string>;
  value: number;
}

/** `le` as the exposition spells it: finite numbers in JS notation, infinities and NaN by name. */
function formatBound(le: number): string {
  if (Number.isNaN(le)) return 'NaN';
  if (le === Infinity) return '+Inf';
  if (le === -Infinity) return '-Inf';
  return String(le);
}

export class ReportedFamily {
  readonly name: string;
  readonly type: ReportedType;
  // Only the main thread owns reported series (§12.3): merging registries takes the one copy.
  readonly aggregator: Aggregator = 'first';
  /** Series key (labels) → latest value. */
  readonly series = new Map<string, ReportedSeries>();
  readonly #onReset: () => void;

  constructor(name: string, type: ReportedType, onReset: () => void) {
    this.name = name;
    this.type = type;
    this.#onReset = onReset;
  }

  /** §12.3: HELP from the first series that has one, else the name. */
  get help(): string {
    for (const s of this.series.values()) if (s.help !== undefined) return s.help;
    return this.name;
  }

  /** prom-client's metric contract: `registry.metrics()` formats what this returns. */
  async get(): Promise<{ name: string; help: string; type: ReportedType; aggregator: Aggregator; values: ExportedValue[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#values() };
  }

  /** `registry.resetMetrics()`: reported values cannot be reset to zero, only forgotten. */
  reset(): void {
    this.#onReset();
  }

  #values(): ExportedValue[] {
    const out: ExportedValue[] = [];
    for (const s of this.series.values()) {
      if (this.type !== 'histogram') {
        out.push({ labels: { ...s.labels }, value: s.value });
        continue;
      }
      for (const b of s.buckets) {
        out.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: formatBound(b.le) }, value: b.count });
      }
      out.push({ metricName: `${this.name}_sum`, labels: { ...s.labels }, value: s.sum });
      out.push({ metricName: `${this.name}_count`, labels: { ...s.labels }, value: s.count });
    }
    return out;
  }
}
