// The kinds of values configuration keys take: each reads (and validates) a node and shows a default.
import type { EventKind } from '../protocol/types.js';
import type { BodyModeConfig } from './config-types.js';
import type { KdlNodeAt } from './kdl-document.js';
import { argumentsOnly, badValue, failKey, singleValue, type LoadContext, type ValueKind } from './schema-kit.js';

function integer(min: number): ValueKind<number> {
  const expected = min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`;
  return {
    form: `integer ≥ ${min}`,
    read(node, cx) {
      const v = singleValue(node, cx, 'an integer');
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) badValue(node, cx, expected, v);
      return v;
    },
    show: String,
  };
}

export const positiveInteger = integer(1);
export const nonNegativeInteger = integer(0);

/** A positive integer counted in seconds, stored in milliseconds. */
export const secondsAsMs: ValueKind<number> = {
  form: 'integer ≥ 1 (seconds)',
  read: (node, cx) => positiveInteger.read(node, cx) * 1000,
  show: (ms) => String(ms / 1000),
};

/** One string among fixed spellings; several spellings may mean the same value. */
export function choice<T extends string>(spellings: Readonly<Record<string, T>>): ValueKind<T> {
  const names = Object.keys(spellings);
  return {
    form: names.map((n) => `\`${n}\``).join(', '),
    read(node, cx) {
      const v = singleValue(node, cx, 'a string');
      const out = typeof v === 'string' ? spellings[v] : undefined;
      if (out === undefined) badValue(node, cx, `one of ${names.join(', ')}`, v);
      return out;
    },
    show: (value) => `\`${value}\``,
  };
}

/** `"<host>:<port>"` (IPv6 in brackets), port 0–65535. */
export const hostPort: ValueKind<string> = {
  form: '`"<host>:<port>"`',
  read(node, cx) {
    const v = singleValue(node, cx, 'a string');
    const m = typeof v === 'string' ? /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(v) : null;
    if (m === null || Number(m[2]) > 65_535) badValue(node, cx, '"<host>:<port>" with a port from 0 to 65535', v);
    return v as string;
  },
  show: (v) => JSON.stringify(v),
};

/** A non-empty string. */
export function text(form: string): ValueKind<string> {
  return {
    form,
    read(node, cx) {
      const v = singleValue(node, cx, 'a string');
      if (typeof v !== 'string' || v.length === 0) badValue(node, cx, 'a non-empty string', v);
      return v;
    },
    show: (v) => JSON.stringify(v),
  };
}

export const boolean: ValueKind<boolean> = {
  form: '`#true` / `#false`',
  read(node, cx) {
    const v = singleValue(node, cx, '#true or #false');
    if (typeof v !== 'boolean') badValue(node, cx, '#true or #false', v);
    return v;
  },
  show: (v) => (v ? '`#true`' : '`#false`'),
};

/** One or more non-empty strings; repeated occurrences append. */
export function stringList(form: string): ValueKind<string[]> {
  return {
    form,
    read(node, cx) {
      const values = argumentsOnly(node, cx);
      if (values.length === 0) failKey(cx, node, 'expected one or more strings');
      for (const v of values) if (typeof v !== 'string' || v.length === 0) badValue(node, cx, 'non-empty strings', v);
      return values as string[];
    },
    show: (v) => (v.length === 0 ? 'empty' : v.map((s) => JSON.stringify(s)).join(' ')),
  };
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `"<n>ms"`, `"<n>s"`, `"<n>m"` or integer milliseconds; must come to a whole number of ms ≥ 1. */
export const duration: ValueKind<number> = {
  form: '`"<n>ms"`, `"<n>s"`, `"<n>m"` or integer milliseconds',
  read(node, cx) {
    const v = singleValue(node, cx, 'a duration');
    let ms: number | undefined;
    if (typeof v === 'number') ms = v;
    else if (typeof v === 'string') {
      const m = DURATION.exec(v);
      if (m !== null) ms = Math.round(Number(m[1]) * UNIT_MS[m[2]!]! * 1000) / 1000;
    }
    if (ms === undefined || !Number.isSafeInteger(ms) || ms < 1) {
      badValue(node, cx, 'a duration such as "500ms", "10s", "1m" or integer milliseconds ≥ 1', v);
    }
    return ms;
  },
  show: (ms) => `\`"${ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`}"\``,
};

export const DEFAULT_HYBRID_THRESHOLD = 65_536;

export const bodyMode: ValueKind<BodyModeConfig> = {
  form: '`buffer`, `stream`, `hybrid`, `hybrid:<bytes>`',
  read(node, cx) {
    const v = singleValue(node, cx, 'a body mode');
    if (v === 'buffer' || v === 'stream' || v === 'hybrid') return { mode: v, hybridThreshold: DEFAULT_HYBRID_THRESHOLD };
    const m = typeof v === 'string' ? /^hybrid:(\d+)$/.exec(v) : null;
    const bytes = m === null ? NaN : Number(m[1]);
    if (!Number.isSafeInteger(bytes) || bytes < 1) badValue(node, cx, 'buffer, stream, hybrid or hybrid:<bytes ≥ 1>', v);
    return { mode: 'hybrid', hybridThreshold: bytes };
  },
  show: (v) =>
    v.mode === 'hybrid' && v.hybridThreshold !== DEFAULT_HYBRID_THRESHOLD ? `\`hybrid:${v.hybridThreshold}\`` : `\`${v.mode}\``,
};

/** Event names of spec §13.1 (exactly the reference's spellings, plus kebab-case of each). */
const EVENT_NAMES: Record<string, EventKind> = {};
for (const [kind, names] of [
  ['request_headers', ['request_headers']],
  ['request_body_chunk', ['request_body']],
  ['response_headers', ['response_headers']],
  ['response_body_chunk', ['response_body']],
  ['request_complete', ['request_complete', 'log']],
  ['websocket_frame', ['websocket_frame', 'web_socket_frame']],
  ['guardrail_inspect', ['guardrail']],
] as const) {
  for (const name of names) {
    EVENT_NAMES[name] = kind;
    EVENT_NAMES[name.replaceAll('_', '-')] = kind;
  }
}

/** The spelling used for an event kind in KDL. */
export function eventName(kind: EventKind): string {
  return Object.keys(EVENT_NAMES).find((n) => EVENT_NAMES[n] === kind) ?? kind;
}

export const events: ValueKind<EventKind[]> = {
  form: 'one or more event names',
  read(node, cx) {
    const values = argumentsOnly(node, cx);
    if (values.length === 0) failKey(cx, node, 'expected one or more event names');
    const out: EventKind[] = [];
    for (const v of values) {
      const kind = typeof v === 'string' ? EVENT_NAMES[v] : undefined;
      if (kind === undefined) {
        failKey(
          cx,
          node,
          `unknown event ${typeof v === 'string' ? `'${v}'` : String(v)} (expected one of ${Object.keys(EVENT_NAMES).join(', ')})`,
        );
      }
      if (!out.includes(kind)) out.push(kind);
    }
    return out;
  },
  show: (kinds) => kinds.map((k) => `\`${eventName(k)}\``).join(' '),
};

/** A key written without a value, or with `#true` (`reverse`, `tls`, `tls-insecure`). */
export function flagPresent(node: KdlNodeAt, cx: LoadContext): void {
  const values = argumentsOnly(node, cx);
  if (values.length === 0) return;
  if (values.length === 1 && values[0] === true) return;
  badValue(node, cx, 'no value or #true', values.length === 1 ? values[0] : values);
}
