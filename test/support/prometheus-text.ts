// A small parser of the Prometheus text exposition format (0.0.4) for tests: it fails on anything
// the format does not allow, so a test that scrapes through it also checks the text stays valid.
import assert from 'node:assert/strict';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: string;
}
export interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|\+Inf|-Inf|NaN)$/;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    assert.ok(m, `bad label at ${i} in: ${line}`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const c = text[i++];
      assert.ok(c !== undefined, `unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i++];
        assert.ok(e === '\\' || e === '"' || e === 'n', `bad escape in: ${line}`);
        value += e === 'n' ? '\n' : e;
      } else value += c;
    }
    assert.ok(!(m[1]! in labels), `duplicate label in: ${line}`);
    labels[m[1]!] = value;
    if (i < text.length) assert.equal(text[i++], ',', `expected ',' in: ${line}`);
  }
  return labels;
}

/** Families by name in text order; fails on anything the Prometheus text format does not allow. */
export function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'exposition ends with a newline');
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: { name: string; family: Family } | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    if (help) {
      assert.ok(!families.has(help[1]!), `family ${help[1]} appears twice`);
      current = { name: help[1]!, family: { help: help[2]!, type: '', samples: [] } };
      families.set(current.name, current.family);
      continue;
    }
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (type) {
      assert.ok(current !== undefined && type[1] === current.name, `TYPE right after its HELP: ${line}`);
      assert.equal(current.family.type, '', `one TYPE per family: ${line}`);
      current.family.type = type[2]!;
      continue;
    }
    assert.ok(!line.startsWith('#'), `unexpected comment: ${line}`);
    const m = SAMPLE_LINE.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    assert.ok(current && current.family.type !== '', `sample before HELP and TYPE: ${line}`);
    const [, name, labelText, value] = m;
    const allowed = current.family.type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    assert.ok(
      allowed.some((s) => name === current!.name + s),
      `${name} outside family ${current.name}`,
    );
    assert.match(value!, VALUE, `bad value in: ${line}`);
    const labels = parseLabels(labelText ?? '', line);
    if (name!.endsWith('_bucket') && current.family.type === 'histogram') assert.ok('le' in labels, line);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    assert.ok(!seen.has(key), `duplicate series: ${line}`);
    seen.add(key);
    current.family.samples.push({ name: name!, labels, value: value! });
  }
  for (const [name, f] of families) assert.ok(f.type !== '', `family ${name} has a TYPE`);
  return families;
}
