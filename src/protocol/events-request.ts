// Wire mapping of RequestHeaders (0x10, §6.2) and the two body-chunk events (0x11 / 0x13, §6.3).
// Writers build the object in the canonical key order of the spec tables; readers accept a map or,
// MessagePack leniency (§4.2), a positional array following the same order.
import type { RequestBodyChunkEvent, RequestHeadersEvent, RequestMetadata, ResponseBodyChunkEvent } from './types.js';
import { asStruct, intOr, optInt, optString, reqBool, reqBytes, reqInt, reqString, type WireStruct } from './wire-reader.js';
import { checkRange, headerMapFromWire, U16_MAX, U32_MAX, wireBytes, wireU64 } from './events-common.js';

// ---------------------------------------------------------------------------------------------
// RequestHeaders

/** Wire keys in canonical order: requestHeadersToWire and metadataToWire write them so (packed-json.ts relies on it). */
export const REQUEST_HEADERS_KEYS = ['metadata', 'method', 'uri', 'headers', 'correlation_id'] as const;
export const METADATA_KEYS = [
  'correlation_id',
  'request_id',
  'client_ip',
  'client_port',
  'server_name',
  'protocol',
  'tls_version',
  'tls_cipher',
  'route_id',
  'upstream_id',
  'timestamp',
  'traceparent',
] as const;

function metadataToWire(m: RequestMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {
    correlation_id: m.correlationId,
    request_id: m.requestId,
    client_ip: m.clientIp,
    client_port: m.clientPort,
    server_name: m.serverName,
    protocol: m.protocol,
    tls_version: m.tlsVersion,
    tls_cipher: m.tlsCipher,
    route_id: m.routeId,
    upstream_id: m.upstreamId,
    timestamp: m.timestamp,
  };
  // Omit when absent (§6.2): a null traceparent is not what Rust agents expect.
  if (m.traceparent !== undefined) out.traceparent = m.traceparent;
  return out;
}

/** The injected `correlation_id` goes last, next to `metadata` (§6.1, GV-11). */
export function requestHeadersToWire(e: RequestHeadersEvent, cid: string): Record<string, unknown> {
  return {
    metadata: metadataToWire(e.metadata),
    method: e.method,
    uri: e.uri,
    headers: e.headers,
    correlation_id: cid,
  };
}

const RH = 'RequestHeaders';
const MD = 'RequestHeaders.metadata';

function metadataFromWire(v: unknown): RequestMetadata {
  const s = asStruct(v, METADATA_KEYS, MD);
  const m: RequestMetadata = {
    correlationId: reqString(s, 'correlation_id', MD),
    requestId: reqString(s, 'request_id', MD),
    clientIp: reqString(s, 'client_ip', MD),
    clientPort: checkRange(reqInt(s, 'client_port', MD), U16_MAX, MD, 'client_port'),
    serverName: optString(s, 'server_name', MD),
    protocol: reqString(s, 'protocol', MD),
    tlsVersion: optString(s, 'tls_version', MD),
    tlsCipher: optString(s, 'tls_cipher', MD),
    routeId: optString(s, 'route_id', MD),
    upstreamId: optString(s, 'upstream_id', MD),
    timestamp: reqString(s, 'timestamp', MD),
  };
  const traceparent = optString(s, 'traceparent', MD);
  if (traceparent !== null) m.traceparent = traceparent;
  return m;
}

export function requestHeadersFromWire(v: unknown): RequestHeadersEvent {
  const s = asStruct(v, REQUEST_HEADERS_KEYS, RH);
  return {
    metadata: metadataFromWire(s.metadata),
    method: reqString(s, 'method', RH),
    uri: reqString(s, 'uri', RH),
    headers: headerMapFromWire(s, 'headers', RH),
  };
}

// ---------------------------------------------------------------------------------------------
// Body chunks: identical but for the counter key (bytes_received vs bytes_sent).

const REQUEST_BODY_CHUNK_KEYS = ['correlation_id', 'data', 'is_last', 'total_size', 'chunk_index', 'bytes_received'] as const;
const RESPONSE_BODY_CHUNK_KEYS = ['correlation_id', 'data', 'is_last', 'total_size', 'chunk_index', 'bytes_sent'] as const;

export function requestBodyChunkToWire(e: RequestBodyChunkEvent, cid: string, binary: boolean): Record<string, unknown> {
  return {
    correlation_id: cid,
    data: wireBytes(e.data, binary),
    is_last: e.isLast,
    total_size: e.totalSize === null ? null : wireU64(e.totalSize, binary),
    chunk_index: e.chunkIndex,
    bytes_received: wireU64(e.bytesReceived, binary),
  };
}

export function responseBodyChunkToWire(e: ResponseBodyChunkEvent, cid: string, binary: boolean): Record<string, unknown> {
  return {
    correlation_id: cid,
    data: wireBytes(e.data, binary),
    is_last: e.isLast,
    total_size: e.totalSize === null ? null : wireU64(e.totalSize, binary),
    chunk_index: e.chunkIndex,
    bytes_sent: wireU64(e.bytesSent, binary),
  };
}

const RQB = 'RequestBodyChunk';
const RSB = 'ResponseBodyChunk';

function chunkIndex(s: WireStruct, what: string): number {
  return checkRange(intOr(s, 'chunk_index', what, 0), U32_MAX, what, 'chunk_index');
}

export function requestBodyChunkFromWire(v: unknown): RequestBodyChunkEvent {
  const s = asStruct(v, REQUEST_BODY_CHUNK_KEYS, RQB);
  return {
    correlationId: reqString(s, 'correlation_id', RQB),
    data: reqBytes(s, 'data', RQB),
    isLast: reqBool(s, 'is_last', RQB),
    totalSize: optInt(s, 'total_size', RQB),
    chunkIndex: chunkIndex(s, RQB),
    // A reference zero-copy helper writes the unused counter as null: null reads as 0 (§6.3).
    bytesReceived: intOr(s, 'bytes_received', RQB, 0),
  };
}

export function responseBodyChunkFromWire(v: unknown): ResponseBodyChunkEvent {
  const s = asStruct(v, RESPONSE_BODY_CHUNK_KEYS, RSB);
  return {
    correlationId: reqString(s, 'correlation_id', RSB),
    data: reqBytes(s, 'data', RSB),
    isLast: reqBool(s, 'is_last', RSB),
    totalSize: optInt(s, 'total_size', RSB),
    chunkIndex: chunkIndex(s, RSB),
    bytesSent: intOr(s, 'bytes_sent', RSB, 0),
  };
}
