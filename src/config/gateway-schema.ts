// The proxy blocks `zap gateway` serves, in the Zentinel proxy's own key names: `listeners { }` and
// `upstreams { }` here, `routes { }` in route-schema.ts. Keys the reference knows but zap does not
// serve are refused by name (BlockSpec.refused), never ignored.
import { showKdl } from './config-error.js';
import type { GatewayConfig, GatewayListenerConfig, UpstreamConfig, UpstreamTargetConfig } from './config-types.js';
import type { KdlNodeAt } from './kdl-document.js';
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
  type LoadContext,
} from './schema-kit.js';
import { hostPort, positiveInteger, secondsAsMs, text } from './value-kinds.js';

/** A reference to check once the whole document is read (an upstream, an agent or a route by id). */
export interface GatewayReference {
  kind: 'upstream' | 'agent' | 'route';
  id: string;
  line: number;
  /** Who refers, e.g. `route "api"`. */
  from: string;
}

/** The gateway blocks while the document is read. */
export interface GatewayDraft extends GatewayConfig {
  /** `<kind> "<id>"` → line, for duplicate-id errors. */
  ids: Map<string, number>;
  references: GatewayReference[];
}

export const newGatewayDraft = (): GatewayDraft => ({ listeners: [], upstreams: [], routes: [], ids: new Map(), references: [] });

/** The id of `<kind> "<id>" { … }`: exactly one non-empty string, no properties, unique among its kind. */
export function namedBlockId(node: KdlNodeAt, g: GatewayDraft, cx: LoadContext): string {
  const id = node.values[0];
  if (node.values.length !== 1 || typeof id !== 'string' || id.length === 0) {
    fail(
      cx,
      node.line,
      `${node.name} needs exactly one id string (${node.name} "<id>" { … }), got ${node.values.map(showKdl).join(' ') || 'none'}`,
    );
  }
  const prop = Object.keys(node.properties)[0];
  if (prop !== undefined) fail(cx, node.line, `unexpected property '${prop}=' on ${node.name} "${id}"`);
  const name = `${node.name} "${id}"`;
  const first = g.ids.get(name);
  if (first !== undefined) fail(cx, node.line, `duplicate ${name}${first > 0 ? ` (first at line ${first})` : ''}`);
  g.ids.set(name, node.line);
  return id;
}

// ---- listeners ----

type ListenerDraft = Partial<GatewayListenerConfig>;
const listenerKey = scalarsOf<ListenerDraft>();
const LISTENER_DEFAULTS = { protocol: 'http', requestTimeoutMs: 60_000, keepaliveTimeoutMs: 75_000 } as const;

const httpProtocol = {
  form: '`"http"` (`https`, `h2`, `h3` are refused)',
  read(node: KdlNodeAt, cx: LoadContext): 'http' {
    const v = singleValue(node, cx, 'a string');
    if (v === 'http') return v;
    if (v === 'https' || v === 'h2' || v === 'h3')
      failKey(cx, node, `protocol "${v}" is not supported by zap gateway (only "http"; terminate TLS in front of it)`);
    return badValue(node, cx, '"http"', v);
  },
  show: (v: string) => `\`"${v}"\``,
};

export const GATEWAY_LISTENER_BLOCK: BlockSpec<ListenerDraft> = {
  title: '`listener "<id>" { }` (inside `listeners`)',
  intro: 'Where `zap gateway` accepts HTTP/1.1. `address` is required.',
  typeName: 'GatewayListenerConfig',
  keys: [
    listenerKey('address', 'address', hostPort, undefined, 'Address to listen on; port 0 picks a free port.'),
    listenerKey('protocol', 'protocol', httpProtocol, LISTENER_DEFAULTS, 'Plain HTTP/1.1.'),
    listenerKey('request-timeout-secs', 'requestTimeoutMs', secondsAsMs, LISTENER_DEFAULTS, 'Time to receive a whole request.'),
    listenerKey(
      'keepalive-timeout-secs',
      'keepaliveTimeoutMs',
      secondsAsMs,
      LISTENER_DEFAULTS,
      'Idle keep-alive connections are closed after this.',
    ),
    listenerKey('default-route', 'defaultRoute', text('`"<route id>"`'), undefined, 'Route used when none matches (otherwise 404).'),
  ],
  refused: ['tls', 'max-concurrent-streams'],
};

