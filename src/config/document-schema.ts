// The document level of the schema: the top-level keys, the `agents { }` block, how one `agent` node
// is read and finished, and CONFIG_SCHEMA, the ordered list of every block (the reference's order).
import { AGENT_BLOCK, agentDraft, CIRCUIT_BREAKER_BLOCK, CONFIG_BLOCK, GRPC_BLOCK, type AgentDraft } from './agent-schema.js';
import { showKdl } from './config-error.js';
import type { AgentConfig, ReverseListenerConfig } from './config-types.js';
import type { KdlNodeAt } from './kdl-document.js';
import {
  GATEWAY_LISTENER_BLOCK,
  LISTENERS_BLOCK,
  newGatewayDraft,
  TARGET_BLOCK,
  TARGETS_BLOCK,
  UPSTREAM_BLOCK,
  UPSTREAMS_BLOCK,
  type GatewayDraft,
} from './gateway-schema.js';
import { LISTENER_BLOCK, LISTENER_TLS_BLOCK, readListener } from './listener-schema.js';
import { MATCHES_BLOCK, ROUTE_BLOCK, ROUTES_BLOCK } from './route-schema.js';
import { POOL_BLOCK } from './pool-schema.js';
import { blockOnly, fail, readBlock, within, type BlockSpec, type LoadContext } from './schema-kit.js';

export interface DocumentDraft {
  agents: AgentConfig[];
  /** First line of each agent id, for duplicate errors. */
  agentLines: Map<string, number>;
  /** Line of each reverse agent's `reverse` key, checked against the listener at the end. */
  reverseLines: Map<string, number>;
  reverseListener?: ReverseListenerConfig;
  /** Created by the first of `listeners`, `upstreams`, `routes`. */
  gateway?: GatewayDraft;
}

const KNOWN_TYPES: Readonly<Record<string, string>> = { waf: 'waf', auth: 'auth', rate_limit: 'rate_limit', 'rate-limit': 'rate_limit' };

function readAgent(node: KdlNodeAt, doc: DocumentDraft, cx: LoadContext): void {
  const id = node.values[0];
  if (node.values.length !== 1 || typeof id !== 'string' || id.length === 0) {
    fail(cx, node.line, `agent needs exactly one id string (agent "<id>" { … }), got ${node.values.map(showKdl).join(' ') || 'none'}`);
  }
  const acx = within(cx, `agent "${id}"`);
  for (const prop of Object.keys(node.properties)) {
    if (prop !== 'type') fail(cx, node.line, `unknown property '${prop}=' on agent "${id}" (only type= is allowed)`);
  }
  const rawType = node.properties['type'];
  if (rawType !== undefined && (typeof rawType !== 'string' || rawType.length === 0)) {
    fail(cx, node.line, `agent "${id}": type must be a non-empty string, got ${showKdl(rawType)}`);
  }
  const first = doc.agentLines.get(id);
  if (first !== undefined) fail(cx, node.line, `duplicate agent id "${id}"${first > 0 ? ` (first at line ${first})` : ''}`);
  doc.agentLines.set(id, node.line);

  const draft: AgentDraft = agentDraft();
  readBlock(AGENT_BLOCK, node.children, draft, acx);
  const type = agentType(id, rawType, draft, acx);
  doc.agents.push(finishAgent(id, type, draft, node, acx, doc));
}

const knownType = (written: string): string => KNOWN_TYPES[written] ?? written;

/** `type=` or the `type "…"` child (the reference's examples write the child); both must agree. */
function agentType(id: string, property: string | undefined, draft: AgentDraft, cx: LoadContext): string {
  const child = draft.typeChild;
  if (child === undefined) return property === undefined ? id : knownType(property);
  if (property !== undefined && knownType(property) !== knownType(child.value)) {
    fail(cx, child.line, `${cx.where}: type "${child.value}" disagrees with type="${property}" on the agent node`);
  }
  return knownType(child.value);
}

/** `connections <n>` is `pool { connections-per-agent <n> }` as the docs write it; both must agree. */
function mergeConnections(draft: AgentDraft, cx: LoadContext): void {
  const connections = draft.connections;
  if (connections === undefined) return;
  const inPool = draft.pool.connectionsPerAgent;
  if (inPool !== undefined && inPool !== connections.value) {
    fail(cx, connections.line, `${cx.where}: connections ${connections.value} disagrees with pool { connections-per-agent ${inPool} }`);
  }
  draft.pool.connectionsPerAgent = connections.value;
}

