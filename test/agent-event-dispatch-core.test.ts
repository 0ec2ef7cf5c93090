// The agent-side dispatch core shared by AgentConnection (UDS, reverse) and GrpcAgentStream: replies
// as each handler finishes, Cancel racing a reply, handler failures, close. The reply port is the
// real JSON codec writing into an array (the transports' own I/O is covered by their tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { codecFor } from '../src/protocol/payload-codec.js';
import type { AgentResponse, CancelMessage } from '../src/protocol/types.js';
import { EventDispatchCore, type ReplyPort } from '../src/agent/event-dispatch-core.js';
import type { EventDispatcher } from '../src/agent/event-runner.js';
import type { HandlerContext, HandlerResult, Reply } from '../src/agent/handler.js';
import { block } from '../src/agent/reply.js';
import { requestHeaders } from './support/events.js';

const codec = codecFor('json');

interface Written {
  cid: string;
  decision: unknown;
}

interface Rig {
  core: EventDispatchCore<Buffer>;
  written: Written[];
  handlerErrors: Array<{ err: unknown; cid: string }>;
  settled: number;
}

function rig(dispatcher: EventDispatcher): Rig {
  const r: Rig = { core: undefined as unknown as EventDispatchCore<Buffer>, written: [], handlerErrors: [], settled: 0 };
  const port: ReplyPort<Buffer> = {
    encodeReply: (response: AgentResponse, cid: string) => codec.encodeResponse(response, cid),
    writeReply: (bytes) => {
      const wire = JSON.parse(bytes.toString('utf8')) as { correlation_id: string; decision: unknown };
      r.written.push({ cid: wire.correlation_id, decision: wire.decision });
    },
    settled: () => r.settled++,
  };
  r.core = new EventDispatchCore(
    { agentId: 'unit', transport: 'uds', dispatcher, onHandlerError: (err, cid) => r.handlerErrors.push({ err, cid }) },
    port,
  );
  return r;
}

/** A handler whose answers the test releases by cid; records each call's context. */
function gated(): { dispatcher: EventDispatcher; release: (cid: string, reply?: Reply) => void; ctx: Map<string, HandlerContext> } {
  const pending = new Map<string, (reply: Reply | void) => void>();
  const ctx = new Map<string, HandlerContext>();
  return {
    ctx,
    dispatcher: {
      dispatch: (_kind, _event, c): HandlerResult => {
        ctx.set(c.correlationId, c);
        return new Promise<Reply | void>((resolve) => pending.set(c.correlationId, resolve));
      },
    },
    release: (cid, reply) => {
      const resolve = pending.get(cid);
      assert.ok(resolve !== undefined, `no handler call pending for ${cid}`);
      pending.delete(cid);
      resolve(reply);
    },
  };
}

/** Lets every queued promise reaction run (a handler's settled promise reaches the core). */
const drainMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function cancel(cid: string): CancelMessage {
  return { correlationId: cid, reason: null, timestampMs: 1 };
}

const AGENT_ERROR = { block: { status: 500, body: 'Agent error', headers: null } };

test('dispatch core: replies go out as each handler finishes, out of order, one each', async () => {
  const h = gated();
  const r = rig(h.dispatcher);
  const { core, written } = r;
  for (const cid of ['a', 'b', 'c']) core.dispatch('request_headers', cid, requestHeaders(cid));
  assert.equal(core.inFlight, 3);
  h.release('c', block(403));
  h.release('a');
  await drainMicrotasks();
  h.release('b', block(401));
  await drainMicrotasks();
  assert.deepEqual(written, [
    { cid: 'c', decision: { block: { status: 403, body: null, headers: null } } },
    { cid: 'a', decision: 'allow' },
    { cid: 'b', decision: { block: { status: 401, body: null, headers: null } } },
  ]);
  assert.equal(core.inFlight, 0);
  assert.equal(r.settled, 3, 'the transport heard of every settled event');
  assert.deepEqual({ events: core.stats.events, replies: core.stats.replies }, { events: 3, replies: 3 });
});