function readListener(node: KdlNodeAt, g: GatewayDraft, cx: LoadContext): void {
  const id = namedBlockId(node, g, cx);
  const lcx = within(cx, `listener "${id}"`);
  const d: ListenerDraft = {};
  const lines = readBlock(GATEWAY_LISTENER_BLOCK, node.children, d, lcx);
  if (d.address === undefined) fail(cx, node.line, `listener "${id}" needs an address ("<host>:<port>")`);
  const listener: GatewayListenerConfig = { id, ...LISTENER_DEFAULTS, ...d, address: d.address };
  if (d.defaultRoute !== undefined) {
    g.references.push({ kind: 'route', id: d.defaultRoute, line: lines.get('default-route') ?? node.line, from: `listener "${id}"` });
  }
  g.listeners.push(listener);
}

export const LISTENERS_BLOCK: BlockSpec<GatewayDraft> = {
  title: '`listeners { }` (top level, `zap gateway`)',
  intro: 'One `listener` node per address `zap gateway` serves.',
  typeName: 'GatewayConfig',
  keys: [
    {
      key: 'listener',
      field: 'listeners[]',
      form: '`listener "<id>" { … }`',
      defaultText: '—',
      doc: 'One listener (below). May repeat; ids must be unique.',
      repeatable: true,
      apply: readListener,
    },
  ],
};

// ---- upstreams ----

interface UpstreamDraft {
  targets: UpstreamTargetConfig[];
  loadBalancing?: UpstreamConfig['loadBalancing'];
}

const LOAD_BALANCING: Readonly<Record<string, UpstreamConfig['loadBalancing']>> = {
  round_robin: 'round_robin',
  roundrobin: 'round_robin',
  weighted: 'weighted',
  weighted_round_robin: 'weighted',
  'weighted-round-robin': 'weighted',
};
/** The reference's other algorithms: refused by name rather than served as round robin. */
const OTHER_ALGORITHMS = /^[a-z_-]+$/;

const UPSTREAM_DEFAULTS = { loadBalancing: 'round_robin' } as const;
const upstreamKey = scalarsOf<UpstreamDraft>();

const loadBalancing = {
  form: '`"round_robin"`, `"weighted"` (others are refused)',
  read(node: KdlNodeAt, cx: LoadContext): UpstreamConfig['loadBalancing'] {
    const v = singleValue(node, cx, 'a string');
    const out = typeof v === 'string' ? LOAD_BALANCING[v.toLowerCase()] : undefined;
    if (out !== undefined) return out;
    if (typeof v === 'string' && OTHER_ALGORITHMS.test(v)) {
      failKey(cx, node, `load-balancing "${v}" is not supported by zap gateway (round_robin or weighted)`);
    }
    return badValue(node, cx, '"round_robin" or "weighted"', v);
  },
  show: (v: string) => `\`"${v}"\``,
};

const TARGET_BLOCK: BlockSpec<Partial<UpstreamTargetConfig>> = {
  title: '`target { }` (inside `targets` of an upstream)',
  intro: 'One backend. `address` is required; `weight=` may also be written as a property of `address`.',
  typeName: 'UpstreamTargetConfig',
  keys: [
    {
      key: 'address',
      field: 'address',
      form: '`"<host>:<port>"` [`weight=<n>`]',
      defaultText: '—',
      doc: 'The backend address.',
      apply(node, t, cx) {
        const { weight, ...rest } = node.properties;
        const bare: KdlNodeAt = { ...node, properties: rest };
        t.address = hostPort.read(bare, cx);
        if (weight !== undefined) t.weight = positiveInteger.read({ ...bare, values: [weight] }, cx);
      },
    },
    {
      key: 'weight',
      field: 'weight',
      form: positiveInteger.form,
      defaultText: '1',
      doc: 'Share of the requests (weighted round robin).',
      apply(node, t, cx) {
        if (t.weight !== undefined) failKey(cx, node, 'the weight is already set on address');
        t.weight = positiveInteger.read(node, cx);
      },
    },
  ],
  refused: ['max-requests', 'metadata'],
};