function finishAgent(id: string, type: string, draft: AgentDraft, node: KdlNodeAt, cx: LoadContext, doc: DocumentDraft): AgentConfig {
  const [first, second] = draft.transports;
  if (first === undefined) fail(cx, node.line, `${cx.where} has no transport: one of unix-socket, grpc or reverse is required`);
  if (second !== undefined) {
    fail(
      cx,
      second.line,
      `${cx.where} has more than one transport: '${first.key}'${first.line > 0 ? ` (line ${first.line})` : ''} and '${second.key}'`,
    );
  }
  if (first.transport.kind === 'reverse') doc.reverseLines.set(id, first.line);
  mergeConnections(draft, cx);
  const { transports: _transports, typeChild: _type, connections: _connections, config, pool, ...settings } = draft;
  const agent: AgentConfig = { id, type, transport: first.transport, ...settings, pool };
  if (config !== undefined) agent.config = config;
  return agent;
}

const AGENTS_BLOCK: BlockSpec<DocumentDraft> = {
  title: '`agents { }` (top level)',
  intro: 'Holds one `agent` node per external agent; any other child is an error.',
  typeName: 'ZapConfig',
  keys: [
    {
      key: 'agent',
      field: 'agents[]',
      form: '`agent "<id>" type="<type>" { … }`',
      defaultText: '—',
      doc: 'One agent (below). May repeat; ids must be unique.',
      repeatable: true,
      apply: readAgent,
    },
  ],
};

/** A top-level gateway block: its children are read into the (shared) gateway draft. */
function gatewayBlock(key: string, block: BlockSpec<GatewayDraft>, doc: string): BlockSpec<DocumentDraft>['keys'][number] {
  return {
    key,
    field: `gateway.${key}`,
    form: 'children (below)',
    defaultText: 'none',
    doc,
    apply(node, d, cx) {
      blockOnly(node, cx);
      d.gateway ??= newGatewayDraft();
      readBlock(block, node.children, d.gateway, within(cx, key));
    },
  };
}

export const TOP_BLOCK: BlockSpec<DocumentDraft> = {
  title: 'Top level',
  intro:
    'KDL 2.0 syntax (`#true` / `#false` / `#null`; KDL 1 bare `true` is a syntax error). Every key not listed ' +
    "here is an error, reported as `<file>:<line>: unknown key '<key>' in <context>`; so are a key given twice " +
    '(unless marked as repeatable), a value of the wrong type, and properties or children where none belong.',
  typeName: 'ZapConfig',
  keys: [
    {
      key: 'agents',
      field: 'agents',
      form: 'children (below)',
      defaultText: 'no agents',
      doc: 'The agents.',
      apply(node, d, cx) {
        blockOnly(node, cx);
        readBlock(AGENTS_BLOCK, node.children, d, within(cx, 'agents'));
      },
    },
    {
      key: 'reverse-listener',
      field: 'reverseListener',
      form: 'children (below)',
      defaultText: 'none',
      doc: 'Listener for agents that connect to the proxy; required by `reverse` agents.',
      apply(node, d, cx) {
        d.reverseListener = readListener(node, cx);
      },
    },
    gatewayBlock('listeners', LISTENERS_BLOCK, '`zap gateway`: where it accepts HTTP.'),
    gatewayBlock('upstreams', UPSTREAMS_BLOCK, '`zap gateway`: the backends routes forward to.'),
    gatewayBlock('routes', ROUTES_BLOCK, '`zap gateway`: which upstream and agents serve a request.'),
  ],
  // The Zentinel proxy's other top-level blocks (`system` included, which it requires): refused here.
  refused: [
    'schema-version',
    'version',
    'system',
    'server',
    'filters',
    'waf',
    'namespace',
    'limits',
    'observability',
    'rate-limits',
    'cache',
  ],
};

/** Every block, in the order the reference shows them. */
export const CONFIG_SCHEMA: readonly BlockSpec<never>[] = [
  TOP_BLOCK,
  AGENTS_BLOCK,
  AGENT_BLOCK,
  GRPC_BLOCK,
  CIRCUIT_BREAKER_BLOCK,
  POOL_BLOCK,
  CONFIG_BLOCK,
  LISTENER_BLOCK,
  LISTENER_TLS_BLOCK,
  LISTENERS_BLOCK,
  GATEWAY_LISTENER_BLOCK,
  UPSTREAMS_BLOCK,
  UPSTREAM_BLOCK,
  TARGETS_BLOCK,
  TARGET_BLOCK,
  ROUTES_BLOCK,
  ROUTE_BLOCK,
  MATCHES_BLOCK,
] as readonly BlockSpec<never>[];
