// Example agent "waf": blocks a request (403) when its URI, a header value or a body chunk matches a
// built-in rule (waf-rules.ts). Stateless, so it runs unchanged on a thread pool; a pattern split
// across two body chunks is not seen.
import type { AgentHandler, Reply } from '../handler.js';
import { block } from '../reply.js';
import { WAF_RULES, matchRules, type WafRule } from './waf-rules.js';

export interface WafOptions {
  /** Rule ids to switch off. */
  disabledRules?: string[];
}

/** Percent-decoding that never throws (a stray '%' is left as is) and reads '+' as space, as forms do. */
function urlDecode(text: string): string {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

function blocked(hits: WafRule[]): Reply {
  return block(403)
    .withBody('Forbidden')
    .withBlockHeader('x-blocked-by', 'waf')
    .withTag(...new Set(hits.map((r) => r.tag)))
    .withRuleId(...hits.map((r) => r.id))
    .withReasonCode(...new Set(hits.map((r) => r.reasonCode)))
    .withConfidence(1);
}

function inspect(rules: readonly WafRule[], texts: string[]): Reply | undefined {
  const hits = new Set<WafRule>();
  for (const text of texts) for (const r of matchRules(text, rules)) hits.add(r);
  if (hits.size === 0) return undefined;
  return blocked(rules.filter((r) => hits.has(r)));
}

export default function createHandler(options?: unknown): AgentHandler {
  const disabled = new Set((options as WafOptions | undefined)?.disabledRules ?? []);
  const rules = WAF_RULES.filter((r) => !disabled.has(r.id));
  return {
    onRequestHeaders(e) {
      const texts = [urlDecode(e.uri)];
      for (const values of Object.values(e.headers)) for (const v of values) texts.push(v);
      return inspect(rules, texts);
    },
    onRequestBodyChunk(e) {
      const text = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('utf8');
      return inspect(rules, [text, urlDecode(text)]);
    },
  };
}