function readTarget(node: KdlNodeAt, u: UpstreamDraft, cx: LoadContext): void {
  blockOnly(node, cx);
  const t: Partial<UpstreamTargetConfig> = {};
  readBlock(TARGET_BLOCK, node.children, t, within(cx, `target of ${cx.where}`));
  if (t.address === undefined) fail(cx, node.line, `target of ${cx.where} needs an address ("<host>:<port>")`);
  u.targets.push({ address: t.address, weight: t.weight ?? 1 });
}

const TARGETS_BLOCK: BlockSpec<UpstreamDraft> = {
  title: '`targets { }` (inside an upstream)',
  intro: 'The long form of the backends: one `target { address "<host>:<port>" }` each.',
  typeName: 'UpstreamConfig',
  keys: [
    {
      key: 'target',
      field: 'targets[]',
      form: 'children (above)',
      defaultText: '—',
      doc: 'One backend.',
      repeatable: true,
      apply: readTarget,
    },
  ],
};

export const UPSTREAM_BLOCK: BlockSpec<UpstreamDraft> = {
  title: '`upstream "<id>" { }` (inside `upstreams`)',
  intro: 'A pool of backends; at least one target, in either form (both may be mixed).',
  typeName: 'UpstreamConfig',
  keys: [
    {
      key: 'target',
      field: 'targets[]',
      form: '`"<host>:<port>"`',
      defaultText: '—',
      doc: 'The short form of one backend (weight 1). May repeat.',
      repeatable: true,
      apply(node, u, cx) {
        u.targets.push({ address: hostPort.read(node, cx), weight: 1 });
      },
    },
    {
      key: 'targets',
      field: 'targets[]',
      form: 'children (below)',
      defaultText: '—',
      doc: 'The long form: `targets { target { address "<host>:<port>" } … }`.',
      repeatable: true,
      apply(node, u, cx) {
        blockOnly(node, cx);
        readBlock(TARGETS_BLOCK, node.children, u, cx);
      },
    },
    upstreamKey('load-balancing', 'loadBalancing', loadBalancing, UPSTREAM_DEFAULTS, 'Both spread requests by target weight.'),
  ],
  refused: ['health-check', 'connection-pool', 'timeouts', 'tls', 'circuit-breaker', 'http-version', 'discovery'],
};

function readUpstream(node: KdlNodeAt, g: GatewayDraft, cx: LoadContext): void {
  const id = namedBlockId(node, g, cx);
  const u: UpstreamDraft = { targets: [] };
  readBlock(UPSTREAM_BLOCK, node.children, u, within(cx, `upstream "${id}"`));
  if (u.targets.length === 0) fail(cx, node.line, `upstream "${id}" needs at least one target ("<host>:<port>")`);
  g.upstreams.push({ id, targets: u.targets, loadBalancing: u.loadBalancing ?? UPSTREAM_DEFAULTS.loadBalancing });
}

export const UPSTREAMS_BLOCK: BlockSpec<GatewayDraft> = {
  title: '`upstreams { }` (top level, `zap gateway`)',
  intro: 'One `upstream` node per pool of backends that routes forward to.',
  typeName: 'GatewayConfig',
  keys: [
    {
      key: 'upstream',
      field: 'upstreams[]',
      form: '`upstream "<id>" { … }`',
      defaultText: '—',
      doc: 'One upstream (below). May repeat; ids must be unique.',
      repeatable: true,
      apply: readUpstream,
    },
  ],
};

export { TARGETS_BLOCK, TARGET_BLOCK };
