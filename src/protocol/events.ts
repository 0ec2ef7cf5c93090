// Dispatch of the eight proxy → agent events to their wire mappers (spec §6.2–§6.8). The tables are
// module-level so the per-message path is one indexed call, no closures.
import type { EventKind, EventMap } from './types.js';
import { isAgentPoolError, protocolError } from './errors.js';
import { member } from './events-common.js';
import {
  requestBodyChunkFromWire,
  requestBodyChunkToWire,
  requestHeadersFromWire,
  requestHeadersToWire,
  responseBodyChunkFromWire,
  responseBodyChunkToWire,
} from './events-request.js';
import {
  configureFromWire,
  configureToWire,
  guardrailInspectFromWire,
  guardrailInspectToWire,
  requestCompleteFromWire,
  requestCompleteToWire,
  responseHeadersFromWire,
  responseHeadersToWire,
  webSocketFrameFromWire,
  webSocketFrameToWire,
} from './events-other.js';
import { peerText } from './peer-text.js';

type ToWire = { [K in EventKind]: (event: EventMap[K], cid: string, binary: boolean) => Record<string, unknown> };
type FromWire = { [K in EventKind]: (wire: unknown) => EventMap[K] };

const TO_WIRE: ToWire = {
  request_headers: requestHeadersToWire,
  request_body_chunk: requestBodyChunkToWire,
  response_headers: responseHeadersToWire,
  response_body_chunk: responseBodyChunkToWire,
  request_complete: requestCompleteToWire,
  websocket_frame: webSocketFrameToWire,
  guardrail_inspect: guardrailInspectToWire,
  configure: configureToWire,
};

const FROM_WIRE: FromWire = {
  request_headers: requestHeadersFromWire,
  request_body_chunk: requestBodyChunkFromWire,
  response_headers: responseHeadersFromWire,
  response_body_chunk: responseBodyChunkFromWire,
  request_complete: requestCompleteFromWire,
  websocket_frame: webSocketFrameFromWire,
  guardrail_inspect: guardrailInspectFromWire,
  configure: configureFromWire,
};

/**
 * Wire object of an event with the injected top-level `correlation_id` = `cid` (§6.1), keys in canonical
 * order. `binary`: MessagePack flavour (byte fields as bin, u64 fields above 2^32 as BigInt).
 */
export function eventToWire<K extends EventKind>(kind: K, event: EventMap[K], cid: string, binary: boolean): Record<string, unknown> {
  const toWire = TO_WIRE[kind] as ToWire[K] | undefined;
  if (toWire === undefined) throw protocolError(`unknown event kind '${String(kind)}'`);
  return toWire(event, cid, binary);
}

/** Domain event from a decoded payload; throws ZAP_PROTOCOL_ERROR on a bad shape. */
function eventFromWire<K extends EventKind>(kind: K, wire: unknown): EventMap[K] {
  const fromWire = FROM_WIRE[kind] as FromWire[K] | undefined;
  if (fromWire === undefined) throw protocolError(`unknown event kind '${String(kind)}'`);
  return fromWire(wire);
}

/**
 * The cid an event payload carries (§6.1 / §6.10): the top-level `correlation_id` (injected, or the event's
 * own), else `metadata.correlation_id` (map or positional array); '' when none. Never throws.
 */
export function bestEffortEventCorrelationId(body: unknown): string {
  const top = member(body, 'correlation_id', -1);
  if (typeof top === 'string') return top;
  const inner = member(member(body, 'metadata', 0), 'correlation_id', 0);
  return typeof inner === 'string' ? inner : '';
}

/**
 * Agent side: the domain event of a decoded payload and the cid it answers to: the top-level
 * `correlation_id` (injected by the proxy, §6.1), else the event's own id (metadata.correlation_id for
 * RequestHeaders). Any failure is a ZAP_PROTOCOL_ERROR.
 */
export function decodedEvent<K extends EventKind>(kind: K, body: unknown): { event: EventMap[K]; correlationId: string } {
  let event: EventMap[K];
  try {
    event = eventFromWire(kind, body);
  } catch (err) {
    if (isAgentPoolError(err)) throw err;
    throw protocolError(`${kind}: ${peerText(err instanceof Error ? err.message : err)}`, { cause: err });
  }
  const top = member(body, 'correlation_id', -1);
  if (typeof top === 'string') return { event, correlationId: top };
  const own =
    kind === 'request_headers'
      ? (event as EventMap['request_headers']).metadata.correlationId
      : (event as EventMap[Exclude<EventKind, 'request_headers'>]).correlationId;
  return { event, correlationId: own };
}
