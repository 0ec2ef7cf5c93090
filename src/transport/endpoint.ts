// Endpoint auto-detection (spec §10.13): which transport an endpoint string names.
import { ErrorCode, zapError } from '../protocol/errors.js';

export type Endpoint =
  | { transport: 'uds'; path: string }
  | { transport: 'grpc'; address: string; tls: boolean }
  /** An agent that dials the proxy's reverse listener (spec §9); the pool never dials it. */
  | { transport: 'reverse'; agentId: string };

/** Parses an endpoint in the order of spec §10.13. `tls` forces TLS for http://, grpc:// and host:port. */
export function parseEndpoint(endpoint: string, options: { tls?: boolean } = {}): Endpoint {
  const forceTls = options.tls === true;
  if (endpoint.startsWith('reverse://')) {
    const agentId = endpoint.slice('reverse://'.length);
    if (agentId.length === 0) throw invalid(endpoint, 'empty agent id');
    return { transport: 'reverse', agentId };
  }
  if (endpoint.startsWith('unix:')) return uds(endpoint.slice('unix:'.length), endpoint);
  for (const scheme of ['http://', 'grpc://']) {
    if (endpoint.startsWith(scheme))
      return { transport: 'grpc', address: hostPort(endpoint.slice(scheme.length), endpoint), tls: forceTls };
  }
  if (endpoint.startsWith('https://')) {
    return { transport: 'grpc', address: hostPort(endpoint.slice('https://'.length), endpoint), tls: true };
  }
  if (endpoint.startsWith('/') || endpoint.endsWith('.sock')) return uds(endpoint, endpoint);
  if (/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(endpoint)) {
    return { transport: 'grpc', address: hostPort(endpoint, endpoint), tls: forceTls };
  }
  throw invalid(endpoint, 'expected unix:<path>, a socket path, http(s)://host:port, grpc://host:port, host:port or reverse://<agent id>');
}

function uds(path: string, endpoint: string): Endpoint {
  if (path.length === 0) throw invalid(endpoint, 'empty socket path');
  return { transport: 'uds', path };
}

/** Strips a trailing slash and validates host:port. */
function hostPort(rest: string, endpoint: string): string {
  const address = rest.replace(/\/+$/, '');
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(address);
  if (m === null || Number(m[2]) > 65535) throw invalid(endpoint, 'expected host:port');
  return address;
}

function invalid(endpoint: string, why: string) {
  return zapError(ErrorCode.InvalidConfig, `Invalid endpoint '${endpoint}': ${why}`);
}

/** The endpoint as text (stats, logs). */
export function formatEndpoint(endpoint: Endpoint): string {
  switch (endpoint.transport) {
    case 'uds':
      return `unix:${endpoint.path}`;
    case 'grpc':
      return `${endpoint.tls ? 'https' : 'http'}://${endpoint.address}`;
    case 'reverse':
      return `reverse://${endpoint.agentId}`;
  }
}
