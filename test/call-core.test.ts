// The call core both pool connections stand on (framed and gRPC): every call settles exactly once,
// whatever races it — a reply against its deadline, an abort against a reply, the connection
// closing with calls outstanding, completions that re-enter the connection. Driven through a
// transport that only records what it is asked to put on the wire; timers are node:test's mock
// timers, so each race is run in both orders, deterministically.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import fc from 'fast-check';
import { CallCore, type Call, type CallOptions } from '../src/connection/call-core.js';
import { connectionLost } from '../src/connection/connection-errors.js';
import { allowResponse } from '../src/protocol/agent-response.js';
import { AgentPoolError, ErrorCode } from '../src/protocol/errors.js';
import type { AgentResponse, CancelReason } from '../src/protocol/types.js';

const ALLOW = allowResponse();

/**
 * A transport that takes every frame at once (`room` false: holds them) and logs the wire. Like
 * the real ones, it puts nothing on the wire once shut (a closed writer or stream drops it).
 */
class WireLog extends CallCore<true> {
  readonly wire: string[] = [];
  room = true;
  private readonly roomless: Call<true>[] = [];

  constructor() {
    super('core-agent', 1_000);
  }

  /** The agent answers `replyId`, as a transport reports a decoded reply (it can answer only what it got). */
  reply(replyId: string): void {
    const call = this.calls.byReplyId(replyId);
    if (call === undefined) this.emit('late-reply', replyId);
    else if (call.sent === true) this.settle(call, ALLOW, undefined);
  }

  /** Outstanding calls whose frame was not handed over (with room, there must be none). */
  unsent(): number {
    return this.calls.all().filter((call) => this.calls.isOutstanding(call) && call.sent !== true).length;
  }

  /** The socket or stream goes away. */
  lose(): void {
    this.fail(connectionLost(this.agentId, 'test transport lost'));
  }

  /** Room again: hand over held frames whose calls are still outstanding. */
  flush(): void {
    this.room = true;
    for (const call of this.roomless.splice(0)) if (this.calls.isOutstanding(call)) this.take(call);
  }

  protected write(call: Call<true>): void {
    if (this.room) this.take(call);
    else this.roomless.push(call);
  }
  protected withdrawOrCancel(call: Call<true>, reason: CancelReason | null): void {
    if (call.sent === true && reason !== null && !this.closed) this.wire.push(`cancel ${call.cid} ${reason}`);
  }
  protected writePing(sequence: number): void {
    if (!this.closed) this.wire.push(`ping ${sequence}`);
  }
  protected shutDown(): void {
    this.wire.push('shut');
    this.roomless.length = 0;
  }
  private take(call: Call<true>): void {
    call.sent = true;
    this.wire.push(`event ${call.cid}`);
  }
}

interface Outcome {
  error: unknown;
  response: AgentResponse | undefined;
}

/** Calls by token; each completion is recorded, so a second one shows. */
class Completions {
  readonly byToken = new Map<number, Outcome[]>();
  onDone: ((token: number) => void) | undefined;
  readonly done = (token: number, error: unknown, response: AgentResponse | undefined): void => {
    const list = this.byToken.get(token) ?? [];
    list.push({ error, response });
    this.byToken.set(token, list);
    this.onDone?.(token);
  };
  start(c: WireLog, token: number, cid: string, options: CallOptions = {}): void {
    c.sendFrameWith(Buffer.from(cid), cid, options, token, this.done);
  }
  /** The one outcome of `token`; fails if it settled never or twice. */
  only(token: number): Outcome {
    const list = this.byToken.get(token) ?? [];
    assert.equal(list.length, 1, `call ${token} settled ${list.length} times`);
    return list[0] as Outcome;
  }
}

function code(outcome: Outcome): string | undefined {
  return outcome.error instanceof AgentPoolError ? outcome.error.code : undefined;
}

