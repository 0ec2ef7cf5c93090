// Renders the configuration reference (Markdown) from the schema, so the README cannot drift from
// what the loader accepts. scripts/update-config-reference.ts writes it into README.md.
import { CONFIG_SCHEMA } from './document-schema.js';
import type { BlockSpec } from './schema-kit.js';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function renderBlock(block: BlockSpec<never>): string {
  const out = [`### ${block.title}`, '', block.intro, ''];
  if (block.keys.length > 0) {
    out.push(`| key | form | default | \`${block.typeName}\` field | notes |`, '|---|---|---|---|---|');
    for (const k of block.keys) {
      const field = k.field === '—' ? '—' : `\`${k.field}\``;
      const key = k.repeatable === true ? `\`${k.key}\` (repeatable)` : `\`${k.key}\``;
      out.push(`| ${[key, k.form, k.defaultText, field, k.doc].map(cell).join(' | ')} |`);
    }
    out.push('');
  }
  if (block.refused !== undefined && block.refused.length > 0) {
    out.push(`Refused by name, never ignored (not supported by zap gateway): ${block.refused.map((k) => `\`${k}\``).join(', ')}.`, '');
  }
  return out.join('\n');
}

/** The whole reference: one section per block, tables of keys; ends with a newline. */
export function renderConfigReference(): string {
  const head = [
    '## Configuration reference',
    '',
    '_Generated from `src/config` by `node --import tsx scripts/update-config-reference.ts`; do not edit by hand._',
    '',
  ].join('\n');
  return [head, ...CONFIG_SCHEMA.map(renderBlock)].join('\n');
}

export const REFERENCE_START = '<!-- config-reference:start -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** The text between the README markers (without the newline after the start marker), if present. */
export function extractConfigReference(readme: string): string | undefined {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + REFERENCE_START.length, end).replace(/^\r?\n/, '');
}

/** `readme` with the generated section replaced, or appended at the end when it has no markers. */
export function spliceConfigReference(readme: string): string {
  const block = `${REFERENCE_START}\n${renderConfigReference()}${REFERENCE_END}\n`;
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) return `${readme}${readme.endsWith('\n') || readme.length === 0 ? '' : '\n'}\n${block}`;
  return readme.slice(0, start) + block + readme.slice(end + REFERENCE_END.length).replace(/^\r?\n/, '');
}
