// The top-level `reverse-listener { … }` block (spec §9.1, §13.2) and its `tls { }` child.
import type { ReverseListenerConfig, ReverseListenerTlsConfig } from './config-types.js';
import type { KdlNodeAt } from './kdl-document.js';
import {
  badValue,
  blockOnly,
  fail,
  readBlock,
  scalarsOf,
  singleValue,
  within,
  type BlockSpec,
  type KeySpec,
  type LoadContext,
  type ValueKind,
} from './schema-kit.js';
import { boolean, duration, positiveInteger, stringList, text } from './value-kinds.js';

export const LISTENER_DEFAULTS = {
  maxConnectionsPerAgent: 4,
  handshakeTimeoutMs: 10_000,
  requireAuth: false,
  authTokens: [] as string[],
  allowedAgents: [] as string[],
} as const satisfies Partial<ReverseListenerConfig>;

type TlsDraft = Partial<ReverseListenerTlsConfig>;
const tlsKey = scalarsOf<TlsDraft>();

export const LISTENER_TLS_BLOCK: BlockSpec<TlsDraft> = {
  title: '`tls { }` (inside `reverse-listener`)',
  intro: 'TLS for the `tcp-address` listener only; `cert` and `key` are required.',
  typeName: 'ReverseListenerTlsConfig',
  keys: [
    tlsKey('cert', 'cert', text('`"<file>"`'), undefined, 'Server certificate (PEM).'),
    tlsKey('key', 'key', text('`"<file>"`'), undefined, 'Its private key (PEM).'),
    tlsKey('ca-cert', 'caCert', text('`"<file>"`'), undefined, 'CA for client certificates; when set, agents must present one.'),
  ],
};

const hostPort: ValueKind<string> = {
  form: '`"<host>:<port>"`',
  read(node, cx) {
    const v = singleValue(node, cx, 'a string');
    const m = typeof v === 'string' ? /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(v) : null;
    if (m === null || Number(m[2]) > 65_535) badValue(node, cx, '"<host>:<port>" with a port from 0 to 65535', v);
    return v as string;
  },
  show: (v) => JSON.stringify(v),
};

/** The listener while its block is read, with the lines needed by the cross-key checks. */
export interface ListenerDraft extends Omit<ReverseListenerConfig, 'tls'> {
  tls?: TlsDraft;
  lines: Map<string, number>;
}

function appendTo(key: string, field: 'authTokens' | 'allowedAgents', kind: ValueKind<string[]>, doc: string, dflt: string): KeySpec<ListenerDraft> {
  return {
    key,
    field,
    form: kind.form,
    defaultText: dflt,
    doc,
    repeatable: true,
    apply(node, d, cx) {
      for (const v of kind.read(node, cx)) if (!d[field].includes(v)) d[field].push(v);
    },
  };
}

const key = scalarsOf<ListenerDraft>();
const oneToken: ValueKind<string[]> = {
  form: '`"<token>"` (may repeat)',
  read: (node, cx) => [text('').read(node, cx)],
  show: () => '—',
};

export const LISTENER_BLOCK: BlockSpec<ListenerDraft> = {
  title: '`reverse-listener { … }` (top level)',
  intro:
    'Where agents with the `reverse` transport connect (spec §9). At least one of `path` and `tcp-address` is ' +
    'required. `require-auth #true` without any token, or tokens without `require-auth #true`, is an error. ' +
    'A `reverse` agent whose id `allowed-agents` would refuse gets a warning.',
  typeName: 'ReverseListenerConfig',
  keys: [
    key('path', 'path', text('`"<socket path>"`'), undefined, 'Unix socket to listen on (an existing file there is replaced).'),
    key('tcp-address', 'tcpAddress', hostPort, undefined, 'TCP address to listen on; TLS when a `tls { }` block is given.'),
    key('max-connections-per-agent', 'maxConnectionsPerAgent', positiveInteger, LISTENER_DEFAULTS, 'Live reverse connections one agent id may hold.'),
    key('handshake-timeout', 'handshakeTimeoutMs', duration, LISTENER_DEFAULTS, 'Time allowed for the registration frame.'),
    key('require-auth', 'requireAuth', boolean, LISTENER_DEFAULTS, 'Agents must send one of the configured tokens.'),
    appendTo('auth-token', 'authTokens', oneToken, 'One accepted token; may repeat.', '—'),
    appendTo('auth-tokens', 'authTokens', stringList('`"<t1>" "<t2>" …`'), 'Accepted tokens (merged with `auth-token`).', '—'),
    appendTo('allowed-agents', 'allowedAgents', stringList('`"<pattern>" …`'), 'Agent ids allowed to register: exact or `*` glob, case-sensitive.', 'empty = every agent'),
    {
      key: 'tls',
      field: 'tls',
      form: 'children (below)',
      defaultText: 'no TLS',
      doc: 'TLS for `tcp-address`.',
      apply(node, d, cx) {
        blockOnly(node, cx);
        const tls: TlsDraft = {};
        readBlock(LISTENER_TLS_BLOCK, node.children, tls, within(cx, `tls of ${cx.where}`));
        d.tls = tls;
      },
    },
  ],
};

/** Reads a `reverse-listener` node and checks the rules that span several keys. */
export function readListener(node: KdlNodeAt, cx: LoadContext): ReverseListenerConfig {
  blockOnly(node, cx);
  const lcx = within(cx, 'reverse-listener');
  const d: ListenerDraft = { ...structuredClone(LISTENER_DEFAULTS), lines: new Map() };
  d.lines = readBlock(LISTENER_BLOCK, node.children, d, lcx);
  const lineOf = (k: string): number => d.lines.get(k) ?? node.line;
  if (d.path === undefined && d.tcpAddress === undefined) fail(cx, node.line, 'reverse-listener needs `path` or `tcp-address` (or both)');
  if (d.requireAuth && d.authTokens.length === 0) {
    fail(cx, lineOf('require-auth'), 'reverse-listener: require-auth #true needs at least one auth-token or auth-tokens');
  }
  if (!d.requireAuth && d.authTokens.length > 0) {
    const first = Math.min(...['auth-token', 'auth-tokens'].map((k) => d.lines.get(k) ?? Infinity));
    fail(cx, Number.isFinite(first) ? first : node.line, 'reverse-listener: auth tokens are set but require-auth is not #true');
  }
  const out: ReverseListenerConfig = {
    maxConnectionsPerAgent: d.maxConnectionsPerAgent,
    handshakeTimeoutMs: d.handshakeTimeoutMs,
    requireAuth: d.requireAuth,
    authTokens: d.authTokens,
    allowedAgents: d.allowedAgents,
  };
  if (d.path !== undefined) out.path = d.path;
  if (d.tcpAddress !== undefined) out.tcpAddress = d.tcpAddress;
  if (d.tls !== undefined) {
    const tlsLine = lineOf('tls');
    if (d.tcpAddress === undefined) fail(cx, tlsLine, 'reverse-listener: tls applies to tcp-address only, and no tcp-address is set');
    const { cert, key: keyFile, caCert } = d.tls;
    if (cert === undefined || keyFile === undefined) fail(cx, tlsLine, 'reverse-listener: tls needs both cert and key');
    out.tls = caCert === undefined ? { cert, key: keyFile } : { cert, key: keyFile, caCert };
  }
  return out;
}