describe('call core: exactly-once settlement', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('a reply racing a timeout: the reply first wins, the deadline is disarmed, no Cancel goes out', () => {
    const c = new WireLog();
    const k = new Completions();
    k.start(c, 1, 'a', { timeoutMs: 50 });
    c.reply('a');
    mock.timers.tick(50);
    assert.equal(k.only(1).response, ALLOW);
    assert.deepEqual(c.wire, ['event a']);
    assert.equal(c.inFlight, 0);
  });

  test('a reply racing a timeout: the deadline first wins with ZAP_TIMEOUT and a Cancel; the reply is late', () => {
    const c = new WireLog();
    const k = new Completions();
    const late: string[] = [];
    c.on('late-reply', (cid) => late.push(cid));
    k.start(c, 1, 'a', { timeoutMs: 50 });
    // The reply lands inside the timeout's own completion: re-entry must not settle it again.
    k.onDone = () => c.reply('a');
    mock.timers.tick(50);
    const outcome = k.only(1);
    assert.equal(code(outcome), ErrorCode.Timeout);
    assert.equal((outcome.error as AgentPoolError).correlationId, 'a');
    assert.deepEqual(c.wire, ['event a', 'cancel a timeout']);
    assert.deepEqual(late, ['a']);
  });

  test('an abort racing a reply: the abort first wins with ABORT_ERR and a Cancel of its reason; the reply is late', () => {
    const c = new WireLog();
    const k = new Completions();
    const late: string[] = [];
    c.on('late-reply', (cid) => late.push(cid));
    const ac = new AbortController();
    k.start(c, 1, 'a', { signal: ac.signal, timeoutMs: 50 });
    ac.abort('blocked_by_agent');
    c.reply('a');
    mock.timers.tick(50);
    const outcome = k.only(1);
    assert.equal(code(outcome), ErrorCode.Abort);
    assert.deepEqual(c.wire, ['event a', 'cancel a blocked_by_agent']);
    assert.deepEqual(late, ['a']);
  });

  test('an abort racing a reply: the reply first wins; an abort inside its completion changes nothing', () => {
    const c = new WireLog();
    const k = new Completions();
    const ac = new AbortController();
    k.start(c, 1, 'a', { signal: ac.signal });
    k.onDone = () => ac.abort('client_disconnect');
    c.reply('a');
    assert.equal(k.only(1).response, ALLOW);
    assert.deepEqual(c.wire, ['event a']);
  });

  test('a close with calls outstanding settles each once; re-entrant aborts, cancels and replies change nothing twice', () => {
    const c = new WireLog();
    const k = new Completions();
    const ac = new AbortController();
    k.start(c, 1, 'a', { timeoutMs: 50 });
    k.start(c, 2, 'a'); // waits for call 1 (one outstanding per cid)
    k.start(c, 3, 'b', { signal: ac.signal });
    c.room = false;
    k.start(c, 4, 'c'); // waits for room
    assert.equal(c.inFlight, 4);
    // The first completion re-enters: closes again, aborts, cancels, replies, ticks the deadline.
    k.onDone = (token) => {
      if (token !== 1) return;
      c.close();
      ac.abort();
      c.cancel('c');
      c.reply('b');
      mock.timers.tick(50);
    };
    c.lose();
    // 1 and the call waiting behind it fail with the loss; 3 and 4 were aborted and cancelled by
    // the re-entry before the close reached them. The waiting call 2 is never written.
    assert.equal(code(k.only(1)), ErrorCode.ConnectionLost);
    assert.equal(code(k.only(2)), ErrorCode.ConnectionLost);
    assert.equal((k.only(2).error as AgentPoolError).correlationId, 'a');
    assert.equal(code(k.only(3)), ErrorCode.Abort);
    assert.equal(code(k.only(4)), ErrorCode.Abort);
    assert.deepEqual(c.wire, ['event a', 'event b', 'shut']);
    assert.equal(c.inFlight, 0);
  });

  test('a call after the close completes at once with the close reason, and only once', () => {
    const c = new WireLog();
    const k = new Completions();
    c.lose();
    k.start(c, 1, 'a');
    assert.equal(code(k.only(1)), ErrorCode.ConnectionLost);
    assert.equal((k.only(1).error as AgentPoolError).correlationId, 'a');
  });

  test('random interleavings of replies, deadlines, aborts, cancels, room and close: every call settles exactly once', () => {
    type Step =
      | { op: 'start'; cid: number; timeoutMs: number | null; abortable: boolean }
      | { op: 'reply'; cid: number }
      | { op: 'tick'; ms: number }
      | { op: 'abort'; nth: number }
      | { op: 'cancel'; cid: number; silent: boolean }
      | { op: 'room'; on: boolean }
      | { op: 'close' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        op: fc.constant('start' as const),
        cid: fc.nat(2),
        timeoutMs: fc.option(fc.integer({ min: 1, max: 40 })),
        abortable: fc.boolean(),
      }),
      fc.record({ op: fc.constant('reply' as const), cid: fc.nat(3) }),
      fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ op: fc.constant('abort' as const), nth: fc.nat(20) }),
      fc.record({ op: fc.constant('cancel' as const), cid: fc.nat(2), silent: fc.boolean() }),
      fc.record({ op: fc.constant('room' as const), on: fc.boolean() }),
      fc.constant({ op: 'close' as const }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        mock.timers.reset();
        mock.timers.enable({ apis: ['setTimeout'] });
        const c = new WireLog();
        const k = new Completions();
        const controllers: AbortController[] = [];
        let started = 0;
        for (const s of steps) {
          if (s.op === 'start') {
            const ac = s.abortable ? new AbortController() : undefined;
            if (ac !== undefined) controllers.push(ac);
            const options: CallOptions = { timeoutMs: s.timeoutMs ?? Infinity };
            if (ac !== undefined) options.signal = ac.signal;
            k.start(c, ++started, `cid-${s.cid}`, options);
          } else if (s.op === 'reply') c.reply(`cid-${s.cid}`);
          else if (s.op === 'tick') mock.timers.tick(s.ms);
          else if (s.op === 'abort') controllers[s.nth % Math.max(1, controllers.length)]?.abort();
          else if (s.op === 'cancel') c.cancel(`cid-${s.cid}`, 'manual', s.silent);
          else if (s.op === 'room') {
            if (s.on) c.flush();
            else c.room = false;
          } else c.close();
          // Settled calls leave the table at once: what is left is exactly what has not completed.
          assert.equal(c.inFlight, started - k.byToken.size);
          // A call whose turn came (first of its cid, or the next after one settled) is written.
          if (c.room && !c.closed) assert.equal(c.unsent(), 0);
        }
        c.close();
        mock.timers.tick(100);
        for (const ac of controllers) ac.abort();
        for (let token = 1; token <= started; token++) k.only(token);
        assert.equal(c.inFlight, 0);
        // Nothing goes on the wire after the close, and a Cancel only follows its own event.
        const shut = c.wire.indexOf('shut');
        assert.equal(shut, c.wire.length - 1);
        for (const [i, line] of c.wire.entries()) {
          if (!line.startsWith('cancel ')) continue;
          const cid = line.split(' ')[1] as string;
          assert.ok(c.wire.slice(0, i).includes(`event ${cid}`), `Cancel of ${cid} without its event`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
