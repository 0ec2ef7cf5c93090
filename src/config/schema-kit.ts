// The building blocks of the configuration schema: a key spec (name, form, default, doc, and how it
// is read), a block of keys, and the reader that applies a block to a node's children. The same
// specs feed the loader and the generated reference (render-reference.ts), so docs cannot drift.
import { configError, showKdl } from './config-error.js';
import type { KdlNodeAt, KdlValue } from './kdl-document.js';

/** Where a key is being read: the file, a phrase naming the block (`agent "waf"`), and warnings. */
export interface LoadContext {
  readonly file: string;
  /** Used after "in": `agent "waf"`, `pool of agent "waf"`, `reverse-listener`. */
  readonly where: string;
  readonly warnings: string[];
}

export function within(cx: LoadContext, where: string): LoadContext {
  return { file: cx.file, where, warnings: cx.warnings };
}

export function fail(cx: LoadContext, line: number, what: string): never {
  throw configError(cx.file, line, what);
}

/** Fails with `key '<key>' in <where>: <what>`. */
export function failKey(cx: LoadContext, node: KdlNodeAt, what: string): never {
  return fail(cx, node.line, `key '${node.name}' in ${cx.where}: ${what}`);
}

export interface KeySpec<D> {
  readonly key: string;
  /** The TS property (path) the key sets, shown in the reference. */
  readonly field: string;
  /** How the key is written, for the reference. */
  readonly form: string;
  /** Rendered default ('—' when none). */
  readonly defaultText: string;
  readonly doc: string;
  /** Several occurrences are merged instead of being a duplicate-key error. */
  readonly repeatable?: boolean;
  apply(node: KdlNodeAt, draft: D, cx: LoadContext): void;
}

export interface BlockSpec<D> {
  /** Heading of this block in the reference. */
  readonly title: string;
  /** Paragraph under the heading in the reference (Markdown). */
  readonly intro: string;
  /** The TS type whose fields the keys set, for the reference's column header. */
  readonly typeName: string;
  readonly keys: readonly KeySpec<D>[];
  /**
   * Keys the Zentinel proxy knows here that zap does not serve: refused by name, never ignored
   * (a dropped `filters` block could drop a security rule).
   */
  readonly refused?: readonly string[];
}

/** Applies `block` to `children`: unknown keys and repeated single keys are errors. */
/** Returns the line of the first occurrence of each key given. */
export function readBlock<D>(block: BlockSpec<D>, children: readonly KdlNodeAt[], draft: D, cx: LoadContext): Map<string, number> {
  const seen = new Map<string, number>();
  for (const node of children) {
    const spec = block.keys.find((k) => k.key === node.name);
    if (spec === undefined && block.refused?.includes(node.name) === true) {
      fail(cx, node.line, `'${node.name}' in ${cx.where} is not supported by zap gateway (refused rather than ignored)`);
    }
    if (spec === undefined) fail(cx, node.line, `unknown key '${node.name}' in ${cx.where}`);
    const first = seen.get(node.name);
    if (first !== undefined && spec.repeatable !== true) {
      fail(cx, node.line, `duplicate key '${node.name}' in ${cx.where}${first > 0 ? ` (first at line ${first})` : ''}`);
    }
    if (first === undefined) seen.set(node.name, node.line);
    spec.apply(node, draft, cx);
  }
  return seen;
}

/** How one kind of value is read from a node and shown as a default. */
export interface ValueKind<T> {
  /** How the value is written, e.g. `integer ≥ 1`. */
  readonly form: string;
  read(node: KdlNodeAt, cx: LoadContext): T;
  show(value: T): string;
}

/** Rejects properties and a children block on a key that takes plain arguments. */
export function argumentsOnly(node: KdlNodeAt, cx: LoadContext): readonly KdlValue[] {
  const props = Object.keys(node.properties);
  if (props.length > 0) failKey(cx, node, `unexpected property '${props[0]}='`);
  if (node.hasChildrenBlock) failKey(cx, node, 'takes no children block');
  return node.values;
}

/** The single argument of a key (no properties, no children). */
export function singleValue(node: KdlNodeAt, cx: LoadContext, expected: string): KdlValue {
  const values = argumentsOnly(node, cx);
  if (values.length !== 1) failKey(cx, node, `expected one value (${expected}), got ${values.length}`);
  return values[0]!;
}

/** A key whose value is a block of its own keys, not arguments or properties. */
export function blockOnly(node: KdlNodeAt, cx: LoadContext): void {
  if (node.values.length > 0) failKey(cx, node, `takes a children block, not the value ${showKdl(node.values[0])}`);
  const props = Object.keys(node.properties);
  if (props.length > 0) failKey(cx, node, `takes a children block, not the property '${props[0]}='`);
}

export function badValue(node: KdlNodeAt, cx: LoadContext, expected: string, got: unknown): never {
  return failKey(cx, node, `expected ${expected}, got ${showKdl(got)}`);
}

/** A key that sets one field from one value kind; `defaults` supplies the documented default. */
function scalar<D, K extends keyof D & string>(
  key: string,
  field: K,
  kind: ValueKind<Exclude<D[K], undefined>>,
  defaults: Partial<Record<K, Exclude<D[K], undefined>>> | undefined,
  doc: string,
  form?: string,
): KeySpec<D> {
  const dflt = defaults?.[field];
  return {
    key,
    field,
    form: form ?? kind.form,
    defaultText: dflt === undefined ? '—' : kind.show(dflt),
    doc,
    apply(node, draft, cx) {
      draft[field] = kind.read(node, cx);
    },
  };
}

/** `scalar` with the draft type fixed, so each call infers only the field. */
export function scalarsOf<D>() {
  return <K extends keyof D & string>(
    key: string,
    field: K,
    kind: ValueKind<Exclude<D[K], undefined>>,
    defaults: Partial<Record<K, Exclude<D[K], undefined>>> | undefined,
    doc: string,
    form?: string,
  ): KeySpec<D> => scalar<D, K>(key, field, kind, defaults, doc, form);
}
