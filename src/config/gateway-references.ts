// The checks that span the gateway blocks: every route's upstream and agents, and every listener's
// default route, must be declared somewhere in the document (`file:line` of the reference otherwise).
import { configError } from './config-error.js';
import type { GatewayConfig } from './config-types.js';
import type { GatewayDraft } from './gateway-schema.js';

export function resolveGateway(g: GatewayDraft, agentLines: ReadonlyMap<string, number>, file: string): GatewayConfig {
  const upstreams = new Set(g.upstreams.map((u) => u.id));
  const routes = new Set(g.routes.map((r) => r.id));
  for (const ref of g.references) {
    const declared = ref.kind === 'upstream' ? upstreams.has(ref.id) : ref.kind === 'route' ? routes.has(ref.id) : agentLines.has(ref.id);
    if (declared) continue;
    const block = ref.kind === 'agent' ? 'agents' : `${ref.kind}s`;
    throw configError(file, ref.line, `${ref.from} refers to ${ref.kind} "${ref.id}", which is not declared in the ${block} block`);
  }
  return { listeners: g.listeners, upstreams: g.upstreams, routes: g.routes };
}
