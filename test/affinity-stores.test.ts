// The two binding stores the chooser consults before the picker (spec §10.4), on their own with an
// explicit clock: sticky sessions (idle expiry on lookup and by sweep) and correlation affinity
// (bounded, counted rejections, TTL sweep counted as evictions).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CorrelationAffinity } from '../src/pool/correlation-affinity.js';
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

describe('CorrelationAffinity', () => {
  test('correlation affinity: set then get returns the connection; set on an existing cid moves it', () => {
    const a = new CorrelationAffinity(1_000, 10);
    assert.equal(a.set('r1', 3, 0), true);
    assert.equal(a.get('r1', 1), 3);
    assert.equal(a.set('r1', 4, 2), true);
    assert.equal(a.get('r1', 3), 4);
    assert.equal(a.get('r2', 3), undefined);
    a.delete('r1');
    assert.equal(a.get('r1', 4), undefined);
    assert.equal(a.size, 0);
  });

  test('correlation affinity: bounded at max entries; a new cid beyond is not stored and is counted; updates still work', () => {
    const a = new CorrelationAffinity(1_000, 2);
    assert.equal(a.set('r1', 1, 0), true);
    assert.equal(a.set('r2', 2, 0), true);
    assert.equal(a.set('r3', 3, 0), false);
    assert.equal(a.set('r4', 3, 0), false);
    assert.equal(a.rejections, 2);
    assert.equal(a.size, 2);
    assert.equal(a.get('r3', 0), undefined);
    assert.equal(a.set('r1', 5, 0), true, 'an existing cid is updated even at capacity');
    assert.equal(a.rejections, 2);
  });

  test('correlation affinity: the TTL sweep removes entries unused for ttlMs (a get renews) and counts evictions', () => {
    const a = new CorrelationAffinity(100, 10);
    a.set('used', 1, 0);
    a.set('idle', 2, 0);
    a.set('young', 3, 60);
    assert.equal(a.get('used', 50), 1);
    assert.equal(a.sweep(100), 1, 'only the idle one has been unused for 100 ms');
    assert.equal(a.get('idle', 100), undefined);
    assert.equal(a.get('used', 100), 1);
    assert.equal(a.sweep(160), 1, 'young is 100 ms old now; used was renewed at 100');
    assert.equal(a.evictions, 2);
    assert.equal(a.size, 1);
  });

  test('correlation affinity: dropConnection removes every binding to that connection only', () => {
    const a = new CorrelationAffinity(1_000, 10);
    a.set('r1', 1, 0);
    a.set('r2', 2, 0);
    a.set('r3', 1, 0);
    a.dropConnection(1);
    assert.equal(a.size, 1);
    assert.equal(a.get('r2', 0), 2);
  });
});
