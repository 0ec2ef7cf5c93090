// FlowControl (spec §7.7, D7), agent → proxy. We emit the integer form (Rust proxies read `action`
// only) and accept both it and the tagged form. Effects (capacity 0 = pause, …) are the pool's
// business (§10.5); this file only decodes, so tagged and integer forms give identical signals.
import type { FlowActionCode, FlowControlSignal } from './types.js';
import { FlowAction } from './types.js';
import { asStruct, intOr, isAbsent, optInt, optString, type WireStruct } from './wire-reader.js';

const WHAT = 'FlowControl';
const FLOW_KEYS = ['correlation_id', 'action', 'buffer_available', 'timestamp_ms'] as const;

const ACTION_BY_TYPE: Readonly<Record<string, FlowActionCode>> = {
  pause: FlowAction.Pause,
  resume: FlowAction.Resume,
  update_capacity: FlowAction.UpdateCapacity,
};

/** Integer form, four keys; a null correlation id means the whole connection. */
export function flowControlToWire(f: FlowControlSignal): Record<string, unknown> {
  return {
    correlation_id: f.correlationId,
    action: f.action,
    buffer_available: f.bufferAvailable,
    timestamp_ms: f.timestampMs,
  };
}

/** Integer or tagged `action`; action 0, an out-of-range number or an unknown type → 0 (ignored by the caller). */
export function flowControlFromWire(v: unknown): FlowControlSignal {
  const s = asStruct(v, FLOW_KEYS, WHAT);
  const out: FlowControlSignal = {
    correlationId: optString(s, 'correlation_id', WHAT),
    action: FlowAction.Unspecified,
    bufferAvailable: optInt(s, 'buffer_available', WHAT),
    timestampMs: intOr(s, 'timestamp_ms', WHAT, 0),
  };
  const action = s['action'];
  if (typeof action === 'number') {
    if (Number.isInteger(action) && action >= 0 && action <= 3) out.action = action as FlowActionCode;
  } else if (typeof action === 'object' && action !== null && !Array.isArray(action)) {
    applyTaggedAction(out, asStruct(action, [], `${WHAT}.action`));
  }
  return out;
}

function applyTaggedAction(out: FlowControlSignal, a: WireStruct): void {
  const type = a['type'];
  const code = typeof type === 'string' ? ACTION_BY_TYPE[type] : undefined;
  if (code === undefined) return;
  out.action = code;
  // buffer_available inside the object wins over the top-level key.
  if (code === FlowAction.UpdateCapacity && !isAbsent(a['buffer_available'])) {
    out.bufferAvailable = optInt(a, 'buffer_available', `${WHAT}.action`);
  }
}
