// A RequestHeaders event for the runnable examples (the README's pool snippet spells one out in full).
import type { RequestHeadersEvent } from '../src/index.js';

export function requestHeadersEvent(cid: string, uri: string, headers: Record<string, string[]> = {}): RequestHeadersEvent {
  return {
    metadata: {
      correlationId: cid,
      requestId: cid,
      clientIp: '192.0.2.10',
      clientPort: 51514,
      serverName: 'shop.example',
      protocol: 'HTTP/1.1',
      tlsVersion: null,
      tlsCipher: null,
      routeId: null,
      upstreamId: null,
      timestamp: new Date().toISOString(),
    },
    method: 'GET',
    uri,
    headers: { host: ['shop.example'], ...headers },
  };
}