test('dispatch core: a Cancel racing a reply leaves exactly one reply or none, never two', async () => {
  // A schedule of steps over up to 6 events; each event is released once and may be cancelled any
  // number of times, before or after its release, before or after the release reaches the core.
  const step = fc.oneof(
    fc.record({ op: fc.constant('release' as const), i: fc.nat(5) }),
    fc.record({ op: fc.constant('cancel' as const), i: fc.nat(5) }),
    fc.record({ op: fc.constant('drain' as const) }),
  );
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(step, { maxLength: 30 }), async (n, steps) => {
      const h = gated();
      const r = rig(h.dispatcher);
      const cids = Array.from({ length: n }, (_, i) => `e-${i}`);
      for (const cid of cids) r.core.dispatch('request_headers', cid, requestHeaders(cid));
      const released = new Set<string>();
      const landed = new Set<string>(); // released and drained: the core has seen the handler's answer
      const cancelledFirst = new Set<string>(); // a Cancel came before the answer reached the core
      const expectedOrder: string[] = [];
      let queued: string[] = [];
      const drain = async (): Promise<void> => {
        await drainMicrotasks();
        for (const cid of queued) {
          landed.add(cid);
          if (!cancelledFirst.has(cid)) expectedOrder.push(cid);
        }
        queued = [];
      };
      for (const s of steps) {
        if (s.op === 'drain') {
          await drain();
          continue;
        }
        const cid = cids[s.i % n]!;
        if (s.op === 'cancel') {
          if (!landed.has(cid)) cancelledFirst.add(cid);
          r.core.cancel(cancel(cid));
        } else if (!released.has(cid)) {
          released.add(cid);
          queued.push(cid);
          h.release(cid);
        }
      }
      for (const cid of cids) {
        if (!released.has(cid)) {
          released.add(cid);
          queued.push(cid);
          h.release(cid);
        }
      }
      await drain();
      assert.deepEqual(
        r.written.map((w) => w.cid),
        expectedOrder,
        'replies: uncancelled events, in the order they finished',
      );
      assert.equal(new Set(expectedOrder).size, expectedOrder.length, 'no cid answered twice');
      for (const cid of cids)
        assert.equal(h.ctx.get(cid)!.signal.aborted, cancelledFirst.has(cid), `${cid}: signal aborted iff cancelled in flight`);
      assert.equal(r.core.inFlight, 0);
      assert.equal(r.settled, n, 'every event settled once');
      assert.equal(r.core.stats.replies, expectedOrder.length);
    }),
    { numRuns: 200 },
  );
});

test('dispatch core: a Cancel after a synchronous answer finds nothing; the reply already went out', () => {
  const r = rig({ dispatch: () => block(403) });
  r.core.dispatch('request_headers', 's-1', requestHeaders('s-1'));
  r.core.cancel(cancel('s-1'));
  assert.deepEqual(
    r.written.map((w) => w.cid),
    ['s-1'],
  );
  assert.equal(r.core.stats.cancels, 1);
});

test('dispatch core: a handler that throws, rejects or returns an unsendable reply is answered Block 500 once', async () => {
  const dispatcher: EventDispatcher = {
    dispatch: (_kind, _event, ctx) => {
      if (ctx.correlationId === 'throws') throw new Error('boom');
      if (ctx.correlationId === 'rejects') return Promise.reject(new Error('async boom'));
      // JSON cannot write a BigInt: the reply fails at encoding, after the handler returned.
      return { audit: { custom: { n: 10n as unknown as string } } };
    },
  };
  const r = rig(dispatcher);
  for (const cid of ['throws', 'rejects', 'unsendable']) r.core.dispatch('request_headers', cid, requestHeaders(cid));
  await drainMicrotasks();
  assert.deepEqual(r.written.map((w) => w.cid).sort(), ['rejects', 'throws', 'unsendable']);
  for (const w of r.written) assert.deepEqual(w.decision, AGENT_ERROR, `${w.cid}: Block 500`);
  assert.deepEqual(r.handlerErrors.map((e) => e.cid).sort(), ['rejects', 'throws', 'unsendable']);
  assert.equal(r.core.stats.handlerErrors, 3);
  assert.equal(r.core.stats.replies, 3);
});

test('dispatch core: a throwing onCancel hook is reported, not thrown, and the call still gets no reply', async () => {
  const h = gated();
  const r = rig({
    ...h.dispatcher,
    cancel: () => {
      throw new Error('hook boom');
    },
  });
  r.core.dispatch('request_headers', 'c-1', requestHeaders('c-1'));
  assert.doesNotThrow(() => r.core.cancel(cancel('c-1')));
  h.release('c-1');
  await drainMicrotasks();
  assert.deepEqual(r.written, []);
  assert.deepEqual(
    r.handlerErrors.map((e) => e.cid),
    ['c-1'],
  );
});

test('dispatch core: close aborts every handler in flight and no reply goes out after it', async () => {
  const h = gated();
  const r = rig(h.dispatcher);
  for (const cid of ['x-1', 'x-2']) r.core.dispatch('request_headers', cid, requestHeaders(cid));
  r.core.close();
  assert.equal(r.core.inFlight, 0);
  assert.equal(h.ctx.get('x-1')!.signal.aborted, true);
  assert.equal(h.ctx.get('x-2')!.signal.reason, null);
  h.release('x-1');
  h.release('x-2');
  await drainMicrotasks();
  assert.deepEqual(r.written, []);
  assert.equal(r.settled, 2);
});

test('dispatch core: a cid reused while in flight keeps the newer call cancellable after the older one answers', async () => {
  const pending: Array<(reply: Reply | void) => void> = [];
  const signals: AbortSignal[] = [];
  const r = rig({
    dispatch: (_kind, _event, ctx) => {
      signals.push(ctx.signal);
      return new Promise<Reply | void>((resolve) => pending.push(resolve));
    },
  });
  r.core.dispatch('request_headers', 'dup', requestHeaders('dup'));
  r.core.dispatch('request_headers', 'dup', requestHeaders('dup'));
  pending[0]!();
  await drainMicrotasks();
  assert.deepEqual(
    r.written.map((w) => w.cid),
    ['dup'],
  );
  assert.equal(r.core.inFlight, 1, 'the newer call is still tracked');
  r.core.cancel(cancel('dup'));
  assert.equal(signals[1]!.aborted, true);
  pending[1]!();
  await drainMicrotasks();
  assert.equal(r.written.length, 1);
});
