// The two binding stores the chooser consults before the picker (spec §10.4), on their own with an
// explicit clock: sticky sessions (idle expiry on lookup and by sweep) and the correlation table
// (affinity: bounded, counted rejections, TTL sweep counted as evictions; and each cid's turn, §10.2).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CorrelationTable } from '../src/pool/correlation-table.js';
import { StickySessions } from '../src/pool/sticky-sessions.js';

describe('StickySessions', () => {
  test('sticky sessions: a bound session returns its connection; an unknown one returns undefined', () => {
    const s = new StickySessions(1_000);
    s.bind('s1', 7, 0);
    s.bind('s2', 9, 0);
    assert.equal(s.get('s1', 10), 7);
    assert.equal(s.get('s2', 10), 9);
    assert.equal(s.get('s3', 10), undefined);
    s.bind('s1', 8, 20);
    assert.equal(s.get('s1', 30), 8, 'rebinding replaces the connection');
    assert.equal(s.size, 2);
  });

  test('sticky sessions: idle expiry on lookup at exactly timeoutMs; each lookup renews the binding', () => {
    const s = new StickySessions(100);
    s.bind('s1', 1, 0);
    assert.equal(s.get('s1', 99), 1);
    assert.equal(s.get('s1', 198), 1, 'renewed at 99: still bound at 198');
    assert.equal(s.get('s1', 298), undefined, 'idle for 100 ms: gone');
    assert.equal(s.size, 0, 'the expired binding is deleted, not kept');
  });

  test('sticky sessions: sweep removes exactly the idle bindings and returns how many; timeout 0 never expires', () => {
    const s = new StickySessions(100);
    s.bind('old', 1, 0);
    s.bind('older', 2, 0);
    s.bind('fresh', 3, 50);
    assert.equal(s.sweep(100), 2);
    assert.equal(s.get('fresh', 100), 3);
    assert.equal(s.size, 1);
    const never = new StickySessions(0);
    never.bind('s', 1, 0);
    assert.equal(never.sweep(1e12), 0);
    assert.equal(never.get('s', 1e12), 1);
  });

  test('sticky sessions: dropConnection removes every binding to that connection only', () => {
    const s = new StickySessions(0);
    s.bind('a', 1, 0);
    s.bind('b', 2, 0);
    s.bind('c', 1, 0);
    s.dropConnection(1);
    assert.equal(s.get('a', 0), undefined);
    assert.equal(s.get('c', 0), undefined);
    assert.equal(s.get('b', 0), 2);
  });
});

/** A table of calls named by strings, and `bind(cid, connection, now)` as the chooser does it for a call of that cid. */
function table(
  ttlMs: number,
  max: number,
): { t: CorrelationTable<string>; bind: (cid: string, connectionId: number, now: number) => boolean } {
  const t = new CorrelationTable<string>(ttlMs, max);
  return {
    t,
    bind: (cid, connectionId, now) => {
      const call = `${cid}-call`;
      const e = t.enter(cid, call);
      const bound = t.bind(e, connectionId, now);
      t.leave(cid, e, call);
      return bound;
    },
  };
}

