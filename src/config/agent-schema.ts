// Keys of an `agent "<id>" { … }` block (spec §13.1) and of its `grpc { }` and `circuit-breaker { }`
// children. Defaults live in AGENT_DEFAULTS, which both the loader and the reference read.
import { DEFAULT_AGENT_OPTIONS } from '../pool/pool-config.js';
import { parseEndpoint } from '../transport/endpoint.js';
import { configJson } from './config-json.js';
import { configLocation } from './config-error.js';
import type { AgentConfig, AgentTransport, CircuitBreakerConfig, FailureMode, PoolOptionsConfig } from './config-types.js';
import type { KdlNodeAt } from './kdl-document.js';
import { POOL_BLOCK } from './pool-schema.js';
import {
  badValue,
  blockOnly,
  fail,
  failKey,
  readBlock,
  scalarsOf,
  within,
  type BlockSpec,
  type KeySpec,
  type LoadContext,
} from './schema-kit.js';
import { bodyMode, choice, DEFAULT_HYBRID_THRESHOLD, events, flagPresent, positiveInteger, secondsAsMs, text } from './value-kinds.js';

type AgentSettings = Omit<AgentConfig, 'id' | 'type' | 'transport' | 'config' | 'pool'>;

/** An agent while its block is read: transports are collected, then exactly one is kept. */
export interface AgentDraft extends AgentSettings {
  transports: Array<{ key: string; line: number; transport: AgentTransport }>;
  config?: unknown;
  pool: PoolOptionsConfig;
  /** `type "<type>"` written as a child node; reconciled with `type=` once the block is read. */
  typeChild?: { value: string; line: number };
  /** `connections <n>` at agent level; reconciled with `pool { connections-per-agent }` at the end. */
  connections?: { value: number; line: number };
}

const AGENT_DEFAULTS: Readonly<AgentSettings> = {
  events: ['request_headers'],
  timeoutMs: 1_000,
  failureMode: 'open',
  circuitBreaker: { failureThreshold: 5, successThreshold: 2, openDurationMs: 30_000, halfOpenMaxRequests: 1 },
  maxRequestBodyBytes: 1_048_576,
  maxResponseBodyBytes: 1_048_576,
  requestBodyMode: { mode: 'buffer', hybridThreshold: DEFAULT_HYBRID_THRESHOLD },
  responseBodyMode: { mode: 'buffer', hybridThreshold: DEFAULT_HYBRID_THRESHOLD },
  chunkTimeoutMs: 5_000,
  maxConcurrentCalls: 100,
};

/** A fresh draft holding every default (deep copies: drafts are mutated). */
export function agentDraft(): AgentDraft {
  return { ...structuredClone(AGENT_DEFAULTS), pool: {}, transports: [] };
}

const cbKey = scalarsOf<CircuitBreakerConfig>();

export const CIRCUIT_BREAKER_BLOCK: BlockSpec<CircuitBreakerConfig> = {
  title: '`circuit-breaker { }` (inside `agent`)',
  intro: 'Per-agent circuit breaker (spec §10.10). Any other child is an error (e.g. `reset-timeout-seconds`).',
  typeName: 'CircuitBreakerConfig',
  keys: [
    cbKey(
      'failure-threshold',
      'failureThreshold',
      positiveInteger,
      AGENT_DEFAULTS.circuitBreaker,
      'Consecutive failures that open the circuit.',
    ),
    cbKey('success-threshold', 'successThreshold', positiveInteger, AGENT_DEFAULTS.circuitBreaker, 'Probe successes that close it again.'),
    cbKey(
      'timeout-seconds',
      'openDurationMs',
      secondsAsMs,
      AGENT_DEFAULTS.circuitBreaker,
      'Seconds the circuit stays open before probing.',
    ),
    cbKey(
      'half-open-max-requests',
      'halfOpenMaxRequests',
      positiveInteger,
      AGENT_DEFAULTS.circuitBreaker,
      'Probe calls allowed at once while half-open.',
    ),
  ],
};

