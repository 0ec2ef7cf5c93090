// The router's call-deadline heap (src/pool/deadline-queue.ts) on its own: many deadlines expire in
// deadline order, removed (settled) and moved entries are skipped, equal deadlines each expire
// once, nothing expires before its time, and the lazy sweep keeps the heap bounded without reading
// an item.
// Deadlines already in the past expire in one timer run, in heap-pop order: the order checks below
// test the heap itself, with no timing in them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeadlineQueue } from '../src/pool/deadline-queue.js';

interface Item {
  id: number;
  deadline: number;
  done: boolean;
}

/** A deterministic RNG (mulberry32), so a failing order can be reproduced. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A queue that records expiries; `expired(n)` resolves once n items have expired (bounded). Items
 * are found by id as the router finds its calls, without reading them; `counts.deadlineReads` counts
 * the reads of an item's deadline that the queue made itself while a push ran (a sweep).
 */
function recordingQueue(live: () => number = () => 0) {
  const expired: Item[] = [];
  const byId = new Map<number, Item>();
  const counts = { deadlineReads: 0 };
  let pushing = false;
  let want = Infinity;
  let wake: (() => void) | undefined;
  const inner = new DeadlineQueue<Item>(
    (item) => {
      item.done = true;
      expired.push(item);
      if (expired.length >= want) wake?.();
    },
    (id) => {
      const it = byId.get(id);
      return it === undefined || it.done ? undefined : it;
    },
    live,
  );
  const queue = {
    push(it: Item): void {
      byId.set(it.id, it);
      const at = it.deadline;
      pushing = true;
      try {
        inner.push(it.id, at);
      } finally {
        pushing = false;
      }
    },
    clear: () => inner.clear(),
    get size() {
      return inner.size;
    },
    get capacity() {
      return inner.capacity;
    },
  };
  /** `it`, its deadline reads while a push runs counted. */
  function watched(it: Item): Item {
    return new Proxy(it, {
      get(target, key, receiver) {
        if (key === 'deadline' && pushing) counts.deadlineReads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  }
  async function until(n: number, boundMs = 5_000): Promise<Item[]> {
    if (expired.length < n) {
      want = n;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${expired.length} of ${n} expired within ${boundMs} ms`)), boundMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return expired;
  }
  return { queue, expired, until, counts, watched };
}

function item(id: number, deadline: number): Item {
  return { id, deadline, done: false };
}

function assertExpiryOrder(items: readonly Item[]): void {
  for (let i = 1; i < items.length; i++) {
    const a = items[i - 1] as Item;
    const b = items[i] as Item;
    assert.ok(a.deadline <= b.deadline, `expiry ${i}: ${b.id} (deadline ${b.deadline}) came after ${a.id} (deadline ${a.deadline})`);
  }
}

describe('DeadlineQueue', () => {
  test('deadline heap order: 1 000 random deadlines expire in deadline order, each once', async () => {
    const random = seeded(12);
    const { queue, until } = recordingQueue(() => 1_000);
    const base = performance.now() - 10_000;
    const items = Array.from({ length: 1_000 }, (_, i) => item(i, base + random() * 5_000));
    for (const it of items) queue.push(it);
    const expired = await until(1_000);
    assert.equal(expired.length, 1_000);
    assert.equal(new Set(expired.map((e) => e.id)).size, 1_000, 'each item expired once');
    assertExpiryOrder(expired);
    assert.equal(queue.size, 0);
    queue.clear();
  });

  test('deadline heap order: items settled or moved in the middle are skipped; a moved one expires at its new deadline', async () => {
    const random = seeded(34);
    const { queue, until } = recordingQueue(() => 1_000);
    const base = performance.now() - 10_000;
    const items = Array.from({ length: 1_000 }, (_, i) => item(i, base + random() * 5_000));
    for (const it of items) queue.push(it);
    // every third one settles before its deadline; every fifth still live one moves (re-pushed)
    const removed = new Set<number>();
    for (const it of items) {
      if (it.id % 3 === 0) {
        it.done = true;
        removed.add(it.id);
      } else if (it.id % 5 === 0) {
        it.deadline = base + 5_000 + random() * 1_000;
        queue.push(it);
      }
    }
    const live = items.filter((it) => !removed.has(it.id));
    const expired = await until(live.length);
    assert.equal(expired.length, live.length);
    assert.deepEqual(
      expired.map((e) => e.id).sort((a, b) => a - b),
      live.map((e) => e.id),
    );
    assertExpiryOrder(expired);
    // the moved ones all come last: their new deadlines lie after every original one
    const moved = expired.filter((e) => e.id % 5 === 0);
    assert.deepEqual(expired.slice(-moved.length), moved);
    assert.equal(queue.size, 0, 'stale entries are popped, not kept');
    queue.clear();
  });

  test('deadline heap order: a sweep of out-of-order entries leaves a heap that still expires in deadline order', async () => {
    const random = seeded(56);
    let liveNow = 0;
    const { queue, until } = recordingQueue(() => liveNow);
    const base = performance.now() - 10_000;
    const live: Item[] = [];
    // Random deadlines (the heap array is not sorted), three of every four settled right after their
    // push: settled entries soon outnumber the live ones, so pushes sweep a heap that needs the sort.
    for (let i = 0; i < 2_000; i++) {
      const it = item(i, base + random() * 5_000);
      queue.push(it);
      if (i % 4 === 0) {
        live.push(it);
        liveNow++;
      } else it.done = true;
    }
    assert.ok(queue.size < 2_000, `swept (size ${queue.size})`);
    const expired = await until(live.length);
    assert.deepEqual(
      expired.map((e) => e.id).sort((a, b) => a - b),
      live.map((e) => e.id),
    );
    assertExpiryOrder(expired);
    queue.clear();
  });

  test('deadline heap order: equal deadlines all expire, each exactly once, around earlier and later ones', async () => {
    const { queue, until } = recordingQueue(() => 300);
    const base = performance.now() - 1_000;
    const items: Item[] = [];
    for (let i = 0; i < 300; i++) items.push(item(i, base + (i % 3) * 100)); // three groups of 100 equal deadlines
    for (const it of items) queue.push(it);
    const expired = await until(300);
    assert.equal(new Set(expired.map((e) => e.id)).size, 300);
    assert.deepEqual(
      expired.map((e) => e.deadline - base),
      [...Array(100).fill(0), ...Array(100).fill(100), ...Array(100).fill(200)],
    );
    queue.clear();
  });

  test('deadline heap: a future deadline does not expire with the past ones, and does expire at its time', async () => {
    const { queue, expired, until } = recordingQueue(() => 3);
    const now = performance.now();
    const later = item(1, now + 150);
    queue.push(later);
    queue.push(item(2, now - 5));
    queue.push(item(3, now - 10));
    const first = await until(2);
    assert.deepEqual(
      first.map((e) => e.id),
      [3, 2],
    );
    assert.equal(later.done, false, 'not due yet');
    await until(3);
    assert.equal(expired[2], later);
    assert.ok(performance.now() >= later.deadline - 0.5, 'not expired early');
    queue.clear();
  });

  test('deadline heap: clear() forgets every entry and disarms the timer', async () => {
    const { queue, expired, until } = recordingQueue(() => 1);
    const now = performance.now();
    queue.push(item(1, now + 20));
    queue.clear();
    assert.equal(queue.size, 0);
    // the positive marker: an entry pushed after the clear expires, alone
    queue.push(item(2, now + 40));
    await until(1);
    assert.deepEqual(
      expired.map((e) => e.id),
      [2],
    );
    queue.clear();
  });

  test('deadline heap memory: settled entries are swept once they outnumber the live calls, without reading one', () => {
    let liveNow = 0;
    const { queue, counts, watched } = recordingQueue(() => liveNow);
    const far = performance.now() + 3_600_000;
    const held: Item[] = [];
    for (let i = 0; i < 10_000; i++) {
      const it = watched(item(i, far + i));
      queue.push(it);
      held.push(it);
      // only the last 10 pushed are live: the rest settled
      liveNow = 10;
      if (i >= 10) (held[i - 10] as Item).done = true;
      assert.ok(queue.size <= 3 * liveNow + 64 + 1, `size ${queue.size} after ${i + 1} pushes`);
    }
    assert.equal(counts.deadlineReads, 0, 'the sweeps read no item: only whether its id is live');
    queue.clear();
  });

  test('deadline heap memory: after a burst settles, its arrays shrink back', () => {
    let liveNow = 0;
    const { queue } = recordingQueue(() => liveNow);
    const far = performance.now() + 3_600_000;
    const burst = Array.from({ length: 20_000 }, (_, i) => item(i, far + i));
    for (const it of burst) {
      liveNow++;
      queue.push(it);
    }
    const grown = queue.capacity;
    assert.ok(grown >= 20_000, `capacity ${grown} holds the burst`);
    for (const it of burst) it.done = true;
    liveNow = 0;
    for (let i = 0; i < 200; i++) queue.push(item(20_000 + i, far + 20_000 + i));
    assert.ok(queue.capacity <= 1_024, `capacity ${queue.capacity} after the burst settled (was ${grown})`);
    queue.clear();
  });
});
