// Prometheus metrics of one AgentPool (spec §12): the protocol families (§12.1), the per-agent
// families (§12.2) and the agent-reported series (§12.3), all in one prom-client registry that
// belongs to the pool (never the global one). The pool calls the event methods; gauges are pulled
// from the pool's state at scrape time.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Aggregator, Counter, Gauge, Metric, Registry } from 'prom-client';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { MetricsReport } from '../protocol/types.js';
import {
  AGENT_BUCKETS,
  AGENT_FAMILIES,
  DEFAULT_METRICS_PREFIX,
  PROTOCOL_BUCKETS,
  PROTOCOL_COUNTERS,
  PROTOCOL_GAUGES,
  PROTOCOL_HISTOGRAMS,
  ownSampleNames,
  type FamilyDefinition,
} from './metric-families.js';
import { CallTallies, type TalliedDecision } from './call-tallies.js';
import { processMetricsText, startProcessMetrics } from './process-metrics.js';
import { METRIC_NAME_RE, ReportedSeriesStore } from './reported-series.js';
import { TallyHistogram, type BucketTally } from './tally-histogram.js';

// prom-client (CommonJS, ~12 MB with its dependencies) is required when the first pool is made,
// not when the package is imported; require() returns the instance an ESM import would.
const require = createRequire(import.meta.url);
let promClient: typeof PromClient | undefined;
function prom(): typeof PromClient {
  return (promClient ??= require('prom-client') as typeof PromClient);
}

export type Decision = TalliedDecision;
export type ConnectionErrorKind = 'connect_failed' | 'handshake_failed' | 'lost';

/** Pool state read at scrape time (§12.1/§12.2 gauges). */
export interface GaugeSnapshot {
  inFlight: number;
  correlationAffinities: number;
  bufferUtilizationPercent: number;
  healthyConnections: number;
  pausedConnections: number;
  agents: Array<{ agentId: string; connectionsActive: number; circuitState: 0 | 1 | 2 }>;
}

export interface SettledCall {
  /** Set when a reply arrived (also for a synthetic one, flagged below). */
  decision?: Decision;
  /** A synthetic reply (failure-mode Allow): no agent answered, so no reply is counted. */
  synthetic?: boolean;
  /** The AgentPoolError code when the call failed. */
  errorCode?: string;
  /** Call start → settle. */
  callSeconds: number;
  /** Event written → reply; replies only. */
  writeToReplySeconds?: number;
}

export interface PoolMetricsOptions {
  /** Prefix of the §12.1 families; default `agent_protocol`. */
  prefix?: string;
  /** Registry to fill; default a new one owned by this object. */
  registry?: Registry;
  /** §12.3 cap on agent-reported series; default 10 000. */
  reportedSeriesLimit?: number;
  /** §12.3 reported series not updated for this long are removed by sweep(); default 300 000 ms. */
  reportedTtlMs?: number;
  /** Where warnings go (reported series dropped, gauge source failed); default console.warn. */
  onWarning?: (message: string) => void;
  /**
   * Also expose prom-client's default process and Node.js metrics (`process_*`, `nodejs_*`) in
   * metrics(), after the pool's families; default false, as a library should not speak for its
   * whole process unasked. They are collected once per process and not registered in `registry`;
   * families `registry` already has are left out. Needs a Prometheus-text registry (not OpenMetrics).
   */
  defaultMetrics?: boolean;
}

const DEFAULT_REPORTED_LIMIT = 10_000;
const DEFAULT_REPORTED_TTL_MS = 300_000;

