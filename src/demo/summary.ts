// The demo's closing report: requests and rate, outcomes per workload kind, decisions per agent
// and rule, the latency the agents added, breaker states.
import type { DemoStats } from './demo-stats.js';
import type { WorkloadResult } from './workload.js';

const BREAKER = ['closed', 'open', 'half-open'];

export function formatSummary(result: WorkloadResult, stats: DemoStats, breakers: Record<string, number>): string {
  const lines: string[] = [];
  const seconds = result.elapsedMs / 1000;
  lines.push('', `Summary: ${result.requests} requests in ${seconds.toFixed(1)} s (${Math.round(result.requests / seconds)} req/s)`);
  lines.push('  responses by kind:');
  for (const [kind, statuses] of Object.entries(result.byKind)) {
    const parts = Object.entries(statuses).map(([status, n]) => `${status}×${n}`);
    lines.push(`    ${kind.padEnd(16)} ${parts.join('  ') || '—'}`);
  }
  lines.push('  decisions per agent:');
  for (const [agent, decisions] of stats.decisions) {
    const parts = [...decisions].map(([d, n]) => `${d}: ${n}`);
    const rules = [...(stats.rules.get(agent) ?? [])].map(([r, n]) => `${r}×${n}`);
    lines.push(`    ${agent.padEnd(6)} ${parts.join(', ') || '—'}${rules.length > 0 ? `   rules ${rules.join(' ')}` : ''}`);
  }
  if (result.responsePhase > 0) lines.push(`  response phase: echo stamped x-agent-echo-status on ${result.responsePhase} responses`);
  const h = stats.latency;
  lines.push(
    `  latency through the gateway (agents and upstream): p50 ` +
      `${(h.getValueAtPercentile(50) / 1000).toFixed(2)} ms, p99 ` +
      `${(h.getValueAtPercentile(99) / 1000).toFixed(2)} ms`,
  );
  lines.push(
    `  circuit breakers: ${Object.entries(breakers)
      .map(([a, s]) => `${a} ${BREAKER[s] ?? s}`)
      .join(', ')}`,
  );
  if (stats.gatewayErrors > 0) lines.push(`  gateway errors: ${stats.gatewayErrors}`);
  return lines.join('\n');
}
