// The router's table of live calls (src/contract/live-calls.ts) against a Map as the model: calls added
// in id order and ended in any order, some living long enough to collide with far younger ones, so
// the array grows, overflows and is rebuilt; lookups, size and the oldest-first snapshots must stay
// what the Map says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LiveCalls } from '../src/contract/live-calls.js';

type Call = { readonly id: number };

/** A step: start the next call, or end the live call at this position (modulo the live count). */
const step = fc.oneof(
  { weight: 3, arbitrary: fc.constant<['start']>(['start']) },
  { weight: 2, arbitrary: fc.tuple(fc.constant<'end'>('end'), fc.nat()) },
  // A gap in the ids (calls that ended before this table saw them), so slots wrap far ahead.
  { weight: 1, arbitrary: fc.tuple(fc.constant<'skip'>('skip'), fc.integer({ min: 1, max: 5000 })) },
);

function check(table: LiveCalls<Call>, model: Map<number, Call>, probe: number[]): void {
  assert.equal(table.size, model.size);
  for (const id of probe) assert.equal(table.get(id), model.get(id), `get(${id})`);
  assert.deepEqual(
    table.values().map((c) => c.id),
    [...model.keys()],
  );
}

test('lookups, size and snapshots match a Map through growth, collisions and overflow', () => {
  fc.assert(
    fc.property(fc.array(step, { minLength: 100, maxLength: 3000, size: 'max' }), (steps) => {
      const table = new LiveCalls<Call>();
      const model = new Map<number, Call>();
      let next = 1;
      for (const [at, s] of steps.entries()) {
        if (at % 250 === 0) check(table, model, [next - 1, ...[...model.keys()].slice(0, 5)]);
        if (s[0] === 'start') {
          const call = { id: next++ };
          table.add(call);
          model.set(call.id, call);
        } else if (s[0] === 'skip') next += s[1];
        else if (model.size > 0) {
          const ids = [...model.keys()];
          const id = ids[s[1] % ids.length] as number;
          assert.equal(table.delete(id), true);
          model.delete(id);
          assert.equal(table.delete(id), false, 'a second delete finds nothing');
        }
      }
      check(table, model, [0, 1, next - 1, next, next + 1024, ...[...model.keys()].slice(0, 50)]);
    }),
    { numRuns: 100 },
  );
});

test('a call that outlives many younger ones: both are found, and the table stays small', () => {
  const table = new LiveCalls<Call>();
  const old = { id: 1 };
  table.add(old);
  // 200 000 calls, 10 live at a time, sharing slot 1 with the old call again and again.
  for (let id = 2; id <= 200_001; id++) {
    const call = { id };
    table.add(call);
    if ((id & 1023) === 1) assert.equal(table.get(id), call, `call ${id}, whose slot the old call holds`);
    if (id > 11) assert.equal(table.delete(id - 10), true);
  }
  assert.equal(table.get(1), old);
  assert.equal(table.size, 11);
  assert.ok((table as unknown as { slots: unknown[] }).slots.length <= 2048, 'collisions with one old call do not grow the array');
  assert.deepEqual(
    table.filter((c) => c.id % 2 === 1).map((c) => c.id),
    [1, 199_993, 199_995, 199_997, 199_999, 200_001],
  );
});

test('a burst of live calls grows the array, up to its cap; past it the rest overflow and are still found', () => {
  const table = new LiveCalls<Call>();
  const n = (1 << 17) + 5000;
  for (let id = 1; id <= n; id++) table.add({ id });
  assert.equal(table.size, n);
  assert.equal((table as unknown as { slots: unknown[] }).slots.length, 1 << 17);
  for (const id of [1, 2, 1 << 16, (1 << 17) + 1, n]) assert.equal(table.get(id)?.id, id);
  for (let id = 1; id <= n; id++) assert.equal(table.delete(id), true);
  assert.equal(table.size, 0);
  assert.equal(table.get(n), undefined);
});