type GrpcDraft = Extract<AgentTransport, { kind: 'grpc' }>;

function grpcFile(key: string, field: 'caCert' | 'clientCert' | 'clientKey', doc: string): KeySpec<GrpcDraft> {
  const kind = text('`"<file>"`');
  return {
    key,
    field,
    form: kind.form,
    defaultText: '—',
    doc,
    apply(node, d, cx) {
      d[field] = kind.read(node, cx);
      d.tls = true;
    },
  };
}

function grpcFlag(key: string, field: 'tls' | 'tlsInsecure', doc: string): KeySpec<GrpcDraft> {
  return {
    key,
    field,
    form: 'no value or `#true`',
    defaultText: '—',
    doc,
    apply(node, d, cx) {
      flagPresent(node, cx);
      d.tls = true;
      if (field === 'tlsInsecure') d.tlsInsecure = true;
    },
  };
}

export const GRPC_BLOCK: BlockSpec<GrpcDraft> = {
  title: '`grpc "<url>" { }` (inside `agent`)',
  intro:
    'TLS settings of a gRPC agent (spec §10.13). As in the reference, any of these children turns TLS on ' +
    '(`https://` does too). `#false` is refused for `tls` and `tls-insecure`, since it would still enable TLS there.',
  typeName: 'AgentTransport (grpc)',
  keys: [
    grpcFile('ca-cert', 'caCert', "CA bundle that verifies the agent's certificate."),
    grpcFile('client-cert', 'clientCert', 'Client certificate presented to the agent (needs `client-key`).'),
    grpcFile('client-key', 'clientKey', 'Key of the client certificate (needs `client-cert`).'),
    grpcFlag('tls', 'tls', 'Use TLS with the system CAs.'),
    grpcFlag('tls-insecure', 'tlsInsecure', "Use TLS without verifying the agent's certificate."),
  ],
};

/** `"<value>"` or `<prop>="<value>"`, nothing else. */
function argumentOrProperty(node: KdlNodeAt, cx: LoadContext, prop: string, form: string): string {
  const props = Object.keys(node.properties);
  const unknown = props.find((p) => p !== prop);
  if (unknown !== undefined) failKey(cx, node, `unexpected property '${unknown}=' (expected ${form})`);
  const values = props.length === 1 ? [node.properties[prop]] : node.values;
  if (values.length !== 1 || (props.length === 1 && node.values.length > 0)) failKey(cx, node, `expected ${form}`);
  const v = values[0];
  if (typeof v !== 'string' || v.length === 0) badValue(node, cx, 'a non-empty string', v);
  return v;
}

function transportKey(
  key: string,
  form: string,
  doc: string,
  read: (node: KdlNodeAt, cx: LoadContext) => AgentTransport,
): KeySpec<AgentDraft> {
  return {
    key,
    field: 'transport',
    form,
    defaultText: '—',
    doc,
    apply: (node, d, cx) => void d.transports.push({ key, line: node.line, transport: read(node, cx) }),
  };
}

function readUnixSocket(node: KdlNodeAt, cx: LoadContext): AgentTransport {
  if (node.hasChildrenBlock) failKey(cx, node, 'takes no children block');
  return { kind: 'uds', path: argumentOrProperty(node, cx, 'path', '"<path>" or path="<path>"') };
}

function readGrpc(node: KdlNodeAt, cx: LoadContext): AgentTransport {
  const url = argumentOrProperty(node, cx, 'address', '"<url>" or address="<url>"');
  const endpoint = (() => {
    try {
      return parseEndpoint(url);
    } catch {
      return undefined;
    }
  })();
  if (endpoint?.transport !== 'grpc') {
    badValue(node, cx, 'a gRPC address: http://host:port, https://host:port, grpc://host:port or host:port', url);
  }
  const draft: GrpcDraft = { kind: 'grpc', url, tls: url.startsWith('https://'), tlsInsecure: false };
  readBlock(GRPC_BLOCK, node.children, draft, within(cx, `grpc of ${cx.where}`));
  if ((draft.clientCert === undefined) !== (draft.clientKey === undefined)) {
    failKey(cx, node, 'client-cert and client-key must be given together');
  }
  return draft;
}