describe('CorrelationTable: affinity', () => {
  test('correlation affinity: bind then get returns the connection; binding an existing cid moves it', () => {
    const { t, bind } = table(1_000, 10);
    assert.equal(bind('r1', 3, 0), true);
    assert.equal(t.get('r1', 1), 3);
    assert.equal(bind('r1', 4, 2), true);
    assert.equal(t.get('r1', 3), 4);
    assert.equal(t.get('r2', 3), undefined);
    assert.equal(t.size, 1);
    t.delete('r1');
    assert.equal(t.get('r1', 4), undefined);
    assert.equal(t.size, 0);
  });

  test('correlation affinity: bounded at max bindings; a new cid beyond is not bound and is counted; updates still work', () => {
    const { t, bind } = table(1_000, 2);
    assert.equal(bind('r1', 1, 0), true);
    assert.equal(bind('r2', 2, 0), true);
    assert.equal(bind('r3', 3, 0), false);
    assert.equal(bind('r4', 3, 0), false);
    assert.equal(t.rejections, 2);
    assert.equal(t.size, 2);
    assert.equal(t.get('r3', 0), undefined);
    assert.equal(bind('r1', 5, 0), true, 'an existing cid is updated even at capacity');
    assert.equal(t.rejections, 2);
    // A cid refused a binding still gets its turns.
    const e = t.enter('r3', 'a');
    assert.equal(e.current, 'a');
    t.enter('r3', 'b');
    assert.equal(t.leave('r3', e, 'a'), 'b');
  });

  test('correlation affinity: the TTL sweep removes bindings unused for ttlMs (a get renews) and counts evictions', () => {
    const { t, bind } = table(100, 10);
    bind('used', 1, 0);
    bind('idle', 2, 0);
    bind('young', 3, 60);
    assert.equal(t.get('used', 50), 1);
    assert.equal(t.sweep(100), 1, 'only the idle one has been unused for 100 ms');
    assert.equal(t.get('idle', 100), undefined);
    assert.equal(t.get('used', 100), 1);
    assert.equal(t.sweep(160), 1, 'young is 100 ms old now; used was renewed at 100');
    assert.equal(t.evictions, 2);
    assert.equal(t.size, 1);
  });

  test('correlation affinity: a binding whose cid has a call live is not swept, however old', () => {
    const t = new CorrelationTable<string>(100, 10);
    const e = t.enter('slow', 'call');
    t.bind(e, 4, 0);
    assert.equal(t.sweep(10_000), 0);
    assert.equal(t.get('slow', 10_000), 4);
    t.leave('slow', e, 'call');
    assert.equal(t.sweep(20_000), 1, 'idle now, and unused for 10 s');
    assert.equal(t.size, 0);
  });

  test('correlation affinity: dropConnection removes every binding to that connection only; a live call keeps its turn', () => {
    const { t, bind } = table(1_000, 10);
    bind('r1', 1, 0);
    bind('r2', 2, 0);
    bind('r3', 1, 0);
    const live = t.enter('r4', 'first');
    t.bind(live, 1, 0);
    t.dropConnection(1);
    assert.equal(t.size, 1);
    assert.equal(t.get('r2', 0), 2);
    assert.equal(t.get('r4', 0), undefined);
    t.enter('r4', 'second');
    assert.equal(t.leave('r4', live, 'first'), 'second', 'the turn survived the binding');
  });
});

describe('CorrelationTable: turns (spec §10.2)', () => {
  test('one call of a cid at a time: later ones wait in order; one that ends while waiting just leaves the line', () => {
    const t = new CorrelationTable<string>(1_000, 10);
    const e = t.enter('r', 'a');
    assert.equal(e.current, 'a');
    assert.equal(t.enter('r', 'b'), e);
    t.enter('r', 'c');
    t.enter('r', 'd');
    assert.equal(e.current, 'a', 'the first keeps the turn');
    assert.deepEqual(e.waiting, ['b', 'c', 'd']);
    assert.equal(t.leave('r', e, 'c'), undefined, 'c timed out while waiting');
    assert.deepEqual(e.waiting, ['b', 'd']);
    assert.equal(t.leave('r', e, 'a'), 'b');
    assert.equal(t.leave('r', e, 'b'), 'd');
    assert.equal(t.leave('r', e, 'd'), undefined);
    assert.equal(e.current, undefined);
    // Unbound and idle, the entry is gone: the next call of the cid starts a new one.
    const again = t.enter('r', 'x');
    assert.notEqual(again, e);
    assert.equal(again.current, 'x');
  });

  test('turns are per cid, and an ended request keeps the turn of a call still live', () => {
    const t = new CorrelationTable<string>(1_000, 10);
    const r1 = t.enter('r1', 'a');
    const r2 = t.enter('r2', 'b');
    assert.equal(r2.current, 'b', 'another cid does not wait');
    t.bind(r1, 7, 0);
    t.delete('r1');
    assert.equal(t.size, 0, 'the binding went');
    assert.equal(t.enter('r1', 'c'), r1, 'the entry stays while a is live');
    assert.equal(t.leave('r1', r1, 'a'), 'c');
  });
});
