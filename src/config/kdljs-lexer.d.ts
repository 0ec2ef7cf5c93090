// kdljs does not publish types for its lexer; node-lines.ts reads its tokens to find node lines.
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
