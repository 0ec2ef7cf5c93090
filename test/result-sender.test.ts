// When a connection host's results leave for the router (src/contract/result-sender.ts), with the
// turns driven by hand: at once when nothing else is outstanding, at the end of the turn under load,
// one turn later when a turn gathered many, and never in the middle of a send batch.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allowResponse } from '../src/protocol/agent-response.js';
import { readResultBatch, type ResultBatch } from '../src/contract/result-batch.js';
import { HOLD_FROM, ResultSender } from '../src/contract/result-sender.js';

/** A sender whose turns end only when the test says so; each message is the request ids it carried. */
function harness(): { sender: ResultSender; messages: number[][]; endTurn: () => void; pending: { n: number } } {
  const messages: number[][] = [];
  const queued: Array<() => void> = [];
  const pending = { n: 0 };
  const post = (batch: ResultBatch) => {
    const ids: number[] = [];
    readResultBatch(
      batch,
      (item) => ids.push(item[0]),
      () => undefined,
    );
    messages.push(ids);
  };
  const sender = new ResultSender(
    post,
    () => pending.n,
    (fn) => queued.push(fn),
  );
  const endTurn = () => {
    for (const fn of queued.splice(0)) fn();
  };
  return { sender, messages, endTurn, pending };
}

/** `n` results with ids from `first`, each one call fewer outstanding, down to `left` when the last arrives. */
function answer(h: ReturnType<typeof harness>, first: number, n: number, left: number): void {
  for (let i = 0; i < n; i++) {
    h.pending.n = left + (n - 1 - i);
    h.sender.result([first + i, allowResponse()]);
  }
}

describe('ResultSender', () => {
  test('a result with nothing else outstanding goes at once, one message each', () => {
    const h = harness();
    answer(h, 1, 1, 0);
    answer(h, 2, 1, 0);
    assert.deepEqual(h.messages, [[1], [2]]);
  });

  test('under load the results of a turn go together at its end', () => {
    const h = harness();
    answer(h, 1, 5, 3);
    assert.equal(h.messages.length, 0, 'nothing before the turn ends');
    h.endTurn();
    assert.deepEqual(h.messages, [[1, 2, 3, 4, 5]]);
  });

  test(`a turn that gathered ${HOLD_FROM} or more waits one more turn and goes with the next one's results`, () => {
    const h = harness();
    answer(h, 1, HOLD_FROM, 10);
    h.endTurn();
    assert.equal(h.messages.length, 0, 'held one turn');
    answer(h, 100, 3, 7);
    h.endTurn();
    assert.equal(h.messages.length, 1);
    assert.equal(h.messages[0]?.length, HOLD_FROM + 3, 'both turns in one message');
    // A small turn is not held; the next large one is, again.
    answer(h, 200, HOLD_FROM - 1, 5);
    h.endTurn();
    assert.equal(h.messages.length, 2, `${HOLD_FROM - 1} results are not held`);
    answer(h, 300, HOLD_FROM, 5);
    h.endTurn();
    assert.equal(h.messages.length, 2, 'a later large turn waits too');
    h.endTurn();
    assert.equal(h.messages.length, 3);
  });

  test('a large turn whose calls are all answered goes at once instead of waiting', () => {
    const h = harness();
    answer(h, 1, HOLD_FROM, 1);
    h.pending.n = 0;
    h.endTurn();
    assert.equal(h.messages.length, 1, 'nothing left outstanding: no reason to hold');
    assert.equal(h.messages[0]?.length, HOLD_FROM);
  });

  test('results produced while a send batch is read leave after it: at once when nothing is outstanding, else at the turn end', () => {
    const h = harness();
    h.sender.whileReading(() => {
      answer(h, 1, 3, 0);
      assert.equal(h.messages.length, 0, 'not in the middle of the batch');
    });
    assert.deepEqual(h.messages, [[1, 2, 3]]);
    h.sender.whileReading(() => answer(h, 4, 2, 1));
    assert.equal(h.messages.length, 1, 'one call still outstanding: the turn end sends');
    h.endTurn();
    assert.deepEqual(h.messages[1], [4, 5]);
  });

  test('a send batch that throws still ends the reading state', () => {
    const h = harness();
    assert.throws(() =>
      h.sender.whileReading(() => {
        throw new Error('corrupt');
      }),
    );
    answer(h, 1, 1, 0);
    assert.deepEqual(h.messages, [[1]]);
  });
});
