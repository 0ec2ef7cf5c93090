// The one file that reaches past kdljs's public API. kdljs.parse returns nodes without source
// positions, so node-lines.ts re-reads kdljs's own token stream (same lexer, hence the same strings
// and comments) to put line numbers on config errors. kdljs publishes no types or entry for its
// lexer (kdljs-lexer.d.ts declares them); test/kdljs-adapter.test.ts pins the token names and lines
// this relies on for the installed kdljs version, so an upgrade that changes them fails there first.
import { lexer, type KdlLexerToken } from 'kdljs/src/parser/kdl.js';

export type { KdlLexerToken };

export interface KdlTokens {
  tokens: readonly KdlLexerToken[];
  /** Lexing errors; the tokens before (and after) an error are still returned. */
  errors: readonly unknown[];
}

/** kdljs's token stream for a KDL document. */
export function tokenizeKdl(text: string): KdlTokens {
  return lexer.tokenize(text);
}
