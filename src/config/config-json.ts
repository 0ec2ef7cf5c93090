// `config { }` → JSON (spec §13.3): each child node becomes a key, named verbatim.
import type { KdlNodeAt, KdlValue } from './kdl-document.js';
import { fail, type LoadContext } from './schema-kit.js';

/** The children of a `config { }` block as one JSON object. */
export function configJson(children: readonly KdlNodeAt[], cx: LoadContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const node of children) setKey(out, node.name, nodeJson(node, cx), node, cx);
  return out;
}

function setKey(out: Record<string, unknown>, key: string, value: unknown, node: KdlNodeAt, cx: LoadContext): void {
  if (Object.hasOwn(out, key)) fail(cx, node.line, `duplicate key '${key}' in ${cx.where}`);
  out[key] = value;
}

/** one argument → scalar; several → array; properties and/or children → object; nothing → true. */
function nodeJson(node: KdlNodeAt, cx: LoadContext): unknown {
  const props = Object.entries(node.properties);
  if (node.values.length > 0 && (props.length > 0 || node.hasChildrenBlock)) {
    const other = props.length > 0 ? 'properties' : 'children';
    fail(cx, node.line, `node '${node.name}' in ${cx.where} mixes arguments with ${other} (the arguments would be lost)`);
  }
  if (node.values.length === 1) return scalar(node.values[0]!, node, cx);
  if (node.values.length > 1) return node.values.map((v) => scalar(v, node, cx));
  if (props.length === 0 && !node.hasChildrenBlock) return true;
  const obj: Record<string, unknown> = {};
  for (const [k, v] of props) obj[k] = scalar(v, node, cx);
  for (const child of node.children) setKey(obj, child.name, nodeJson(child, cx), child, cx);
  return obj;
}

function scalar(value: KdlValue, node: KdlNodeAt, cx: LoadContext): KdlValue {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    fail(cx, node.line, `node '${node.name}' in ${cx.where}: #inf, #-inf and #nan have no JSON form`);
  }
  return value;
}
