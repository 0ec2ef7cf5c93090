// The RequestHeaders event every UDS scenario sends: a browser-like GET with a dozen headers.
// Built fresh per request (the cid changes), once as the pool's domain object and once as the
// wire JSON object a hand-written client would build; both serialise to the same bytes
// (checked by test/bench-smoke.test.ts).
import type { RequestHeadersEvent } from '../src/protocol/types.js';

const HEADERS: Readonly<Record<string, string[]>> = {
  host: ['shop.example'],
  'user-agent': ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
  accept: ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  'accept-language': ['en-GB,en;q=0.5'],
  'accept-encoding': ['gzip, deflate, br'],
  cookie: ['session=4f2a9c1e7b; theme=dark'],
  'x-forwarded-for': ['198.51.100.23'],
  'x-request-id': ['7d1c0b9e-2f43-4d8a-9a57-c2b8f1e6a0d3'],
  'cache-control': ['no-cache'],
  referer: ['https://shop.example/catalog?page=2'],
};

const URI = '/products/42?ref=home&utm_source=newsletter';
const TIMESTAMP = '2026-01-01T00:00:00.000Z';

export function sampleRequestHeaders(cid: string): RequestHeadersEvent {
  return {
    metadata: {
      correlationId: cid,
      requestId: cid,
      clientIp: '198.51.100.23',
      clientPort: 51514,
      serverName: 'shop.example',
      protocol: 'HTTP/1.1',
      tlsVersion: 'TLSv1.3',
      tlsCipher: 'TLS_AES_128_GCM_SHA256',
      routeId: 'shop',
      upstreamId: null,
      timestamp: TIMESTAMP,
    },
    method: 'GET',
    uri: URI,
    headers: HEADERS,
  };
}

/** The same event in wire JSON form (spec §6.2), with the injected top-level correlation_id. */
export function sampleRequestHeadersWire(cid: string): Record<string, unknown> {
  return {
    metadata: {
      correlation_id: cid,
      request_id: cid,
      client_ip: '198.51.100.23',
      client_port: 51514,
      server_name: 'shop.example',
      protocol: 'HTTP/1.1',
      tls_version: 'TLSv1.3',
      tls_cipher: 'TLS_AES_128_GCM_SHA256',
      route_id: 'shop',
      upstream_id: null,
      timestamp: TIMESTAMP,
    },
    method: 'GET',
    uri: URI,
    headers: HEADERS,
    correlation_id: cid,
  };
}
