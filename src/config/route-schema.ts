// The `routes { route "<id>" { … } }` block of `zap gateway`, in the Zentinel proxy's key names:
// priority, `matches { }` (path, path-prefix, path-regex, host, method), upstream, agents.
import type { RouteConfig, RouteMatchConfig } from './config-types.js';
import type { KdlNodeAt } from './kdl-document.js';
import { namedBlockId, type GatewayDraft } from './gateway-schema.js';
import {
  badValue,
  blockOnly,
  fail,
  failKey,
  readBlock,
  scalarsOf,
  singleValue,
  within,
  type BlockSpec,
  type KeySpec,
  type LoadContext,
} from './schema-kit.js';
import { boolean, stringList, text } from './value-kinds.js';

interface RouteDraft {
  priority?: number;
  matches: RouteMatchConfig[];
  upstream?: string;
  agents: string[];
  websocket?: boolean;
  /** Line of the `agents` node that listed each agent. */
  agentLines: Map<string, number>;
  lines: Map<string, number>;
}

const pathText = text('`"/<path>"`');

function pathValue(node: KdlNodeAt, cx: LoadContext): string {
  const v = pathText.read(node, cx);
  if (!v.startsWith('/')) badValue(node, cx, 'a path starting with "/"', v);
  return v;
}

function matcher(
  key: string,
  form: string,
  doc: string,
  read: (node: KdlNodeAt, cx: LoadContext) => RouteMatchConfig,
): KeySpec<RouteDraft> {
  return {
    key,
    field: 'matches[]',
    form,
    defaultText: '—',
    doc,
    repeatable: true,
    apply(node, d, cx) {
      d.matches.push(read(node, cx));
    },
  };
}

const METHOD = /^[A-Za-z]+$/;

export const MATCHES_BLOCK: BlockSpec<RouteDraft> = {
  title: '`matches { }` (inside a route)',
  intro: 'Every condition written must hold; a route without conditions matches every request.',
  typeName: 'RouteConfig',
  keys: [
    matcher('path-prefix', pathText.form, 'The path (before `?`) starts with this.', (node, cx) => ({
      kind: 'path-prefix',
      value: pathValue(node, cx),
    })),
    matcher('path', pathText.form, 'The path (before `?`) is exactly this.', (node, cx) => ({ kind: 'path', value: pathValue(node, cx) })),
    matcher(
      'path-regex',
      '`"<regular expression>"`',
      'The path matches this JavaScript regular expression (compiled once).',
      (node, cx) => {
        const value = text('').read(node, cx);
        try {
          new RegExp(value);
        } catch (err) {
          failKey(cx, node, `not a valid regular expression: ${(err as Error).message}`);
        }
        return { kind: 'path-regex', value };
      },
    ),
    matcher('host', '`"<host>"`', 'The Host header, without its port, is this name (case-insensitive).', (node, cx) => ({
      kind: 'host',
      value: text('').read(node, cx).toLowerCase(),
    })),
    matcher('method', '`"GET" "POST" …`', 'The method is one of these.', (node, cx) => {
      const values = stringList('').read(node, cx);
      for (const m of values) if (!METHOD.test(m)) badValue(node, cx, 'HTTP method names', m);
      return { kind: 'method', values: values.map((m) => m.toUpperCase()) };
    }),
  ],
  refused: ['header', 'query-param'],
};

const routeKey = scalarsOf<RouteDraft>();
const ROUTE_DEFAULTS = { priority: 0, websocket: false } as const;

export const ROUTE_BLOCK: BlockSpec<RouteDraft> = {
  title: '`route "<id>" { }` (inside `routes`)',
  intro:
    'Routes are tried by `priority` (higher first), then in the order written; the first that matches serves the ' +
    'request. `upstream` is required, and it and every id in `agents` must be declared.',
  typeName: 'RouteConfig',
  keys: [
    {
      key: 'priority',
      field: 'priority',
      form: 'integer',
      defaultText: '0',
      doc: 'Higher is tried first.',
      apply(node, d, cx) {
        const v = singleValue(node, cx, 'an integer');
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) badValue(node, cx, 'an integer', v);
        d.priority = v;
      },
    },
    {
      key: 'matches',
      field: 'matches',
      form: 'children (below)',
      defaultText: 'every request',
      doc: 'The conditions.',
      repeatable: true,
      apply(node, d, cx) {
        blockOnly(node, cx);
        readBlock(MATCHES_BLOCK, node.children, d, within(cx, `matches of ${cx.where}`));
      },
    },
    routeKey('upstream', 'upstream', text('`"<upstream id>"`'), undefined, 'Where matching requests go.'),
    {
      key: 'agents',
      field: 'agents',
      form: '`"<agent id>" …`',
      defaultText: 'none',
      doc: 'Agents consulted, in this order (the first non-allow decision wins). May repeat; appends.',
      repeatable: true,
      apply(node, d, cx) {
        for (const id of stringList('').read(node, cx)) {
          if (d.agents.includes(id)) failKey(cx, node, `agent "${id}" is listed twice`);
          d.agents.push(id);
          d.agentLines.set(id, node.line);
        }
      },
    },
    routeKey(
      'websocket',
      'websocket',
      boolean,
      ROUTE_DEFAULTS,
      'Relay WebSocket upgrades on this route; frames go to the agents that subscribe to `websocket_frame`.',
    ),
  ],
  refused: [
    'filters',
    'policies',
    'service-type',
    'static-files',
    'builtin-handler',
    'api-schema',
    'inference',
    'cache',
    'shadow',
    'waf-enabled',
    'websocket-inspection',
    'fallback',
    'circuit-breaker',
    'retry-policy',
    'error-pages',
  ],
};

function readRoute(node: KdlNodeAt, g: GatewayDraft, cx: LoadContext): void {
  const id = namedBlockId(node, g, cx);
  const where = `route "${id}"`;
  const d: RouteDraft = { matches: [], agents: [], agentLines: new Map(), lines: new Map() };
  d.lines = readBlock(ROUTE_BLOCK, node.children, d, within(cx, where));
  if (d.upstream === undefined) fail(cx, node.line, `${where} needs an upstream ("<upstream id>")`);
  g.references.push({ kind: 'upstream', id: d.upstream, line: d.lines.get('upstream') ?? node.line, from: where });
  for (const agent of d.agents) g.references.push({ kind: 'agent', id: agent, line: d.agentLines.get(agent) ?? node.line, from: where });
  const route: RouteConfig = {
    id,
    priority: d.priority ?? ROUTE_DEFAULTS.priority,
    matches: d.matches,
    upstream: d.upstream,
    agents: d.agents,
    websocket: d.websocket ?? ROUTE_DEFAULTS.websocket,
  };
  g.routes.push(route);
}

export const ROUTES_BLOCK: BlockSpec<GatewayDraft> = {
  title: '`routes { }` (top level, `zap gateway`)',
  intro: 'One `route` node per kind of request.',
  typeName: 'GatewayConfig',
  keys: [
    {
      key: 'route',
      field: 'routes[]',
      form: '`route "<id>" { … }`',
      defaultText: '—',
      doc: 'One route (below). May repeat; ids must be unique.',
      repeatable: true,
      apply: readRoute,
    },
  ],
};
