// ProxyToAgent{request_headers} protobuf bytes written straight from the domain event (spec §8.3),
// the one event every proxied request sends. The general path builds the ProxyToAgent object tree
// (a {name, value} object per header value) and has protobufjs walk it into a chain of writer ops;
// here the sizes are summed in one pass and the bytes written in a second, into one buffer. The
// output is byte-for-byte what the general path gives (test/proto-request-headers.test.ts), with
// one deliberate exception: a lone UTF-16 surrogate is written as U+FFFD (valid UTF-8) at every
// string length, where protobufjs writes it raw in short strings. Anything unusual (a timestamp
// outside the uint64 number range) returns undefined, and the caller takes the general path.
import { ErrorCode, zapError } from './errors.js';
import { ByteWriter, LEN, stringFieldSize, utf8Length, varintSize } from './proto-bytes.js';
import type { RequestHeadersEvent } from './types.js';

/** ProxyToAgent.request_headers = 2 */
const TAG_REQUEST_HEADERS = (2 << 3) | LEN;

/** UTF-8 lengths of header names and values, reused by every call (encoding is synchronous). */
let scratch = new Uint32Array(128);

const optLength = (s: string | undefined): number => (s === undefined ? 0 : utf8Length(s));
const optFieldSize = (s: string | undefined, bytes: number): number => (s === undefined ? 0 : stringFieldSize(bytes));
const optVarintFieldSize = (v: number): number => (v === 0 ? 0 : 1 + varintSize(v));

/**
 * The ProxyToAgent bytes of a RequestHeaders event under `correlationId`, with `timestampMs` as
 * metadata.timestamp_ms (0 = absent); undefined when the general path must write it. Which fields
 * are written follows the general path: strings it maps with `|| undefined` only when non-empty,
 * nullable ones whenever not null, every header value as its own Header entry.
 */
export function writeRequestHeadersProto(e: RequestHeadersEvent, correlationId: string, timestampMs: number): Buffer | undefined {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) return undefined;
  const m = e.metadata;
  const cid = correlationId || undefined;
  const requestId = m.requestId || undefined;
  const clientIp = m.clientIp || undefined;
  const port = m.clientPort || 0;
  const serverName = m.serverName ?? undefined;
  const protocol = m.protocol || undefined;
  const tlsVersion = m.tlsVersion ?? undefined;
  const routeId = m.routeId ?? undefined;
  const upstreamId = m.upstreamId ?? undefined;
  const traceparent = m.traceparent ?? undefined;
  const method = e.method || undefined;
  const uri = e.uri || undefined;

  // Sizes first: the metadata, then the event around it.
  const cidB = optLength(cid);
  const requestIdB = optLength(requestId);
  const clientIpB = optLength(clientIp);
  const serverNameB = optLength(serverName);
  const protocolB = optLength(protocol);
  const tlsVersionB = optLength(tlsVersion);
  const routeIdB = optLength(routeId);
  const upstreamIdB = optLength(upstreamId);
  const traceparentB = optLength(traceparent);
  const metadataSize =
    optFieldSize(cid, cidB) +
    optFieldSize(requestId, requestIdB) +
    optFieldSize(clientIp, clientIpB) +
    optVarintFieldSize(port) +
    optFieldSize(serverName, serverNameB) +
    optFieldSize(protocol, protocolB) +
    optFieldSize(tlsVersion, tlsVersionB) +
    optFieldSize(routeId, routeIdB) +
    optFieldSize(upstreamId, upstreamIdB) +
    optVarintFieldSize(timestampMs) +
    optFieldSize(traceparent, traceparentB);
  const methodB = optLength(method);
  const uriB = optLength(uri);
  // http_version (4) repeats metadata.protocol.
  let eventSize =
    1 +
    varintSize(metadataSize) +
    metadataSize +
    optFieldSize(method, methodB) +
    optFieldSize(uri, uriB) +
    optFieldSize(protocol, protocolB);

  // Headers (5): every value is its own Header{name = 1, value = 2} entry, in the map's order.
  const headers = e.headers;
  let k = 0;
  for (const name in headers) {
    const values = headers[name];
    if (values === undefined) continue;
    const nameB = utf8Length(name);
    for (let i = 0; i < values.length; i++) {
      const valueB = utf8Length(values[i] as string);
      if (k + 2 > scratch.length) {
        const grown = new Uint32Array(scratch.length * 2);
        grown.set(scratch);
        scratch = grown;
      }
      scratch[k++] = nameB;
      scratch[k++] = valueB;
      const entry = stringFieldSize(nameB) + stringFieldSize(valueB);
      eventSize += 1 + varintSize(entry) + entry;
    }
  }

  const w = new ByteWriter(Buffer.allocUnsafe(1 + varintSize(eventSize) + eventSize));
  w.byte(TAG_REQUEST_HEADERS);
  w.varint(eventSize);
  w.byte((1 << 3) | LEN);
  w.varint(metadataSize);
  w.optString(1, cid, cidB);
  w.optString(2, requestId, requestIdB);
  w.optString(3, clientIp, clientIpB);
  w.optVarint(4, port);
  w.optString(5, serverName, serverNameB);
  w.optString(6, protocol, protocolB);
  w.optString(7, tlsVersion, tlsVersionB);
  w.optString(8, routeId, routeIdB);
  w.optString(9, upstreamId, upstreamIdB);
  w.optVarint(10, timestampMs);
  w.optString(11, traceparent, traceparentB);
  w.optString(2, method, methodB);
  w.optString(3, uri, uriB);
  w.optString(4, protocol, protocolB);
  k = 0;
  for (const name in headers) {
    const values = headers[name];
    if (values === undefined) continue;
    for (let i = 0; i < values.length; i++) {
      const nameB = scratch[k++] as number;
      const valueB = scratch[k++] as number;
      w.byte((5 << 3) | LEN);
      w.varint(stringFieldSize(nameB) + stringFieldSize(valueB));
      w.optString(1, name, nameB);
      w.optString(2, values[i] as string, valueB);
    }
  }
  // The two passes must agree; a mismatch is a bug here, never the caller's event.
  if (w.offset !== w.buf.length) throw zapError(ErrorCode.Error, `request_headers writer: wrote ${w.offset} of ${w.buf.length} bytes`);
  return w.buf;
}
