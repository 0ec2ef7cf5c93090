// Each connection picker of spec §10.4 on its own, with exact expectations: which candidate each
// pick returns, in order. The random pickers take an injected RNG, swept over a fixed grid of
// values, so every count is exact (a bias, a reversed weight or an unreachable candidate fails).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPicker } from '../src/pool/create-picker.js';
import { HealthBasedPicker } from '../src/pool/health-based.js';
import { LeastConnectionsPicker } from '../src/pool/least-connections.js';
import type { ConnectionView, Picker } from '../src/pool/picker.js';
import { RandomPicker } from '../src/pool/random-picker.js';
import { RoundRobinPicker } from '../src/pool/round-robin.js';

const CONTEXT = { agentId: 'waf', correlationId: 'c1' };

function view(id: number, o: Partial<Omit<ConnectionView, 'id'>> = {}): ConnectionView {
  return { id, inFlight: 0, errorEwma: 0, latencyEwmaMs: null, ...o };
}

function pickOne(picker: Picker, candidates: readonly ConnectionView[]): ConnectionView | undefined {
  return picker.pick(candidates, CONTEXT);
}

/** Ids of `n` successive picks over the same candidates. */
function picks(picker: Picker, candidates: readonly ConnectionView[], n: number): Array<number | undefined> {
  return Array.from({ length: n }, () => pickOne(picker, candidates)?.id);
}

/** An RNG that returns (i + 0.5) / n for i = 0, 1, …, n − 1: an even sweep of [0, 1). */
function gridRandom(n: number): () => number {
  let i = 0;
  return () => {
    assert.ok(i < n, 'the grid is used up');
    return (i++ + 0.5) / n;
  };
}