function readReverse(node: KdlNodeAt, cx: LoadContext): AgentTransport {
  flagPresent(node, cx);
  return { kind: 'reverse' };
}

const failureMode = choice<FailureMode>({
  open: 'open',
  'fail-open': 'open',
  fail_open: 'open',
  closed: 'closed',
  'fail-closed': 'closed',
  fail_closed: 'closed',
});

const key = scalarsOf<AgentDraft>();
const typeText = text('`"<type>"`');

export const AGENT_BLOCK: BlockSpec<AgentDraft> = {
  title: '`agent "<id>" type="<type>" { … }` (inside `agents`)',
  intro:
    'One external agent (spec §13.1). `type` is optional, given as the `type=` property or as a `type "<type>"` ' +
    'child: `waf`, `auth`, `rate_limit` (or `rate-limit`), or any other name (custom); absent = a custom type ' +
    'named like the id. Agent ids must be unique. ' +
    'Exactly one transport key (`unix-socket`, `grpc`, `reverse`) is required.',
  typeName: 'AgentConfig',
  keys: [
    transportKey(
      'unix-socket',
      '`"<path>"` or `path="<path>"`',
      'Transport: binary frames over a Unix socket (endpoint `unix:<path>`).',
      readUnixSocket,
    ),
    transportKey(
      'grpc',
      '`"<url>"` or `address="<url>"`, optional TLS children (below)',
      'Transport: gRPC; the URL is used as written (spec §10.13).',
      readGrpc,
    ),
    transportKey('reverse', 'no value or `#true`', 'Transport: the agent connects to the `reverse-listener` (required then).', readReverse),
    {
      key: 'http',
      field: '—',
      form: '`"<url>"` or `url=…`',
      defaultText: '—',
      doc: 'Refused: "HTTP transport not supported for v2 protocol".',
      apply: (node, _d, cx) => fail(cx, node.line, `HTTP transport not supported for v2 protocol (key 'http' in ${cx.where})`),
    },
    // The reference's example configs write the type as a child; the reference itself reads only type=.
    {
      key: 'type',
      field: 'type',
      form: typeText.form,
      defaultText: 'the id',
      doc:
        "The agent type written as a child node, as the reference's example configs do; same values as `type=`. " +
        'Giving both with different values is an error.',
      apply: (node, d, cx) => void (d.typeChild = { value: typeText.read(node, cx), line: node.line }),
    },
    // The public docs write `connections 4` in agent blocks; the reference ignores it, we honour it.
    {
      key: 'connections',
      field: 'pool.connectionsPerAgent',
      form: positiveInteger.form,
      defaultText: String(DEFAULT_AGENT_OPTIONS.connectionsPerAgent),
      doc:
        'Connections per agent, as the public docs write it: the same as `pool { connections-per-agent }`. ' +
        'Giving both with different values is an error.',
      apply: (node, d, cx) => void (d.connections = { value: positiveInteger.read(node, cx), line: node.line }),
    },
    key(
      'events',
      'events',
      events,
      AGENT_DEFAULTS,
      'Events sent to the agent: `request_headers`, `request_body`, `response_headers`, `response_body`, ' +
        '`request_complete` (alias `log`), `websocket_frame` (also `web_socket_frame`), `guardrail`; kebab-case ' +
        'spellings accepted. Unknown names are errors.',
    ),
    key('timeout-ms', 'timeoutMs', positiveInteger, AGENT_DEFAULTS, 'Per-call timeout passed to the pool.'),
    key(
      'failure-mode',
      'failureMode',
      failureMode,
      AGENT_DEFAULTS,
      'What the proxy does when the agent fails: allow (`open`) or block (`closed`).',
      '`open` / `fail-open` / `fail_open`, `closed` / `fail-closed` / `fail_closed`',
    ),
    {
      key: 'circuit-breaker',
      field: 'circuitBreaker',
      form: 'children (below)',
      defaultText: 'see below',
      doc: 'Per-agent circuit breaker.',
      apply(node, d, cx) {
        blockOnly(node, cx);
        readBlock(CIRCUIT_BREAKER_BLOCK, node.children, d.circuitBreaker, within(cx, `circuit-breaker of ${cx.where}`));
      },
    },
    key('max-request-body-bytes', 'maxRequestBodyBytes', positiveInteger, AGENT_DEFAULTS, 'Largest request body sent to the agent.'),
    key('max-response-body-bytes', 'maxResponseBodyBytes', positiveInteger, AGENT_DEFAULTS, 'Largest response body sent to the agent.'),
    key(
      'request-body-mode',
      'requestBodyMode',
      bodyMode,
      AGENT_DEFAULTS,
      `How request bodies reach the agent; the hybrid threshold defaults to ${DEFAULT_HYBRID_THRESHOLD} bytes.`,
    ),
    key('response-body-mode', 'responseBodyMode', bodyMode, AGENT_DEFAULTS, 'How response bodies reach the agent.'),
    key('chunk-timeout-ms', 'chunkTimeoutMs', positiveInteger, AGENT_DEFAULTS, 'Per-call timeout for streamed body chunks.'),
    key('max-concurrent-calls', 'maxConcurrentCalls', positiveInteger, AGENT_DEFAULTS, 'Calls in flight to this agent at once.'),
    {
      key: 'config',
      field: 'config',
      form: 'children (below)',
      defaultText: 'none',
      doc: 'Agent configuration, delivered to the agent as JSON (spec §10.7).',
      apply(node, d, cx) {
        blockOnly(node, cx);
        d.config = configJson(node.children, within(cx, `config of ${cx.where}`));
      },
    },
    {
      key: 'pool',
      field: 'pool',
      form: 'children (below)',
      defaultText: 'pool defaults',
      doc: 'Connection pool settings of this agent.',
      apply(node, d, cx) {
        blockOnly(node, cx);
        readBlock(POOL_BLOCK, node.children, d.pool, within(cx, `pool of ${cx.where}`));
        const initial = d.pool.reconnectInitialBackoffMs ?? DEFAULT_AGENT_OPTIONS.reconnectInitialBackoffMs;
        const max = d.pool.reconnectMaxBackoffMs ?? DEFAULT_AGENT_OPTIONS.reconnectMaxBackoffMs;
        if (max < initial) {
          fail(cx, node.line, `pool of ${cx.where}: reconnect-max-backoff-ms (${max}) is below reconnect-initial-backoff-ms (${initial})`);
        }
      },
    },
    {
      key: 'protocol-version',
      field: '—',
      form: 'anything',
      defaultText: '—',
      doc: 'Accepted with a deprecation warning and ignored.',
      apply(node, _d, cx) {
        cx.warnings.push(`${configLocation(cx.file, node.line)}: 'protocol-version' in ${cx.where} is deprecated and ignored`);
      },
    },
  ],
};

export const CONFIG_BLOCK: BlockSpec<never> = {
  title: '`config { }` (inside `agent`)',
  intro:
    'Becomes the JSON delivered to the agent (spec §13.3). Each child node becomes a key, named verbatim: one ' +
    'argument → that scalar; several arguments → an array; child nodes → a nested object; properties (`k=v`) → ' +
    'an object of those properties; no value → `true`; `#null` → `null`. A node with both properties and child ' +
    'nodes yields one object holding both. A node mixing arguments with properties or children is an error, ' +
    'and so is a key given twice.',
  typeName: '',
  keys: [],
};
