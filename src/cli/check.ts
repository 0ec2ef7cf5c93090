// `zap check <file.kdl>`: validate a KDL configuration (spec §13) and print what it configures.
// Exit 0 when valid (warnings go to stderr); otherwise `ZAP_INVALID_CONFIG: <file>:<line>: …`, exit 1.
// The summary shows no auth tokens and only the key names of config blocks (output ends up in CI logs).
import { parseArgs } from 'node:util';
import type { AgentConfig, GatewayConfig, ReverseListenerConfig, ZapConfig } from '../config/config-types.js';
import { endpointOf } from '../config/endpoint-of.js';
import { loadConfigFile } from '../config/load-config.js';
import { eventName } from '../config/value-kinds.js';
import { UsageError } from './cli-error.js';
import { CHECK_OPTIONS } from './command-table.js';

export async function runCheck(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: CHECK_OPTIONS,
  });
  const file = positionals[0];
  if (file === undefined) throw new UsageError('missing the <file.kdl> to check');
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
  const config = await loadConfigFile(file);
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
  process.stdout.write(values.json ? `${JSON.stringify(redacted(config), null, 2)}\n` : summary(config));
  return 0;
}

function summary(config: ZapConfig): string {
  const n = config.agents.length;
  const lines = [`${config.file}: OK, ${n} agent${n === 1 ? '' : 's'}${config.reverseListener ? ', reverse listener' : ''}`];
  for (const agent of config.agents) lines.push(...agentLines(agent));
  if (config.reverseListener !== undefined) lines.push(...listenerLines(config.reverseListener));
  if (config.gateway !== undefined) lines.push(...gatewayLines(config.gateway));
  return `${lines.join('\n')}\n`;
}

function agentLines(a: AgentConfig): string[] {
  const t = a.transport;
  let transport = `${t.kind} ${endpointOf(a)}`;
  if (t.kind === 'grpc' && t.tls) {
    const tls = [t.tlsInsecure ? 'TLS, not verified' : 'TLS', t.caCert && 'ca-cert', t.clientCert && 'client certificate'];
    transport += ` (${tls.filter(Boolean).join(', ')})`;
  }
  const pool = Object.keys(a.pool);
  return [
    `agent "${a.id}" (type ${a.type})`,
    `  transport  ${transport}`,
    `  events     ${a.events.map(eventName).join(' ')}`,
    `  timeouts   call ${a.timeoutMs} ms, body chunk ${a.chunkTimeoutMs} ms`,
    `  failure    fail-${a.failureMode}; circuit breaker opens after ` +
      `${a.circuitBreaker.failureThreshold} failures for ${a.circuitBreaker.openDurationMs / 1000} s`,
    `  limits     ${a.maxConcurrentCalls} concurrent calls; bodies: request ` +
      `${bodyText(a.requestBodyMode, a.maxRequestBodyBytes)}, response ` +
      `${bodyText(a.responseBodyMode, a.maxResponseBodyBytes)}`,
    // Key names only: values may be secrets, and this output ends up in CI logs.
    ...(a.config === undefined ? [] : [`  config     ${configKeys(a.config)}`]),
    ...(pool.length === 0 ? [] : [`  pool       ${pool.map((k) => `${k}=${String((a.pool as Record<string, unknown>)[k])}`).join(' ')}`]),
  ];
}

function configKeys(config: unknown): string {
  const keys = typeof config === 'object' && config !== null ? Object.keys(config) : [];
  return keys.length === 0 ? '(empty)' : `keys ${keys.join(', ')}`;
}

/** The config with auth tokens masked, for --json. */
function redacted(config: ZapConfig): ZapConfig {
  const l = config.reverseListener;
  if (l === undefined) return config;
  const masked = l.authTokens.map((t) => (typeof t === 'string' ? '<redacted>' : { token: '<redacted>', agents: t.agents }));
  return { ...config, reverseListener: { ...l, authTokens: masked } };
}

function bodyText(mode: AgentConfig['requestBodyMode'], max: number): string {
  return `${mode.mode}${mode.mode === 'hybrid' ? ` (threshold ${mode.hybridThreshold})` : ''} up to ${max} bytes`;
}

function listenerLines(l: ReverseListenerConfig): string[] {
  const where = [l.path && `unix:${l.path}`, l.tcpAddress && `tcp ${l.tcpAddress}${tlsText(l)}`].filter(Boolean).join(', ');
  const bound = l.authTokens.filter((t) => typeof t !== 'string').length;
  const tokens = `${l.authTokens.length} token${l.authTokens.length === 1 ? '' : 's'}${bound > 0 ? `, ${bound} bound to agent ids` : ''}`;
  const auth = l.requireAuth ? `required (${tokens})` : 'NONE (insecure-allow-unauthenticated)';
  const entries = l.allowUndeclaredAgents
    ? `declared reverse agents and up to ${l.maxUndeclaredAgents} undeclared ids`
    : 'declared reverse agents only';
  return [
    'reverse-listener',
    `  listen     ${where}`,
    `  auth       ${auth}; allowed agents: ${l.allowedAgents.length === 0 ? 'any' : l.allowedAgents.join(' ')}`,
    `  entries    ${entries}`,
    `  limits     ${l.maxConnectionsPerAgent} connections per agent, handshake timeout ${l.handshakeTimeoutMs} ms, ` +
      `registration ≤ ${l.maxRegistrationBytes} bytes, ${l.maxPendingHandshakes} pending`,
  ];
}

function tlsText(l: ReverseListenerConfig): string {
  if (l.tls === undefined) return '';
  return l.tls.caCert === undefined ? ' (TLS)' : ' (TLS, client certificates required)';
}

function gatewayLines(g: GatewayConfig): string[] {
  const match = (m: GatewayConfig['routes'][number]['matches'][number]): string =>
    m.kind === 'method' ? `method ${m.values.join(' ')}` : `${m.kind} ${m.value}`;
  return [
    ...g.listeners.map(
      (l) => `listener "${l.id}" ${l.protocol}://${l.address}${l.defaultRoute === undefined ? '' : ` (default route "${l.defaultRoute}")`}`,
    ),
    ...g.upstreams.map(
      (u) =>
        `upstream "${u.id}" ${u.loadBalancing}: ` +
        u.targets.map((t) => (t.weight === 1 ? t.address : `${t.address} (weight ${t.weight})`)).join(', '),
    ),
    ...g.routes.map(
      (r) =>
        `route "${r.id}" priority ${r.priority}: ${r.matches.length === 0 ? 'every request' : r.matches.map(match).join(' and ')} → ` +
        `upstream "${r.upstream}"${r.agents.length === 0 ? '' : `, agents ${r.agents.join(' ')}`}${r.websocket ? ', websocket' : ''}`,
    ),
  ];
}
