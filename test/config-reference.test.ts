// The configuration reference is generated from the same schema the loader uses; README.md must
// carry the current rendering between its config-reference markers.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { AGENT_BLOCK } from '../src/config/agent-schema.js';
import { CONFIG_SCHEMA } from '../src/config/document-schema.js';
import { POOL_BLOCK } from '../src/config/pool-schema.js';
import {
  extractConfigReference,
  REFERENCE_END,
  REFERENCE_START,
  renderConfigReference,
  spliceConfigReference,
} from '../src/config/render-reference.js';
import { DEFAULT_AGENT_OPTIONS } from '../src/pool/pool-config.js';

describe('configuration reference', () => {
  const reference = renderConfigReference();

  test('has one table row per schema key, with its default', () => {
    for (const block of CONFIG_SCHEMA) {
      assert.ok(reference.includes(`### ${block.title}\n`), block.title);
      for (const key of block.keys) {
        const field = key.field === '—' ? ' — ' : `\`${key.field}\``;
        const row = reference.split('\n').find((l) => l.startsWith(`| \`${key.key}\``) && l.includes(field));
        assert.ok(row !== undefined, `${block.title}: no row for ${key.key}`);
      }
    }
    assert.match(reference, /\| `timeout-ms` \| integer ≥ 1 \| 1000 \| `timeoutMs` \|/);
    assert.match(reference, /\| `handshake-timeout` \|.*\| `"10s"` \| `handshakeTimeoutMs` \|/);
  });

  test('every pool option has a KDL key (a new option cannot be forgotten here)', () => {
    const poolFields = new Set(POOL_BLOCK.keys.map((k) => k.field));
    const agentFields = new Set(AGENT_BLOCK.keys.map((k) => k.field));
    // Options the pool owns but KDL sets at agent level (spec §13.1).
    const agentLevel = new Set(['failureMode', 'circuitBreaker']);
    for (const option of Object.keys(DEFAULT_AGENT_OPTIONS)) {
      const covered = agentLevel.has(option) ? agentFields.has(option) : poolFields.has(option);
      assert.ok(covered, `pool option ${option} has no KDL key`);
    }
  });

  test('splicing appends once, then replaces in place', () => {
    const appended = spliceConfigReference('# zap\n\nIntro.\n');
    assert.ok(appended.startsWith('# zap\n\nIntro.\n\n' + REFERENCE_START));
    assert.equal(extractConfigReference(appended), reference);
    assert.equal(spliceConfigReference(appended), appended);
    const stale = appended.replace('| `timeout-ms` |', '| `timeout` |') + '\n## After\n';
    const fixed = spliceConfigReference(stale);
    assert.equal(extractConfigReference(fixed), reference);
    assert.ok(fixed.endsWith(`${REFERENCE_END}\n\n## After\n`));
  });

  test('README.md carries the current reference', (t) => {
    const readme = new URL('../README.md', import.meta.url);
    if (!existsSync(readme)) {
      t.skip('README.md is not written yet');
      return;
    }
    const section = extractConfigReference(readFileSync(readme, 'utf8'));
    assert.ok(
      section !== undefined,
      `README.md has no ${REFERENCE_START} … ${REFERENCE_END} section: run node --import tsx scripts/update-config-reference.ts`,
    );
    assert.equal(section, reference, 'README.md reference is stale: run node --import tsx scripts/update-config-reference.ts');
  });
});
