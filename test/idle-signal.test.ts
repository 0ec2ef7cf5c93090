// IdleSignal (drain without polling): a waiter resolves when the owner's count reaches 0 and the
// owner calls notify(), or resolves false at its timeout; CallTable.whenEmpty() is the connection's use.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IdleSignal } from '../src/connection/idle-signal.js';
import { CallTable } from '../src/connection/call-table.js';

describe('IdleSignal', () => {
  test('whenIdle resolves true at notify(), for every waiter, and only then', async () => {
    const idle = new IdleSignal();
    let settled = 0;
    const a = idle.whenIdle().then((v) => (settled++, v));
    const b = idle.whenIdle(60_000).then((v) => (settled++, v));
    assert.equal(idle.waiting, true);
    await Promise.resolve();
    assert.equal(settled, 0, 'nothing resolves before notify()');
    idle.notify();
    assert.deepEqual(await Promise.all([a, b]), [true, true]);
    assert.equal(idle.waiting, false, 'notify() releases its waiters');
  });

  test('whenIdle resolves false at its timeout and is forgotten (a later notify() finds nobody)', async () => {
    const idle = new IdleSignal();
    assert.equal(await idle.whenIdle(20), false);
    assert.equal(idle.waiting, false, 'a timed-out waiter is removed');
    idle.notify();
  });

  test('a zero timeout resolves false at once (destroy(): no drain at all)', async () => {
    const idle = new IdleSignal();
    assert.equal(await idle.whenIdle(0), false);
    assert.equal(idle.waiting, false);
  });

  test('notify() with no waiter is a no-op; a waiter added afterwards waits for the next one', async () => {
    const idle = new IdleSignal();
    idle.notify();
    const later = idle.whenIdle(2_000);
    idle.notify();
    assert.equal(await later, true);
  });
});

describe('CallTable.whenEmpty', () => {
  const call = (cid: string, replyId = cid) => ({ cid, replyId });

  test('resolves at once when empty, and when the last call is removed', async () => {
    const table = new CallTable<ReturnType<typeof call>>();
    assert.equal(await table.whenEmpty(), true);
    const a = call('a');
    table.add(a);
    let done = false;
    const empty = table.whenEmpty().then((v) => ((done = true), v));
    await Promise.resolve();
    assert.equal(done, false);
    table.remove(a);
    assert.equal(await empty, true);
  });

  test('drain idle signal: a call of the same id waiting its turn keeps the table busy', async () => {
    const table = new CallTable<ReturnType<typeof call>>();
    const first = call('x');
    const second = call('x');
    assert.equal(table.add(first), true);
    assert.equal(table.add(second), false);
    let done = false;
    const empty = table.whenEmpty().then((v) => ((done = true), v));
    // Removing the outstanding one hands back the waiting one, about to be promoted: not idle yet.
    const next = table.remove(first);
    assert.equal(next, second);
    table.promote(second);
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'not idle while the promoted call is outstanding');
    table.remove(second);
    assert.equal(await empty, true);
  });

  test('removing a waiting (never sent) call that empties the table resolves too', async () => {
    const table = new CallTable<ReturnType<typeof call>>();
    const first = call('y');
    const second = call('y');
    table.add(first);
    table.add(second);
    const empty = table.whenEmpty();
    table.remove(second); // withdrawn before its turn
    table.remove(first);
    assert.equal(await empty, true);
  });
});
