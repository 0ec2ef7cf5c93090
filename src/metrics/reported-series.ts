// Agent-reported series (spec §12.3): the latest value per series (name + full label set), labelled
// with the configured agent id, capped, expired by maintenance. Each family is a ReportedFamily
// registered in the pool's registry, so it is exported by the same `registry.metrics()`.
import type { Metric, Registry } from 'prom-client';
import { quotedPeerText } from '../protocol/peer-text.js';
import type { MetricsReport } from '../protocol/types.js';
import { ReportedFamily, type ReportedSeries, type ReportedType } from './reported-family.js';

export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;
/** Distinct drop reasons warned about; beyond this a misbehaving agent stays quiet in the log. */
const MAX_WARNED = 1000;

export interface ReportedSeriesOptions {
  readonly registry: Registry;
  /** Sample names of our own families; a reported name among them is exported as `reported_<name>`. */
  readonly reservedNames: ReadonlySet<string>;
  readonly maxSeries: number;
  readonly ttlMs: number;
  readonly warn: (message: string) => void;
}

interface Incoming {
  type: ReportedType;
  name: string;
  help: string | undefined;
  labels: Record<string, string>;
  assign: (s: ReportedSeries) => void;
}

export class ReportedSeriesStore {
  readonly #o: ReportedSeriesOptions;
  readonly #families = new Map<string, ReportedFamily>();
  #size = 0;
  #saturated = false;
  readonly #warned = new Set<string>();

  constructor(options: ReportedSeriesOptions) {
    this.#o = options;
  }

  /** Number of series held (a histogram series counts once). */
  get size(): number {
    return this.#size;
  }

  ingest(agentId: string, report: MetricsReport, now: number): void {
    for (const c of report.counters) {
      this.#put(agentId, now, { type: 'counter', name: c.name, help: c.help, labels: c.labels, assign: (s) => (s.value = c.value) });
    }
    for (const g of report.gauges) {
      this.#put(agentId, now, { type: 'gauge', name: g.name, help: g.help, labels: g.labels, assign: (s) => (s.value = g.value) });
    }
    for (const h of report.histograms) {
      const buckets = h.buckets.map((b) => ({ le: b.le, count: b.count }));
      this.#put(agentId, now, {
        type: 'histogram',
        name: h.name,
        help: h.help,
        labels: h.labels,
        assign: (s) => {
          s.buckets = buckets;
          s.sum = h.sum;
          s.count = h.count;
        },
      });
    }
  }

  /** Removes series not updated for `ttlMs`; a family left empty leaves the registry. */
  sweep(now: number): void {
    for (const family of [...this.#families.values()]) {
      for (const [key, s] of family.series) {
        if (now - s.updatedAt >= this.#o.ttlMs) {
          family.series.delete(key);
          this.#size--;
        }
      }
      if (family.series.size === 0) this.#removeFamily(family);
    }
    if (this.#size < this.#o.maxSeries) this.#saturated = false;
  }

  #put(agentId: string, now: number, m: Incoming): void {
    if (!METRIC_NAME_RE.test(m.name)) return this.#drop(agentId, m.name, 'invalid metric name');
    const name = this.#o.reservedNames.has(m.name) ? `reported_${m.name}` : m.name;
    const labels = this.#exportedLabels(agentId, m);
    if (typeof labels === 'string') return this.#drop(agentId, m.name, labels);
    let family = this.#families.get(name);
    if (family !== undefined && family.type !== m.type) {
      return this.#drop(agentId, m.name, `reported as ${m.type} but already exported as ${family.type}`);
    }
    const key = JSON.stringify(Object.entries(labels));
    const existing = family?.series.get(key);
    if (existing !== undefined) {
      existing.help = m.help;
      existing.updatedAt = now;
      m.assign(existing);
      return;
    }
    if (this.#size >= this.#o.maxSeries) return this.#saturate();
    if (family === undefined) {
      const clash = this.#sampleNameClash(name, m.type);
      if (clash !== undefined) return this.#drop(agentId, m.name, clash);
      family = this.#addFamily(name, m.type, agentId);
      if (family === undefined) return;
    }
    const s: ReportedSeries = { labels, help: m.help, value: 0, buckets: [], sum: 0, count: 0, updatedAt: now };
    m.assign(s);
    family.series.set(key, s);
    this.#size++;
  }

  /** `agent_id` (the configured id, overriding the agent's) first, then the agent's labels sorted. */
  #exportedLabels(agentId: string, m: Incoming): Record<string, string> | string {
    const out: Record<string, string> = { agent_id: agentId };
    for (const label of Object.keys(m.labels).sort()) {
      if (label === 'agent_id') continue;
      if (!LABEL_NAME_RE.test(label) || label.startsWith('__')) return `invalid label name ${quotedPeerText(label)}`;
      if (m.type === 'histogram' && label === 'le') return "label 'le' is reserved for histogram buckets";
      out[label] = m.labels[label] ?? '';
    }
    return out;
  }

  /** Prometheus reads `x_bucket`/`x_sum`/`x_count` as part of histogram `x`: keep those apart. */
  #sampleNameClash(name: string, type: ReportedType): string | undefined {
    if (type === 'histogram') {
      for (const suffix of HISTOGRAM_SUFFIXES) {
        if (this.#families.has(name + suffix)) return `histogram samples collide with family '${name + suffix}'`;
      }
      return undefined;
    }
    for (const suffix of HISTOGRAM_SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      const base = this.#families.get(name.slice(0, -suffix.length));
      if (base?.type === 'histogram') return `name collides with the samples of histogram '${base.name}'`;
    }
    return undefined;
  }

  #addFamily(name: string, type: ReportedType, agentId: string): ReportedFamily | undefined {
    const family: ReportedFamily = new ReportedFamily(name, type, () => this.#forget(family));
    try {
      // A custom metric: prom-client only needs `name`, `get()` and `reset()` from it.
      this.#o.registry.registerMetric(family as unknown as Metric);
    } catch {
      this.#drop(agentId, name, 'a metric of that name is already registered');
      return undefined;
    }
    this.#families.set(name, family);
    return family;
  }

  #forget(family: ReportedFamily): void {
    if (this.#families.get(family.name) !== family) return;
    this.#size -= family.series.size;
    family.series.clear();
    this.#removeFamily(family);
    if (this.#size < this.#o.maxSeries) this.#saturated = false;
  }

  #removeFamily(family: ReportedFamily): void {
    this.#families.delete(family.name);
    if ((this.#o.registry.getSingleMetric(family.name) as unknown) === family) {
      this.#o.registry.removeSingleMetric(family.name);
    }
  }

  /** One warning per saturation episode; the episode ends when maintenance frees room. */
  #saturate(): void {
    if (this.#saturated) return;
    this.#saturated = true;
    this.#o.warn(`agent-reported metrics reached the cap of ${this.#o.maxSeries} series; new series are dropped until old ones expire`);
  }

  /** The name (and any label in `reason`) came from the agent: escaped and cut before the log line. */
  #drop(agentId: string, name: string, reason: string): void {
    const text = `agent ${quotedPeerText(agentId)} reported metric ${quotedPeerText(name)}: ${reason}; series dropped`;
    if (this.#warned.has(text) || this.#warned.size >= MAX_WARNED) return;
    this.#warned.add(text);
    this.#o.warn(`${text} (logged once)`);
  }
}
