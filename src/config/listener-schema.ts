// The top-level `reverse-listener { … }` block (spec §9.1, §13.2) and its `tls { }` child.
import type { AuthToken } from '../protocol/registration.js';
import { MAX_FRAME_LENGTH } from '../protocol/frame-encoder.js';
import { REVERSE_DEFAULTS } from '../pool/reverse-settings.js';
import type { ReverseListenerConfig, ReverseListenerTlsConfig } from './config-types.js';
import type { KdlNodeAt } from './kdl-document.js';
import {
  argumentsOnly,
  badValue,
  blockOnly,
  failKey,
  fail,
  readBlock,
  scalarsOf,
  within,
  type BlockSpec,
  type KeySpec,
  type LoadContext,
  type ValueKind,
} from './schema-kit.js';
import { boolean, duration, hostPort, positiveInteger, stringList, text } from './value-kinds.js';

/** listenReverse's defaults (one source for the API and KDL), and the secure auth defaults. */
const LISTENER_DEFAULTS = {
  ...REVERSE_DEFAULTS,
  requireAuth: true,
  insecureAllowUnauthenticated: false,
  authTokens: [] as AuthToken[],
  allowedAgents: [] as string[],
  allowUndeclaredAgents: false,
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

/** The listener while its block is read, with the lines needed by the cross-key checks. */
export interface ListenerDraft extends Omit<ReverseListenerConfig, 'tls'> {
  tls?: TlsDraft;
  lines: Map<string, number>;
}

function appendTo(
  key: string,
  field: 'authTokens' | 'allowedAgents',
  kind: ValueKind<string[]>,
  doc: string,
  dflt: string,
): KeySpec<ListenerDraft> {
  return {
    key,
    field,
    form: kind.form,
    defaultText: dflt,
    doc,
    repeatable: true,
    apply(node, d, cx) {
      const list: Array<string | AuthToken> = d[field];
      for (const v of kind.read(node, cx)) if (!list.includes(v)) list.push(v);
    },
  };
}

const key = scalarsOf<ListenerDraft>();

/** `auth-token "<token>"`, optionally bound: `auth-token "<token>" { agents "edge-*" … }`. */
const AUTH_TOKEN_KEY: KeySpec<ListenerDraft> = {
  key: 'auth-token',
  field: 'authTokens',
  form: '`"<token>"` (may repeat), optional children `agents "<pattern>" …`',
  defaultText: '—',
  doc: 'One accepted token; with `{ agents … }` it is valid only for ids matching those patterns (exact or `*` glob).',
  repeatable: true,
  apply(node, d, cx) {
    const values = node.values;
    const props = Object.keys(node.properties);
    if (props.length > 0) failKey(cx, node, `unexpected property '${props[0]}='`);
    if (values.length !== 1) failKey(cx, node, `expected one value (a string), got ${values.length}`);
    const token = values[0];
    if (typeof token !== 'string' || token.length === 0) badValue(node, cx, 'a non-empty string', token);
    if (!node.hasChildrenBlock) {
      d.authTokens.push(token);
      return;
    }
    const agents: string[] = [];
    for (const child of node.children) {
      if (child.name !== 'agents') fail(cx, child.line, `unknown key '${child.name}' in auth-token of reverse-listener`);
      for (const v of argumentsOnly(child, cx)) {
        if (typeof v !== 'string' || v.length === 0) badValue(child, cx, 'non-empty strings', v);
        agents.push(v);
      }
    }
    if (agents.length === 0) failKey(cx, node, 'a children block needs `agents "<pattern>" …`');
    d.authTokens.push({ token, agents });
  },
};

const registrationBytes: ValueKind<number> = {
  form: `integer from 1 to ${MAX_FRAME_LENGTH}`,
  read(node, cx) {
    const v = positiveInteger.read(node, cx);
    if (v > MAX_FRAME_LENGTH) badValue(node, cx, `an integer from 1 to ${MAX_FRAME_LENGTH}`, v);
    return v;
  },
  show: (v) => String(v),
};

export const LISTENER_BLOCK: BlockSpec<ListenerDraft> = {
  title: '`reverse-listener { … }` (top level)',
  intro:
    'Where agents with the `reverse` transport connect (spec §9). At least one of `path` and `tcp-address` is ' +
    'required. Registrations must carry a token: `require-auth #true` (the default) without any token is an ' +
    'error, and so is `require-auth #false` without `insecure-allow-unauthenticated #true`. Registrations join ' +
    'only agents declared `reverse` (others need `allow-undeclared-agents #true`), never a forward agent. ' +
    'A `reverse` agent whose id `allowed-agents` would refuse gets a warning.',
  typeName: 'ReverseListenerConfig',
  keys: [
    key('path', 'path', text('`"<socket path>"`'), undefined, 'Unix socket to listen on (an existing file there is replaced).'),
    key('tcp-address', 'tcpAddress', hostPort, undefined, 'TCP address to listen on; TLS when a `tls { }` block is given.'),
    key(
      'max-connections-per-agent',
      'maxConnectionsPerAgent',
      positiveInteger,
      LISTENER_DEFAULTS,
      'Live reverse connections one agent id may hold.',
    ),
    key('handshake-timeout', 'handshakeTimeoutMs', duration, LISTENER_DEFAULTS, 'Time allowed for the registration frame.'),
    key(
      'require-auth',
      'requireAuth',
      boolean,
      LISTENER_DEFAULTS,
      'Agents must send one of the configured tokens. `#false` needs `insecure-allow-unauthenticated #true`.',
    ),
    key(
      'insecure-allow-unauthenticated',
      'insecureAllowUnauthenticated',
      boolean,
      LISTENER_DEFAULTS,
      'The loud opt-out: admit agents without a token (anyone who reaches the listener can register as ' +
        'any allowed reverse agent). Without tokens, `require-auth` then defaults to `#false`.',
    ),
    AUTH_TOKEN_KEY,
    appendTo(
      'auth-tokens',
      'authTokens',
      stringList('`"<t1>" "<t2>" …`'),
      'Accepted tokens, valid for any allowed id (merged with `auth-token`).',
      '—',
    ),
    appendTo(
      'allowed-agents',
      'allowedAgents',
      stringList('`"<pattern>" …`'),
      'Agent ids allowed to register: exact or `*` glob, case-sensitive.',
      'empty = every agent',
    ),
    key(
      'max-registration-bytes',
      'maxRegistrationBytes',
      registrationBytes,
      LISTENER_DEFAULTS,
      'Largest registration frame; a larger announced length is refused at once.',
    ),
    key(
      'max-pending-handshakes',
      'maxPendingHandshakes',
      positiveInteger,
      LISTENER_DEFAULTS,
      'Sockets waiting to register, at most; further ones are closed at once.',
    ),
    key(
      'allow-undeclared-agents',
      'allowUndeclaredAgents',
      boolean,
      LISTENER_DEFAULTS,
      'Admit ids not declared `reverse` in `agents` (entry created on registration, removed with its last connection).',
    ),
    key('max-undeclared-agents', 'maxUndeclaredAgents', positiveInteger, LISTENER_DEFAULTS, 'Undeclared ids holding connections, at most.'),
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
  const out: ReverseListenerConfig = {
    maxConnectionsPerAgent: d.maxConnectionsPerAgent,
    handshakeTimeoutMs: d.handshakeTimeoutMs,
    requireAuth: d.requireAuth,
    insecureAllowUnauthenticated: d.insecureAllowUnauthenticated,
    authTokens: d.authTokens,
    allowedAgents: d.allowedAgents,
    maxRegistrationBytes: d.maxRegistrationBytes,
    maxPendingHandshakes: d.maxPendingHandshakes,
    allowUndeclaredAgents: d.allowUndeclaredAgents,
    maxUndeclaredAgents: d.maxUndeclaredAgents,
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
  const tokenLine = Math.min(...['auth-token', 'auth-tokens'].map((k) => d.lines.get(k) ?? Infinity));
  // Without tokens, the opt-out alone makes require-auth default to #false (as listenReverse does).
  if (!d.lines.has('require-auth') && d.insecureAllowUnauthenticated && d.authTokens.length === 0) d.requireAuth = false;
  if (d.requireAuth && d.authTokens.length === 0) {
    fail(
      cx,
      d.lines.get('require-auth') ?? node.line,
      'reverse-listener: require-auth #true (the default) needs at least one auth-token or auth-tokens; ' +
        'to admit agents without a token, set insecure-allow-unauthenticated #true',
    );
  }
  if (!d.requireAuth && !d.insecureAllowUnauthenticated) {
    fail(
      cx,
      lineOf('require-auth'),
      'reverse-listener: require-auth #false needs the explicit opt-out insecure-allow-unauthenticated #true',
    );
  }
  if (!d.requireAuth && d.authTokens.length > 0) {
    fail(cx, Number.isFinite(tokenLine) ? tokenLine : node.line, 'reverse-listener: auth tokens are set but require-auth is not #true');
  }
  out.requireAuth = d.requireAuth;
  return out;
}
