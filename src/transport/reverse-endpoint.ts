// Addresses of a reverse listener as text: what an agent dials (`zap agent --reverse`) and what
// `zap call --reverse-listen` binds. `unix:<path>`, an absolute path or `*.sock` = Unix socket;
// `tcp://host:port` or bare `host:port` = TCP; `tls://host:port` = TCP with TLS.
import { ErrorCode, zapError } from '../protocol/errors.js';

export type ReverseAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number; tls: boolean };

export function parseReverseEndpoint(text: string): ReverseAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') throw invalid(text, 'empty socket path');
    return { kind: 'unix', path };
  }
  for (const [scheme, tls] of [
    ['tcp://', false],
    ['tls://', true],
  ] as const) {
    if (text.startsWith(scheme)) return { kind: 'tcp', ...splitHostPort(text.slice(scheme.length), text), tls };
  }
  if (text.startsWith('/') || text.endsWith('.sock')) return { kind: 'unix', path: text };
  if (/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(text)) return { kind: 'tcp', ...splitHostPort(text, text), tls: false };
  throw invalid(text, 'expected unix:<path>, /<path>, <name>.sock, tcp://host:port or tls://host:port');
}

/** `127.0.0.1:9000`, `localhost:0`, `[::1]:9000` → host (brackets removed) and port (0 allowed). */
export function splitHostPort(text: string, whole = text): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65_535) throw invalid(whole, 'expected host:port');
  return { host: (m[1] ?? m[2]) as string, port };
}

/** `host:port` with IPv6 hosts in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function formatReverseAddress(a: ReverseAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `${a.tls ? 'tls' : 'tcp'}://${joinHostPort(a.host, a.port)}`;
}

function invalid(text: string, why: string) {
  return zapError(ErrorCode.InvalidConfig, `Invalid reverse endpoint '${text}': ${why}`);
}
