// kdljs does not publish types for its lexer; kdljs-adapter.ts (its only importer) reads its tokens.
declare module 'kdljs/src/parser/kdl.js' {
  export interface KdlLexerToken {
    image: string;
    startLine?: number;
    tokenType: { name: string };
  }
  export const lexer: {
    tokenize(text: string): { tokens: KdlLexerToken[]; errors: unknown[] };
  };
}
