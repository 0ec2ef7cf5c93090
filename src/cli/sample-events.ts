// Default events in the spec's wire JSON form (spec §6.2–§6.8), one per event type. `zap call`
// sends these when no --event is given and fills keys a user's partial event leaves out.
import type { EventKind } from '../protocol/types.js';

export const CLI_EVENT_TYPES: Readonly<Record<string, EventKind>> = {
  'request-headers': 'request_headers',
  'request-body-chunk': 'request_body_chunk',
  'response-headers': 'response_headers',
  'response-body-chunk': 'response_body_chunk',
  'request-complete': 'request_complete',
  'websocket-frame': 'websocket_frame',
  'guardrail-inspect': 'guardrail_inspect',
  configure: 'configure',
};

function sampleMetadata(correlationId: string): Record<string, unknown> {
  return {
    correlation_id: correlationId,
    request_id: correlationId,
    client_ip: '127.0.0.1',
    client_port: 40000,
    server_name: null,
    protocol: 'HTTP/1.1',
    tls_version: null,
    tls_cipher: null,
    route_id: null,
    upstream_id: null,
    timestamp: new Date().toISOString(),
  };
}

function sampleEvent(kind: EventKind, correlationId: string): Record<string, unknown> {
  const cid = correlationId;
  switch (kind) {
    case 'request_headers':
      return { metadata: sampleMetadata(cid), method: 'GET', uri: '/', headers: { host: ['localhost'] } };
    case 'request_body_chunk':
      return { correlation_id: cid, data: '', is_last: true, total_size: 0, chunk_index: 0, bytes_received: 0 };
    case 'response_body_chunk':
      return { correlation_id: cid, data: '', is_last: true, total_size: 0, chunk_index: 0, bytes_sent: 0 };
    case 'response_headers':
      return { correlation_id: cid, status: 200, headers: { 'content-type': ['text/plain'] } };
    case 'request_complete':
      return {
        correlation_id: cid,
        status: 200,
        duration_ms: 1,
        request_body_size: 0,
        response_body_size: 0,
        upstream_attempts: 1,
        error: null,
      };
    case 'websocket_frame':
      return {
        correlation_id: cid,
        opcode: 'text',
        data: '',
        client_to_server: true,
        frame_index: 0,
        fin: true,
        route_id: null,
        client_ip: '127.0.0.1',
      };
    case 'guardrail_inspect':
      return { correlation_id: cid, inspection_type: 'prompt_injection', content: '', categories: [], metadata: {} };
    case 'configure':
      return { correlation_id: cid, config: {}, config_version: cid, is_initial: false };
  }
}

/** The cid a user's wire event names, if any (top level, or metadata for request headers). */
export function correlationIdOf(kind: EventKind, event: Record<string, unknown>): string | undefined {
  const top = event['correlation_id'];
  if (typeof top === 'string' && top.length > 0) return top;
  if (kind === 'request_headers') {
    const meta = event['metadata'];
    if (typeof meta === 'object' && meta !== null) {
      const id = (meta as Record<string, unknown>)['correlation_id'];
      if (typeof id === 'string' && id.length > 0) return id;
    }
  }
  return undefined;
}

/** The user's event over the sample's keys (metadata merged key by key); cid forced consistent. */
export function completeEvent(kind: EventKind, user: Record<string, unknown>, correlationId: string): Record<string, unknown> {
  const base = sampleEvent(kind, correlationId);
  const merged: Record<string, unknown> = { ...base, ...user };
  if (kind === 'request_headers') {
    const meta = typeof user['metadata'] === 'object' && user['metadata'] !== null ? (user['metadata'] as object) : {};
    merged['metadata'] = { ...(base['metadata'] as object), ...meta, correlation_id: correlationId };
    delete merged['correlation_id'];
  } else {
    merged['correlation_id'] = correlationId;
  }
  return merged;
}
