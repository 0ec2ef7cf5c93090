// The RequestHeaders event every UDS and gRPC scenario sends: a browser-like GET with ten headers.
// Built fresh per request from a table of name/value strings, the way a gateway builds it from
// Node's `req.rawHeaders`: every call allocates its own header record, value arrays and metadata,
// so no encoder can profit from seeing the same object twice (issue 13, "honest load"). The pool's
// domain object and the raw clients' wire objects serialise to the same bytes (checked by
// test/bench-smoke.test.ts and test/bench-grpc-smoke.test.ts).
import type { RequestHeadersEvent } from '../src/protocol/types.js';

/** Header lines as an HTTP parser hands them over: name, value, name, value … (names lower-case). */
export const SAMPLE_HEADER_LINES: readonly string[] = [
  'host',
  'shop.example',
  'user-agent',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'accept',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-language',
  'en-GB,en;q=0.5',
  'accept-encoding',
  'gzip, deflate, br',
  'cookie',
  'session=4f2a9c1e7b; theme=dark',
  'x-forwarded-for',
  '198.51.100.23',
  'x-request-id',
  '7d1c0b9e-2f43-4d8a-9a57-c2b8f1e6a0d3',
  'cache-control',
  'no-cache',
  'referer',
  'https://shop.example/catalog?page=2',
];

export const SAMPLE_URI = '/products/42?ref=home&utm_source=newsletter';
export const SAMPLE_TIMESTAMP = '2026-01-01T00:00:00.000Z';

/** A new multi-value header record (name → values, in line order) built from the header lines. */
export function sampleHeaderRecord(): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (let i = 0; i + 1 < SAMPLE_HEADER_LINES.length; i += 2) {
    const name = SAMPLE_HEADER_LINES[i] as string;
    const value = SAMPLE_HEADER_LINES[i + 1] as string;
    const values = headers[name];
    if (values === undefined) headers[name] = [value];
    else values.push(value);
  }
  return headers;
}

/** The event as the pool's caller builds it for one request: every object in it is new. */
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
      timestamp: SAMPLE_TIMESTAMP,
    },
    method: 'GET',
    uri: SAMPLE_URI,
    headers: sampleHeaderRecord(),
  };
}

/** The same event in wire JSON form (spec §6.2), with the injected top-level correlation_id; also new per call. */
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
      timestamp: SAMPLE_TIMESTAMP,
    },
    method: 'GET',
    uri: SAMPLE_URI,
    headers: sampleHeaderRecord(),
    correlation_id: cid,
  };
}