/** How often each candidate id is picked over a full grid sweep of `n` RNG values. */
function sweep(make: (random: () => number) => Picker, candidates: readonly ConnectionView[], n: number): Record<number, number> {
  const picker = make(gridRandom(n));
  const counts: Record<number, number> = {};
  for (const c of candidates) counts[c.id] = 0;
  for (let i = 0; i < n; i++) {
    const id = pickOne(picker, candidates)?.id;
    assert.ok(id !== undefined, 'a pick over candidates returns one');
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

describe('round-robin picker', () => {
  test('round-robin: cycles through the candidates in order, one step per pick', () => {
    const candidates = [view(1), view(2), view(3)];
    assert.deepEqual(picks(new RoundRobinPicker(), candidates, 7), [1, 2, 3, 1, 2, 3, 1]);
  });

  test('round-robin: the counter carries over when the candidate list changes (candidates[c mod len])', () => {
    const picker = new RoundRobinPicker();
    assert.deepEqual(picks(picker, [view(1), view(2), view(3)], 2), [1, 2]);
    // counter is 2 now: 2 mod 2 = 0, then 1, then 0
    assert.deepEqual(picks(picker, [view(4), view(5)], 3), [4, 5, 4]);
  });

  test('round-robin: no candidates → undefined; in-flight counts and health do not matter', () => {
    const picker = new RoundRobinPicker();
    assert.equal(pickOne(picker, []), undefined);
    const candidates = [view(1, { inFlight: 50, errorEwma: 0.9 }), view(2), view(3, { latencyEwmaMs: 900 })];
    assert.deepEqual(picks(picker, candidates, 3), [1, 2, 3]);
  });
});

describe('least-connections picker', () => {
  test('least-connections: picks the one connection with the fewest in flight, every time', () => {
    const candidates = [view(1, { inFlight: 3 }), view(2, { inFlight: 1 }), view(3, { inFlight: 2 })];
    assert.deepEqual(picks(new LeastConnectionsPicker(), candidates, 4), [2, 2, 2, 2]);
  });

  test('least-connections: ties rotate through the tied set in candidate order, skipping busier ones', () => {
    const candidates = [view(1, { inFlight: 0 }), view(2, { inFlight: 1 }), view(3, { inFlight: 0 }), view(4, { inFlight: 0 })];
    assert.deepEqual(picks(new LeastConnectionsPicker(), candidates, 7), [1, 3, 4, 1, 3, 4, 1]);
  });

  test('least-connections: the tie counter carries over when the tied set changes', () => {
    const picker = new LeastConnectionsPicker();
    assert.deepEqual(picks(picker, [view(1), view(2), view(3)], 2), [1, 2]);
    // counter 2 over a tied set of two (ids 2 and 3): 2 mod 2 = 0 → 2, then 3, then 2
    assert.deepEqual(picks(picker, [view(1, { inFlight: 5 }), view(2, { inFlight: 4 }), view(3, { inFlight: 4 })], 3), [2, 3, 2]);
  });

  test('least-connections: no candidates → undefined', () => {
    assert.equal(pickOne(new LeastConnectionsPicker(), []), undefined);
  });
});

describe('health-based picker', () => {
  test('health-based: weight ∝ lmin / latency — the faster connection gets 4× the picks of one 4× slower', () => {
    // weights 1 and 0.25: of 1 000 evenly spread RNG values, 800 land on the fast one
    const candidates = [view(1, { latencyEwmaMs: 10 }), view(2, { latencyEwmaMs: 40 })];
    assert.deepEqual(
      sweep((r) => new HealthBasedPicker(r), candidates, 1_000),
      { 1: 800, 2: 200 },
    );
    // and the order of the candidates does not matter
    const reversed = [view(2, { latencyEwmaMs: 40 }), view(1, { latencyEwmaMs: 10 })];
    assert.deepEqual(
      sweep((r) => new HealthBasedPicker(r), reversed, 1_000),
      { 1: 800, 2: 200 },
    );
  });

  test('health-based: weight ∝ max(0.01, 1 − failure EWMA) — a failing connection keeps a 1 % floor', () => {
    // weights 1, 0.5 and 0.01 (total 1.51): 1 000, 500 and 10 of 1 510 RNG values
    const candidates = [view(1), view(2, { errorEwma: 0.5 }), view(3, { errorEwma: 1 })];
    assert.deepEqual(
      sweep((r) => new HealthBasedPicker(r), candidates, 1_510),
      { 1: 1_000, 2: 500, 3: 10 },
    );
  });

  test('health-based: both factors multiply; an unknown latency counts as factor 1', () => {
    // weights: 1 (no latency yet) · 1 (lmin 10 / 10) · 0.5 (10 / 20) · (1 − 0.5) × 0.5 = 0.25; total 2.75
    const candidates = [
      view(1),
      view(2, { latencyEwmaMs: 10 }),
      view(3, { latencyEwmaMs: 20 }),
      view(4, { latencyEwmaMs: 20, errorEwma: 0.5 }),
    ];
    assert.deepEqual(
      sweep((r) => new HealthBasedPicker(r), candidates, 2_750),
      { 1: 1_000, 2: 1_000, 3: 500, 4: 250 },
    );
  });

  test('health-based: RNG ends map to the first and last candidate; one candidate needs no RNG; none → undefined', () => {
    const candidates = [view(1), view(2), view(3)];
    assert.equal(pickOne(new HealthBasedPicker(() => 0), candidates)?.id, 1);
    assert.equal(pickOne(new HealthBasedPicker(() => 1 - Number.EPSILON), candidates)?.id, 3);
    const noRandom = new HealthBasedPicker(() => assert.fail('the RNG is not consulted for a single candidate'));
    assert.equal(pickOne(noRandom, [view(7)])?.id, 7);
    assert.equal(pickOne(noRandom, []), undefined);
  });
});

describe('random picker', () => {
  test('random: uniform — an even RNG sweep picks each candidate equally often', () => {
    const candidates = [view(1), view(2), view(3), view(4)];
    assert.deepEqual(
      sweep((r) => new RandomPicker(r), candidates, 400),
      { 1: 100, 2: 100, 3: 100, 4: 100 },
    );
  });

  test('random: floor(r × n) — the RNG ends map to the first and last candidate; none → undefined', () => {
    const candidates = [view(1), view(2), view(3)];
    assert.equal(pickOne(new RandomPicker(() => 0), candidates)?.id, 1);
    assert.equal(pickOne(new RandomPicker(() => 0.34), candidates)?.id, 2);
    assert.equal(pickOne(new RandomPicker(() => 1 - Number.EPSILON), candidates)?.id, 3);
    assert.equal(pickOne(new RandomPicker(() => 0.5), []), undefined);
  });
});

describe('createPicker', () => {
  test('createPicker: each strategy name gives its own picker class', () => {
    assert.ok(createPicker('round-robin') instanceof RoundRobinPicker);
    assert.ok(createPicker('least-connections') instanceof LeastConnectionsPicker);
    assert.ok(createPicker('health-based') instanceof HealthBasedPicker);
    assert.ok(createPicker('random') instanceof RandomPicker);
  });

  test('createPicker: a custom picker sees the candidates and context; a pick that is not a candidate counts as none', () => {
    const candidates = [view(1), view(2)];
    const seen: unknown[] = [];
    const last = createPicker((cs, ctx) => {
      seen.push([cs.map((c) => c.id), ctx]);
      return cs.at(-1);
    });
    assert.equal(last.pick(candidates, CONTEXT), candidates[1]);
    assert.deepEqual(seen, [[[1, 2], CONTEXT]]);
    assert.equal(createPicker(() => view(1)).pick(candidates, CONTEXT), undefined, 'an equal-looking copy is not a candidate');
    assert.equal(createPicker(() => undefined).pick(candidates, CONTEXT), undefined);
  });
});
