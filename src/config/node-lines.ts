// Start line of every KDL node (and whether it has a children block), in document (pre-)order, skipping nodes removed by a slashdash.
// kdljs returns nodes without positions, so we re-read its own token stream (same lexer, same
// strings and comments) and follow only the node structure: terminators, braces and `/-`.
import { tokenizeKdl, type KdlLexerToken } from './kdljs-adapter.js';

type Ev = { t: 'atom'; line: number } | { t: 'nl' } | { t: 'sd' } | { t: 'open'; line: number } | { t: 'close' };

const SKIPPED = new Set(['WhiteSpace', 'BOM', 'LineComment']);

/** Flattens tokens into structural events: strings and comments collapse, an escaped line is no terminator. */
function events(tokens: readonly KdlLexerToken[]): Ev[] {
  const out: Ev[] = [];
  let i = 0;
  const skipUntil = (close: string): void => {
    while (i < tokens.length && tokens[i]!.tokenType.name !== close) i++;
  };
  while (i < tokens.length) {
    const tok = tokens[i]!;
    const name = tok.tokenType.name;
    const line = tok.startLine ?? 0;
    if (name === 'OpenQuote') {
      skipUntil('CloseQuote');
      out.push({ t: 'atom', line });
    } else if (name === 'MultiLineOpenQuote') {
      skipUntil('MultiLineCloseQuote');
      out.push({ t: 'atom', line });
    } else if (name === 'OpenMultiLineComment') {
      // Block comments nest.
      let depth = 1;
      while (depth > 0 && ++i < tokens.length) {
        const n = tokens[i]!.tokenType.name;
        if (n === 'OpenMultiLineComment') depth++;
        else if (n === 'CloseMultiLineComment') depth--;
      }
    } else if (name === 'EscLine') {
      // `\` [ws] [// comment] newline: the line continues.
      while (i + 1 < tokens.length && SKIPPED.has(tokens[i + 1]!.tokenType.name)) i++;
      if (i + 1 < tokens.length && tokens[i + 1]!.tokenType.name === 'NewLine') i++;
    } else if (name === 'NewLine' || name === 'SemiColon') {
      out.push({ t: 'nl' });
    } else if (name === 'BlockComment') {
      out.push({ t: 'sd' });
    } else if (name === 'LeftBrace') {
      out.push({ t: 'open', line });
    } else if (name === 'RightBrace') {
      out.push({ t: 'close' });
    } else if (!SKIPPED.has(name)) {
      out.push({ t: 'atom', line });
    }
    i++;
  }
  return out;
}

export interface NodePosition {
  line: number;
  /** The node has a (kept) children block, possibly empty: kdljs gives `[]` for both `a` and `a {}`. */
  block: boolean;
}

interface Frame {
  /** Children of a slashdashed node, or a slashdashed children block. */
  discarded: boolean;
  /** Index in the result of the node owning this block (-1 when discarded), restored on `}`. */
  owner: number;
}

/** Positions of the kept nodes in pre-order, or undefined when the text does not lex. */
export function nodePositions(text: string): NodePosition[] | undefined {
  const lexed = tokenizeKdl(text);
  if (lexed.errors.length > 0) return undefined;
  const out: NodePosition[] = [];
  const stack: Frame[] = [];
  let inNode = false;
  let slashdash = false;
  let current = -1;
  for (const ev of events(lexed.tokens)) {
    if (ev.t === 'close') {
      const frame = stack.pop();
      if (frame === undefined) return undefined;
      inNode = true;
      slashdash = false;
      current = frame.owner;
      continue;
    }
    if (ev.t === 'sd') {
      slashdash = true;
      continue;
    }
    if (ev.t === 'nl') {
      // A newline right after `/-` belongs to the slashdash (KDL allows line space there).
      if (inNode && !slashdash) inNode = false;
      continue;
    }
    if (!inNode) {
      if (ev.t !== 'atom') return undefined;
      const discarded = slashdash || (stack.at(-1)?.discarded ?? false);
      current = discarded ? -1 : out.push({ line: ev.line, block: false }) - 1;
      inNode = true;
      slashdash = false;
      continue;
    }
    if (ev.t === 'open') {
      const discarded = current < 0 || slashdash;
      if (!discarded) out[current]!.block = true;
      stack.push({ discarded, owner: current });
      inNode = false;
    }
    slashdash = false;
  }
  return out;
}

/**
 * Line of the first `{` that opens a block deeper than `maxDepth`, or undefined. Read from the
 * token stream alone (the lexer is not recursive), so it runs before kdljs's recursive parser,
 * which overflows the stack on deep nesting; tokens after a lexing error are still counted.
 */
export function firstBlockDeeperThan(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  for (const ev of events(tokenizeKdl(text).tokens)) {
    if (ev.t === 'open' && ++depth > maxDepth) return ev.line;
    if (ev.t === 'close' && depth > 0) depth--;
  }
  return undefined;
}
