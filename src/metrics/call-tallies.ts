// The per-call counts of the pool's metrics as plain numbers: a dispatch or a settle adds to a
// field, and prom-client reads the totals in its counters' collect() at scrape time (the idiom it
// supports for values kept elsewhere). A labelled prom-client inc() hashes its labels per call,
// which cost more main-thread time per call than all the rest of the metrics together.
import type { Counter } from 'prom-client';
import type { Decision } from '../protocol/types.js';
import type { BucketTally } from './tally-histogram.js';

/** The `decision` label: a reply's decision type. */
export type TalliedDecision = Decision['type'];

/** One `{agent, decision}` series of `agent_requests_total`. */
export interface DecisionSeries {
  readonly labels: { readonly agent: string; readonly decision: TalliedDecision };
  count: number;
  /** What the prom-client counter holds of it (see pushDelta). */
  pushed: number;
}

/** One agent's hot-path counts; the pool keeps one per configured agent id. */
export class AgentTally {
  readonly agentId: string;
  readonly decisions: Partial<Record<TalliedDecision, DecisionSeries>> = {};
  /** Its `agent_request_duration_seconds` series, made at its first reply (so series print in first-reply order). */
  duration: BucketTally | undefined;

  constructor(agentId: string) {
    this.agentId = agentId;
  }
}

export class CallTallies {
  requests = 0;
  responses = 0;
  readonly #agents = new Map<string, AgentTally>();
  /** Every decision series in the order of its first reply: the order prom-client prints them in. */
  readonly #series: DecisionSeries[] = [];
  #requestsPushed = 0;
  #responsesPushed = 0;

  agent(agentId: string): AgentTally {
    let a = this.#agents.get(agentId);
    if (a === undefined) {
      a = new AgentTally(agentId);
      this.#agents.set(agentId, a);
    }
    return a;
  }

  /** Counts one reply of `decision` for `agent`. */
  reply(agent: AgentTally, decision: TalliedDecision): void {
    this.responses++;
    let s = agent.decisions[decision];
    if (s === undefined) {
      s = { labels: { agent: agent.agentId, decision }, count: 0, pushed: 0 };
      agent.decisions[decision] = s;
      this.#series.push(s);
    }
    s.count++;
  }

  /** collect() of `agent_protocol_requests_total`. */
  collectRequests(counter: Counter): void {
    this.#requestsPushed = pushDelta(counter, undefined, this.requests, this.#requestsPushed);
  }

  /** collect() of `agent_protocol_responses_total`. */
  collectResponses(counter: Counter): void {
    this.#responsesPushed = pushDelta(counter, undefined, this.responses, this.#responsesPushed);
  }

  /** collect() of `agent_requests_total`. */
  collectDecisions(counter: Counter<'agent' | 'decision'>): void {
    for (const s of this.#series) s.pushed = pushDelta(counter, s.labels, s.count, s.pushed);
  }
}

/**
 * Adds to the prom-client counter what it has not yet seen, and returns the new pushed total. Only
 * deltas go in, so `registry.resetMetrics()` still zeroes the counter as it did when every call
 * incremented it.
 */
function pushDelta<L extends string>(counter: Counter<L>, labels: Record<L, string> | undefined, total: number, pushed: number): number {
  const delta = total - pushed;
  if (delta > 0) {
    if (labels === undefined) counter.inc(delta);
    else counter.inc(labels, delta);
  }
  return total;
}