/** prom-client prints NaN as "Nan"; §12.3 spells it "NaN". Only sample lines end in a value. */
function spellNaN(text: string): string {
  return text.replace(/^([^#\n][^\n]*) Nan$/gm, '$1 NaN');
}

/** Histograms refuse NaN; a negative duration is a clock step, counted as zero. */
function seconds(x: number): number | undefined {
  return Number.isFinite(x) ? Math.max(0, x) : undefined;
}

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw zapError(ErrorCode.InvalidConfig, `${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export class PoolMetrics {
  readonly registry: Registry;
  readonly #prefix: string;
  readonly #warn: (message: string) => void;
  readonly #reported: ReportedSeriesStore;
  readonly #defaultMetrics: boolean;
  #openMetricsWarned = false;
  #source: (() => GaugeSnapshot) | undefined;
  /** One snapshot per scrape: every gauge's collect() runs in the same turn of registry.metrics(). */
  #scrape: { snapshot: GaugeSnapshot | undefined } | undefined;
  #sourceFailed = false;

  readonly #timeouts: Counter;
  readonly #connectionErrors: Counter;
  readonly #flowPauses: Counter;
  readonly #flowRejections: Counter;
  readonly #affinityEvictions: Counter;
  readonly #affinityRejections: Counter;
  readonly #agentErrors: Counter<'agent' | 'kind'>;
  // The per-call families are plain numbers and arrays, read by prom-client at scrape time.
  readonly #tallies = new CallTallies();
  readonly #serialization: BucketTally;
  readonly #requestDuration: BucketTally;
  readonly #agentDuration: TallyHistogram;

  constructor(options: PoolMetricsOptions = {}) {
    const prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
    if (!METRIC_NAME_RE.test(prefix)) {
      throw zapError(ErrorCode.InvalidConfig, `metrics prefix '${prefix}' is not a valid Prometheus metric name`);
    }
    this.#prefix = prefix;
    this.registry = options.registry ?? new (prom().Registry)();
    this.#defaultMetrics = options.defaultMetrics === true;
    if (this.#defaultMetrics) {
      // The process text is Prometheus 0.0.4; appended to OpenMetrics it would land after `# EOF`.
      if (this.registry.contentType !== prom().Registry.PROMETHEUS_CONTENT_TYPE) {
        throw zapError(ErrorCode.InvalidConfig, 'metrics.defaultMetrics needs a Prometheus text registry, not OpenMetrics');
      }
      startProcessMetrics();
    }
    this.#warn = options.onWarning ?? ((message) => console.warn(`[zap metrics] ${message}`));
    const registers = [this.registry];

    // Created in exposition order: the registry prints families in registration order.
    const counter = (f: FamilyDefinition): Counter => new (prom().Counter)({ name: this.#name(f), help: f.help, registers });
    const tallies = this.#tallies;
    const tallied = (f: FamilyDefinition, collect: (this: Counter) => void): Counter =>
      new (prom().Counter)({ name: this.#name(f), help: f.help, registers, collect });
    tallied(PROTOCOL_COUNTERS.requests, function () {
      tallies.collectRequests(this);
    });
    tallied(PROTOCOL_COUNTERS.responses, function () {
      tallies.collectResponses(this);
    });
    this.#timeouts = counter(PROTOCOL_COUNTERS.timeouts);
    this.#connectionErrors = counter(PROTOCOL_COUNTERS.connectionErrors);
    this.#flowPauses = counter(PROTOCOL_COUNTERS.flowPauses);
    this.#flowRejections = counter(PROTOCOL_COUNTERS.flowRejections);
    this.#affinityEvictions = counter(PROTOCOL_COUNTERS.affinityEvictions);
    this.#affinityRejections = counter(PROTOCOL_COUNTERS.affinityRejections);

    this.#poolGauge(PROTOCOL_GAUGES.inFlight, 'sum', (s) => s.inFlight);
    this.#poolGauge(PROTOCOL_GAUGES.correlationAffinities, 'sum', (s) => s.correlationAffinities);
    this.#poolGauge(PROTOCOL_GAUGES.bufferUtilization, 'max', (s) => s.bufferUtilizationPercent);
    this.#poolGauge(PROTOCOL_GAUGES.healthyConnections, 'sum', (s) => s.healthyConnections);
    this.#poolGauge(PROTOCOL_GAUGES.pausedConnections, 'sum', (s) => s.pausedConnections);

    const histogram = (name: string, help: string, buckets: readonly number[], label?: string): TallyHistogram => {
      const h = new TallyHistogram(name, help, buckets, label);
      // A custom metric: the registry needs `name`, `get()` and `reset()` (and prints via getForPromString).
      this.registry.registerMetric(h as unknown as Metric);
      return h;
    };
    const serialization = PROTOCOL_HISTOGRAMS.serialization;
    this.#serialization = histogram(this.#name(serialization), serialization.help, PROTOCOL_BUCKETS).series('');
    const requestDuration = PROTOCOL_HISTOGRAMS.requestDuration;
    this.#requestDuration = histogram(this.#name(requestDuration), requestDuration.help, PROTOCOL_BUCKETS).series('');

    new (prom().Counter)<'agent' | 'decision'>({
      name: AGENT_FAMILIES.requests.suffix,
      help: AGENT_FAMILIES.requests.help,
      labelNames: ['agent', 'decision'] as const,
      registers,
      collect(this: Counter<'agent' | 'decision'>) {
        tallies.collectDecisions(this);
      },
    });
    this.#agentDuration = histogram(AGENT_FAMILIES.duration.suffix, AGENT_FAMILIES.duration.help, AGENT_BUCKETS, 'agent');
    this.#agentGauge(AGENT_FAMILIES.connectionsActive, 'sum', (a) => a.connectionsActive);
    this.#agentGauge(AGENT_FAMILIES.circuitState, 'max', (a) => a.circuitState);
    this.#agentErrors = new (prom().Counter)({
      name: AGENT_FAMILIES.errors.suffix,
      help: AGENT_FAMILIES.errors.help,
      labelNames: ['agent', 'kind'] as const,
      registers,
    });

    this.#reported = new ReportedSeriesStore({
      registry: this.registry,
      reservedNames: ownSampleNames(prefix),
      maxSeries: positiveInt(options.reportedSeriesLimit, DEFAULT_REPORTED_LIMIT, 'reportedSeriesLimit'),
      ttlMs: positiveInt(options.reportedTtlMs, DEFAULT_REPORTED_TTL_MS, 'reportedTtlMs'),
      warn: this.#warn,
    });
  }

  /** Content-Type of metrics() for an HTTP exporter. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Number of agent-reported series held (§12.3 cap). */
  get reportedSeries(): number {
    return this.#reported.size;
  }

  /** An event was written to an agent. */
  dispatched(_agentId: string, encodeSeconds: number): void {
    this.#tallies.requests++;
    const s = seconds(encodeSeconds);
    if (s !== undefined) this.#serialization.observe(s);
  }

  /** A call settled: a reply (real or synthetic) or an error. */
  settled(agentId: string, o: SettledCall): void {
    if (o.decision !== undefined && o.synthetic !== true) {
      const agent = this.#tallies.agent(agentId);
      this.#tallies.reply(agent, o.decision);
      const call = seconds(o.callSeconds);
      if (call !== undefined) (agent.duration ??= this.#agentDuration.series(agentId)).observe(call);
      const wire = o.writeToReplySeconds === undefined ? undefined : seconds(o.writeToReplySeconds);
      if (wire !== undefined) this.#requestDuration.observe(wire);
    }
    if (o.errorCode !== undefined) {
      if (o.errorCode === ErrorCode.Timeout) this.#timeouts.inc();
      this.#agentErrors.inc({ agent: agentId, kind: o.errorCode.toLowerCase().replace(/^zap_/, '') });
    }
  }

  /** A connect or handshake failed, or a ready connection died. */
  connectionError(agentId: string, kind: ConnectionErrorKind): void {
    this.#connectionErrors.inc();
    // §12.2 lists only the two set-up failures as connection-level kinds.
    if (kind !== 'lost') this.#agentErrors.inc({ agent: agentId, kind });
  }

  flowPause(_agentId: string): void {
    this.#flowPauses.inc();
  }

  /** A flow-control rejection or a synthetic Allow (§12.1). */
  flowRejection(_agentId: string): void {
    this.#flowRejections.inc();
  }

  affinityEvictions(n: number): void {
    if (n > 0) this.#affinityEvictions.inc(n);
  }

  affinityRejections(n: number): void {
    if (n > 0) this.#affinityRejections.inc(n);
  }

  /** The pool state the gauges read at each scrape. */
  setGaugeSource(source: () => GaugeSnapshot): void {
    this.#source = source;
    this.#sourceFailed = false;
  }

  /** §12.3: stores an agent's MetricsReport (latest value per series). `now` in ms. */
  agentReported(agentId: string, report: MetricsReport, now: number): void {
    this.#reported.ingest(agentId, report, now);
  }

  /** Maintenance: drops reported series not updated for the TTL. `now` in ms. */
  sweep(now: number): void {
    this.#reported.sweep(now);
  }

  /** Exposition text: §12.1 families, §12.2 families, the agent-reported ones, then (opt-in) the process ones. */
  async metrics(): Promise<string> {
    const own = await this.registry.metrics();
    const process = this.#defaultMetrics && this.#prometheusText() ? await processMetricsText(this.registry) : '';
    return spellNaN(process === '' ? own : `${own}\n${process}`);
  }

  /** The registry may be switched to OpenMetrics after construction (setContentType): then no process text. */
  #prometheusText(): boolean {
    if (this.registry.contentType === prom().Registry.PROMETHEUS_CONTENT_TYPE) return true;
    if (!this.#openMetricsWarned) {
      this.#openMetricsWarned = true;
      this.#warn('defaultMetrics: the registry now speaks OpenMetrics, so the process metrics are left out (logged once)');
    }
    return false;
  }

  #name(f: FamilyDefinition): string {
    return `${this.#prefix}_${f.suffix}`;
  }

  #poolGauge(f: FamilyDefinition, aggregator: Aggregator, pick: (s: GaugeSnapshot) => number): void {
    const snapshot = (): GaugeSnapshot | undefined => this.#snapshot();
    new (prom().Gauge)({
      name: this.#name(f),
      help: f.help,
      aggregator,
      registers: [this.registry],
      collect(this: Gauge) {
        const s = snapshot();
        if (s !== undefined) this.set(pick(s));
      },
    });
  }

  #agentGauge(f: FamilyDefinition, aggregator: Aggregator, pick: (a: GaugeSnapshot['agents'][number]) => number): void {
    const snapshot = (): GaugeSnapshot | undefined => this.#snapshot();
    new (prom().Gauge)<'agent'>({
      name: f.suffix,
      help: f.help,
      labelNames: ['agent'] as const,
      aggregator,
      registers: [this.registry],
      collect(this: Gauge<'agent'>) {
        const s = snapshot();
        if (s === undefined) return;
        // Rebuilt each scrape so a removed agent disappears.
        this.reset();
        for (const a of s.agents) this.set({ agent: a.agentId }, pick(a));
      },
    });
  }

  #snapshot(): GaugeSnapshot | undefined {
    if (this.#source === undefined) return undefined;
    if (this.#scrape === undefined) {
      this.#scrape = { snapshot: this.#readSource(this.#source) };
      queueMicrotask(() => (this.#scrape = undefined));
    }
    return this.#scrape.snapshot;
  }

  /** A failing source must not fail the scrape: the gauges keep their last values. */
  #readSource(source: () => GaugeSnapshot): GaugeSnapshot | undefined {
    try {
      return source();
    } catch (err) {
      if (!this.#sourceFailed) {
        this.#sourceFailed = true;
        this.#warn(`gauge source failed, gauges keep their last values: ${String(err)} (logged once)`);
      }
      return undefined;
    }
  }
}
