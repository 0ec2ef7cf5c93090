// What the demo counts: decisions per agent and rule, gateway-added latency, errors.
import { build, type Histogram } from 'hdr-histogram-js';
import type { AgentResponse } from '../protocol/types.js';

export class DemoStats {
  /** agent → decision (allow / block 403 / …) → count */
  readonly decisions = new Map<string, Map<string, number>>();
  /** agent → rule id → count */
  readonly rules = new Map<string, Map<string, number>>();
  /** Whole request through the gateway (agents, upstream, response phase), µs. */
  readonly latency: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  gatewayErrors = 0;

  constructor(agentIds: string[]) {
    for (const id of agentIds) {
      this.decisions.set(id, new Map());
      this.rules.set(id, new Map());
    }
  }

  record(agentId: string, response: AgentResponse): void {
    const d = response.decision;
    const label =
      response.synthetic === true
        ? `${d.type === 'block' ? `block ${d.status}` : d.type} (fail-safe)`
        : d.type === 'block'
          ? `block ${d.status}`
          : d.type;
    bump(this.decisions.get(agentId), label);
    for (const rule of response.audit.ruleIds) bump(this.rules.get(agentId), rule);
  }
}

function bump(map: Map<string, number> | undefined, key: string): void {
  if (map !== undefined) map.set(key, (map.get(key) ?? 0) + 1);
}
