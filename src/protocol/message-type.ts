// Message type codes of the UDS / reverse binary framing (spec §3) and the direction and phase
// rules of §2.2 step 5. Lookups are flat 256-entry tables: these checks run once per frame.
import type { EventKind } from './types.js';
import { protocolError } from './errors.js';

export const MessageType = {
  HandshakeRequest: 0x01,
  HandshakeResponse: 0x02,
  RequestHeaders: 0x10,
  RequestBodyChunk: 0x11,
  ResponseHeaders: 0x12,
  ResponseBodyChunk: 0x13,
  RequestComplete: 0x14,
  WebSocketFrame: 0x15,
  GuardrailInspect: 0x16,
  Configure: 0x17,
  AgentResponse: 0x20,
  HealthStatus: 0x30,
  MetricsReport: 0x31,
  ConfigUpdateRequest: 0x32,
  FlowControl: 0x33,
  Cancel: 0x40,
  Ping: 0x41,
  Pong: 0x42,
} as const;

const NAMES: (string | undefined)[] = new Array<string | undefined>(256);
for (const [name, code] of Object.entries(MessageType)) NAMES[code] = name;

function hex2(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}

/** 'RequestHeaders' for 0x10; an unknown code reads 'Unknown(0x99)' (lower-case hex). */
export function messageTypeName(code: number): string {
  return (Number.isInteger(code) ? NAMES[code] : undefined) ?? `Unknown(${hex2(code)})`;
}

export function isKnownMessageType(code: number): boolean {
  return Number.isInteger(code) && NAMES[code] !== undefined;
}

export const EVENT_MESSAGE_TYPE: Readonly<Record<EventKind, number>> = Object.freeze({
  request_headers: MessageType.RequestHeaders,
  request_body_chunk: MessageType.RequestBodyChunk,
  response_headers: MessageType.ResponseHeaders,
  response_body_chunk: MessageType.ResponseBodyChunk,
  request_complete: MessageType.RequestComplete,
  websocket_frame: MessageType.WebSocketFrame,
  guardrail_inspect: MessageType.GuardrailInspect,
  configure: MessageType.Configure,
});

const EVENT_KIND_BY_CODE: (EventKind | undefined)[] = new Array<EventKind | undefined>(256);
for (const [kind, code] of Object.entries(EVENT_MESSAGE_TYPE)) EVENT_KIND_BY_CODE[code] = kind as EventKind;

/** 0x10–0x17 → their event kind; any other code → undefined. */
export function eventKindOfMessageType(code: number): EventKind | undefined {
  return Number.isInteger(code) ? EVENT_KIND_BY_CODE[code] : undefined;
}

/** The Display text of §2.2 step 4. */
export function unknownMessageTypeText(code: number): string {
  return `Invalid message format: Unknown message type: ${hex2(code)}`;
}

// ---------------------------------------------------------------------------------------------
// Direction and phase (§2.2 step 5, §3 "Direction enforcement", §9.5)

export type FrameReceiver = 'proxy' | 'agent';
export type ConnectionPhase = 'handshake' | 'established';

function table(codes: readonly number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const c of codes) t[c] = 1;
  return t;
}

const M = MessageType;
// After the handshake: what each side may receive. 0x01/0x02 are first-frame-only, so a second one
// is as wrong as a frame sent in the wrong direction.
const PROXY_ESTABLISHED = table([M.AgentResponse, M.HealthStatus, M.MetricsReport, M.ConfigUpdateRequest, M.FlowControl, M.Pong]);
const AGENT_ESTABLISHED = table([
  M.RequestHeaders,
  M.RequestBodyChunk,
  M.ResponseHeaders,
  M.ResponseBodyChunk,
  M.RequestComplete,
  M.WebSocketFrame,
  M.GuardrailInspect,
  M.Configure,
  M.Cancel,
  M.Ping,
]);

/** The single code each side accepts as the first frame, by who dialled. */
function expectedFirst(receiver: FrameReceiver, reverse: boolean): number {
  // UDS: proxy sends 0x01, agent answers 0x02. Reverse: agent registers with 0x01, proxy answers 0x02.
  if (receiver === 'proxy') return reverse ? M.HandshakeRequest : M.HandshakeResponse;
  return reverse ? M.HandshakeResponse : M.HandshakeRequest;
}

function describeCode(code: number): string {
  return `${messageTypeName(code)} (${hex2(code)})`;
}

/**
 * §2.2 step 5 / §3 direction enforcement. Throws a ZAP_PROTOCOL_ERROR with a clear text when `code`
 * may not be received by `receiver` in `phase` ('handshake' = first frame, 'established' = after it).
 * `reverse: true` marks a reverse connection (the agent dialled): the proxy then expects the
 * registration request 0x01 first, the agent the registration reply 0x02.
 * An unknown code fails with the §2.2 step 4 text.
 */
export function assertReceivable(code: number, receiver: FrameReceiver, phase: ConnectionPhase, reverse = false): void {
  if (phase === 'established') {
    if ((receiver === 'proxy' ? PROXY_ESTABLISHED : AGENT_ESTABLISHED)[code] === 1) return;
  } else if (code === expectedFirst(receiver, reverse)) {
    return;
  }
  if (!isKnownMessageType(code)) throw protocolError(unknownMessageTypeText(code));
  if (phase === 'handshake') {
    // §9.4 step 2 fixes this text for the reverse listener; the other cases follow its pattern.
    const text =
      receiver === 'proxy' && reverse
        ? `Invalid message format: Expected registration request (HandshakeRequest), got ${messageTypeName(code)}`
        : `Invalid message format: Expected ${messageTypeName(expectedFirst(receiver, reverse))} as first frame, got ${describeCode(code)}`;
    throw protocolError(text);
  }
  const sender = receiver === 'proxy' ? 'agent' : 'proxy';
  throw protocolError(`Invalid message format: Unexpected message type ${describeCode(code)} from ${sender} on an established connection`);
}
