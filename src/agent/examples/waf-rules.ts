// The example WAF's built-in rule set: a handful of well-known attack signatures, numbered in the
// style of the OWASP Core Rule Set so audit logs read familiarly. Small on purpose — a demo, not a WAF.

export interface WafRule {
  id: string;
  /** Attack class, reported in audit.tags. */
  tag: 'xss' | 'sqli' | 'path-traversal' | 'command-injection';
  reasonCode: string;
  description: string;
  pattern: RegExp;
}

export const WAF_RULES: readonly WafRule[] = [
  {
    id: '941100',
    tag: 'xss',
    reasonCode: 'XSS_DETECTED',
    description: 'script tag',
    pattern: /<\s*script\b/i,
  },
  {
    id: '941110',
    tag: 'xss',
    reasonCode: 'XSS_DETECTED',
    description: 'event handler attribute or javascript: URL',
    pattern: /\bon(?:error|load|click|mouseover|focus)\s*=|javascript\s*:/i,
  },
  {
    id: '942100',
    tag: 'sqli',
    reasonCode: 'SQLI_DETECTED',
    description: "tautology such as ' or 1=1",
    pattern: /['"]\s*(?:or|and)\s+['"]?(\w+)['"]?\s*=\s*['"]?\1\b/i,
  },
  {
    id: '942190',
    tag: 'sqli',
    reasonCode: 'SQLI_DETECTED',
    description: 'union select',
    pattern: /\bunion\b(?:\s+all)?\s+select\b/i,
  },
  {
    id: '930100',
    tag: 'path-traversal',
    reasonCode: 'PATH_TRAVERSAL',
    description: 'parent directory sequence',
    pattern: /(?:^|[\\/])\.\.(?:[\\/]|$)/,
  },
  {
    id: '932100',
    tag: 'command-injection',
    reasonCode: 'COMMAND_INJECTION',
    description: 'shell command after a separator or in a substitution',
    // A bare '&' or ';' followed by a word is ordinary in query strings and cookies, so the command
    // must be followed by whitespace, a separator or the end, not by '='.
    pattern: /(?:;|\|\|?|&&|`|\$\()\s*(?:cat|ls|rm|wget|curl|bash|sh|whoami)(?=[\s;|&`)]|$)/i,
  },
];

/** Rules whose pattern matches `text`, in rule order. */
export function matchRules(text: string, rules: readonly WafRule[] = WAF_RULES): WafRule[] {
  const hits: WafRule[] = [];
  for (const rule of rules) if (rule.pattern.test(text)) hits.push(rule);
  return hits;
}
