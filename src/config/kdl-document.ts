// Parses KDL 2.0 text with kdljs and gives every node its source line, so that every
// configuration error can say `<file>:<line>`. Syntax errors become ZAP_INVALID_CONFIG too.
import { parse, type Node, type Value } from 'kdljs';
import { configError } from './config-error.js';
import { firstBlockDeeperThan, nodePositions } from './node-lines.js';

/** Deepest block nesting a configuration may use; far beyond any real one, far below the stack. */
export const MAX_KDL_NESTING = 64;

export type KdlValue = Value;

/** A kdljs node plus its line (0 when unknown) and the file it came from. */
export interface KdlNodeAt {
  readonly name: string;
  readonly values: readonly KdlValue[];
  readonly properties: Readonly<Record<string, KdlValue>>;
  readonly children: readonly KdlNodeAt[];
  /** True when the source had a children block, even an empty one (`config {}`). */
  readonly hasChildrenBlock: boolean;
  readonly line: number;
}

interface SyntaxErrorLike {
  message?: unknown;
  token?: { image?: unknown; startLine?: unknown };
}

/**
 * Parses `text`; throws ZAP_INVALID_CONFIG `<file>:<line>: KDL syntax error …` on bad syntax and
 * `<file>:<line>: blocks nested deeper than 64 levels` before parsing a too deeply nested text.
 */
export function parseKdl(text: string, file: string): KdlNodeAt[] {
  const tooDeep = firstBlockDeeperThan(text, MAX_KDL_NESTING);
  if (tooDeep !== undefined) throw configError(file, tooDeep, `blocks nested deeper than ${MAX_KDL_NESTING} levels`);
  const result = parse(text);
  const first = result.errors[0] as SyntaxErrorLike | undefined;
  if (first !== undefined || result.output === undefined) throw syntaxError(text, file, first);
  const positions = nodePositions(text);
  let next = 0;
  const locate = (nodes: readonly Node[]): KdlNodeAt[] =>
    nodes.map((n) => {
      const at = positions?.[next++];
      return {
        name: n.name,
        values: n.values,
        properties: n.properties,
        children: locate(n.children),
        hasChildrenBlock: n.children.length > 0 || (at?.block ?? false),
        line: at?.line ?? 0,
      };
    });
  const located = locate(result.output);
  // Positions are only trusted when the structural pass saw exactly the nodes kdljs kept.
  return positions !== undefined && positions.length === next ? located : stripPositions(located);
}

function stripPositions(nodes: readonly KdlNodeAt[]): KdlNodeAt[] {
  return nodes.map((n) => ({ ...n, line: 0, hasChildrenBlock: n.children.length > 0, children: stripPositions(n.children) }));
}

const TOKEN_NAMES: Record<string, string> = { EOF: 'end of input', RightBrace: "'}'", LeftBrace: "'{'", Equals: "'='" };

function syntaxError(text: string, file: string, err: SyntaxErrorLike | undefined) {
  const image = typeof err?.token?.image === 'string' ? err.token.image : '';
  const rawLine = err?.token?.startLine;
  const line = typeof rawLine === 'number' && Number.isFinite(rawLine) ? rawLine : text.split('\n').length;
  const message = typeof err?.message === 'string' ? err.message : '';
  const expected = /^Expecting token of type --> (\w+) <--/.exec(message)?.[1];
  let what: string;
  if (image === '') what = 'unexpected end of input (an unclosed `{` or string?)';
  else if (/^(true|false|null|inf|-inf|nan)$/.test(image)) what = `'${image}' is not a value in KDL 2.0: write #${image}`;
  else if (message.startsWith('unexpected character')) {
    const ch = image.slice(0, 1);
    what = /[\r\n]/.test(ch) ? 'line break inside a quoted string (an unclosed `"`?)' : `unexpected character ${JSON.stringify(ch)}`;
  } else if (expected !== undefined) what = `expected ${TOKEN_NAMES[expected] ?? expected}, found '${image}'`;
  else what = `unexpected '${image}'`;
  return configError(file, line, `KDL syntax error: ${what}`);
}
