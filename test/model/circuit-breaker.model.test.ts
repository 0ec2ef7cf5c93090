// Model tests of the circuit breaker (spec §10.10, GV-29): every edge of the machine graph against a
// tiny reference implementation of the table, the CircuitBreaker class against the same reference
// over random operation sequences, and the GV-29 trace step by step.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getAdjacencyMap } from 'xstate/graph';
import {
  circuitBreakerMachine,
  type CircuitBreakerConfig,
  type CircuitBreakerContext,
  type CircuitBreakerEvent,
} from '../../src/pool/circuit-breaker-machine.js';
import { CircuitBreaker, CircuitState, resolveCircuitBreakerConfig } from '../../src/pool/circuit-breaker.js';
import { AgentPoolError, ErrorCode } from '../../src/protocol/errors.js';

// ---------------------------------------------------------------------------------------------
// Reference: the §10.10 table written as plainly as possible.

interface Ref {
  state: 0 | 1 | 2;
  generation: number;
  failures: number;
  successes: number;
  probes: number;
  openedAt: number;
}

function refInitial(): Ref {
  return { state: 0, generation: 0, failures: 0, successes: 0, probes: 0, openedAt: 0 };
}

function enter(r: Ref, state: 0 | 1 | 2, now = r.openedAt): void {
  r.state = state;
  r.generation += 1;
  r.failures = 0;
  r.successes = 0;
  r.probes = 0;
  if (state === 1) r.openedAt = now;
}

/** Returns the admitted generation or null. */
function refAdmit(r: Ref, c: CircuitBreakerConfig, now: number): number | null {
  if (r.state === 1) {
    if (now - r.openedAt < c.openDurationMs) return null;
    enter(r, 2);
  }
  if (r.state === 2) {
    if (r.probes >= c.halfOpenMaxRequests) return null;
    r.probes += 1;
  }
  return r.generation;
}

function refSuccess(r: Ref, c: CircuitBreakerConfig, gen: number): void {
  if (gen !== r.generation) return;
  if (r.state === 0) r.failures = 0;
  else if (r.state === 2) {
    r.probes = Math.max(0, r.probes - 1);
    r.successes += 1;
    if (r.successes >= c.successThreshold) enter(r, 0);
  }
}

function refFailure(r: Ref, c: CircuitBreakerConfig, gen: number, now: number): void {
  if (gen !== r.generation) return;
  if (r.state === 0) {
    r.failures += 1;
    if (r.failures >= c.failureThreshold) enter(r, 1, now);
  } else if (r.state === 2) enter(r, 1, now);
}

function refNeutral(r: Ref, gen: number): void {
  if (gen === r.generation && r.state === 2) r.probes = Math.max(0, r.probes - 1);
}

/** Ours: a connection became ready or answered a ping; OPEN goes HALF_OPEN at once. */
function refReachable(r: Ref): void {
  if (r.state === 1) enter(r, 2);
}

function refStep(r: Ref, c: CircuitBreakerConfig, e: CircuitBreakerEvent): void {
  switch (e.type) {
    case 'ADMIT':
      refAdmit(r, c, e.now);
      return;
    case 'SUCCESS':
      return refSuccess(r, c, e.generation);
    case 'FAILURE':
      return refFailure(r, c, e.generation, e.now);
    case 'NEUTRAL':
      return refNeutral(r, e.generation);
    case 'RESET':
      return enter(r, 0);
    case 'AGENT_REACHABLE':
      return refReachable(r);
  }
}

// ---------------------------------------------------------------------------------------------
// Graph walk of the machine itself.

type Snap = { value: unknown; context: CircuitBreakerContext };

const CODE: Record<string, 0 | 1 | 2> = { closed: 0, open: 1, halfOpen: 2 };

function refOf(s: Snap): Ref {
  const { generation, failures, successes, probes, openedAt } = s.context;
  const state = CODE[String(s.value)];
  assert.ok(state !== undefined, `unknown state ${String(s.value)}`);
  return { state, generation, failures, successes, probes, openedAt };
}

/** Generation and clock are unbounded; the graph is over state + counters. */
function serialize(s: Snap): string {
  const c = s.context;
  return `${String(s.value)} f${c.failures} s${c.successes} p${c.probes}`;
}

/** Current and stale outcomes, and admissions just before / at the end of open_duration. */
function eventsFor(s: Snap): CircuitBreakerEvent[] {
  const c = s.context;
  const due = c.openedAt + c.config.openDurationMs;
  const later = due + 1_000;
  return [
    { type: 'ADMIT', now: due - 1 },
    { type: 'ADMIT', now: due },
    { type: 'SUCCESS', generation: c.generation },
    { type: 'SUCCESS', generation: c.generation - 1 },
    { type: 'FAILURE', generation: c.generation, now: later },
    { type: 'FAILURE', generation: c.generation - 1, now: later },
    { type: 'NEUTRAL', generation: c.generation },
    { type: 'NEUTRAL', generation: c.generation - 1 },
    { type: 'RESET' },
    { type: 'AGENT_REACHABLE' },
  ];
}

type Adjacency = Record<string, { state: Snap; transitions: Record<string, { event: CircuitBreakerEvent; state: Snap }> }>;

function walk(config: CircuitBreakerConfig): Adjacency {
  const options = { input: config, events: eventsFor, serializeState: serialize };
  return getAdjacencyMap(circuitBreakerMachine(), options as never) as unknown as Adjacency;
}

/**
 * Shortest event path from the initial state to every node, by BFS over the adjacency map. Each
 * step keeps its source node: the map's node snapshot is the one the step's event was built from
 * (xstate/graph's own path steps carry a representative snapshot whose generation may differ).
 */
function shortestPaths(adjacency: Adjacency, initial: string): Map<string, Array<{ from: Snap; event: CircuitBreakerEvent; to: string }>> {
  const paths = new Map<string, Array<{ from: Snap; event: CircuitBreakerEvent; to: string }>>([[initial, []]]);
  const queue = [initial];
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i] as string;
    const node = adjacency[key];
    assert.ok(node !== undefined, key);
    for (const { event, state } of Object.values(node.transitions)) {
      const to = serialize(state);
      if (paths.has(to)) continue;
      paths.set(to, [...(paths.get(key) ?? []), { from: node.state, event, to }]);
      queue.push(to);
    }
  }
  return paths;
}

/**
 * Replays a machine event, built from snapshot `from`, through the class's public API: generation
 * and clock are translated relative to `from` (current / stale generation, time since opened).
 */
function drive(b: CircuitBreaker, from: Snap, e: CircuitBreakerEvent): void {
  const gen = (g: number) => b.generation + (g - from.context.generation);
  const at = (now: number) => b.openedAt + (now - from.context.openedAt);
  switch (e.type) {
    case 'ADMIT':
      b.admit(at(e.now));
      return;
    case 'SUCCESS':
      return b.onSuccess(gen(e.generation));
    case 'FAILURE':
      return b.onFailure(gen(e.generation), at(e.now));
    case 'NEUTRAL':
      return b.onNeutral(gen(e.generation));
    case 'RESET':
      return b.reset();
    case 'AGENT_REACHABLE':
      return b.onAgentReachable();
  }
}

function classKey(b: CircuitBreaker): string {
  const name = ['closed', 'open', 'halfOpen'][b.state];
  return `${name} f${b.failures} s${b.successes} p${b.probes}`;
}

const GRAPH_CONFIGS: Array<[string, CircuitBreakerConfig]> = [
  ['defaults', resolveCircuitBreakerConfig()],
  ['3/2/1000 ms/2 probes', { failureThreshold: 3, successThreshold: 2, openDurationMs: 1_000, halfOpenMaxRequests: 2 }],
  ['1/1/10 ms/1 probe', { failureThreshold: 1, successThreshold: 1, openDurationMs: 10, halfOpenMaxRequests: 1 }],
];

describe('circuit breaker machine graph', () => {
  for (const [name, config] of GRAPH_CONFIGS) {
    test(`${name}: reachable states are exactly the §10.10 counter space`, () => {
      const adjacency = walk(config);
      const expected = new Set<string>();
      for (let f = 0; f < config.failureThreshold; f++) expected.add(`closed f${f} s0 p0`);
      expected.add('open f0 s0 p0');
      for (let s = 0; s < config.successThreshold; s++) {
        for (let p = 0; p <= config.halfOpenMaxRequests; p++) {
          // HALF_OPEN is entered by an admission, so p = 0 with s = 0 is only reached by releasing a probe.
          expected.add(`halfOpen f0 s${s} p${p}`);
        }
      }
      assert.deepEqual(new Set(Object.keys(adjacency)), expected);
    });

    test(`${name}: every edge matches the reference table`, () => {
      const adjacency = walk(config);
      let edges = 0;
      for (const node of Object.values(adjacency)) {
        for (const { event, state: next } of Object.values(node.transitions)) {
          const ref = refOf(node.state);
          refStep(ref, config, event);
          assert.deepEqual(refOf(next), ref, `${serialize(node.state)} --${JSON.stringify(event)}-->`);
          edges++;
        }
      }
      assert.ok(edges >= Object.keys(adjacency).length * 3, `only ${edges} edges walked`);
    });

    test(`${name}: shortest path to every state replays identically through CircuitBreaker`, () => {
      const adjacency = walk(config);
      const paths = shortestPaths(adjacency, 'closed f0 s0 p0');
      assert.equal(paths.size, Object.keys(adjacency).length);
      for (const [target, steps] of paths) {
        const b = new CircuitBreaker(config);
        for (const step of steps) {
          drive(b, step.from, step.event);
          assert.equal(classKey(b), step.to, `towards ${target}`);
        }
        assert.equal(classKey(b), target);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// CircuitBreaker against the reference over random operation sequences.

type Op =
  | { op: 'admit' }
  | { op: 'success' | 'failure' | 'neutral'; pick: number }
  | { op: 'stale'; kind: 'success' | 'failure' | 'neutral'; back: number }
  | { op: 'advance'; ms: number }
  /** Jump to just before / exactly at / just after the end of open_duration. */
  | { op: 'due'; delta: number }
  | { op: 'reset' }
  /** A connection became ready or answered a ping. */
  | { op: 'reachable' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Op>({ op: 'admit' }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('success' as const), pick: fc.nat(50) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('failure' as const), pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('neutral' as const), pick: fc.nat(50) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('stale' as const),
      kind: fc.constantFrom('success' as const, 'failure' as const, 'neutral' as const),
      back: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('due' as const), delta: fc.integer({ min: -1, max: 1 }) }) },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'reset' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'reachable' }) },
);

const configArb: fc.Arbitrary<CircuitBreakerConfig> = fc.record({
  failureThreshold: fc.integer({ min: 1, max: 5 }),
  successThreshold: fc.integer({ min: 1, max: 3 }),
  openDurationMs: fc.integer({ min: 1, max: 100 }),
  halfOpenMaxRequests: fc.integer({ min: 1, max: 3 }),
});

test('CircuitBreaker equals the reference table over random sequences', () => {
  // State changes seen over all runs, so the test fails if the generator stops reaching them.
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(configArb, fc.array(opArb, { minLength: 10, maxLength: 200, size: 'max' }), (config, ops) => {
      const ref = refInitial();
      const transitions: Array<[number, number]> = [];
      const b = new CircuitBreaker(config, { onStateChange: (s, prev) => transitions.push([prev, s]) });
      const refTransitions: Array<[number, number]> = [];
      // Calls admitted and not yet settled: their generation.
      const outstanding: number[] = [];
      let now = 1_000;
      for (const op of ops) {
        const before = ref.state;
        switch (op.op) {
          case 'admit': {
            const got = b.admit(now);
            const want = refAdmit(ref, config, now);
            assert.equal(got.admitted, want !== null);
            if (got.admitted && want !== null) {
              assert.equal(got.generation, want);
              outstanding.push(want);
            }
            break;
          }
          case 'success':
          case 'failure':
          case 'neutral': {
            if (outstanding.length === 0) break;
            const [gen] = outstanding.splice(op.pick % outstanding.length, 1) as [number];
            if (op.op === 'success') {
              b.onSuccess(gen);
              refSuccess(ref, config, gen);
            } else if (op.op === 'failure') {
              b.onFailure(gen, now);
              refFailure(ref, config, gen, now);
            } else {
              b.onNeutral(gen);
              refNeutral(ref, gen);
            }
            break;
          }
          case 'stale': {
            const gen = ref.generation - op.back;
            if (op.kind === 'success') b.onSuccess(gen);
            else if (op.kind === 'failure') b.onFailure(gen, now);
            else b.onNeutral(gen);
            break; // the reference ignores it by construction
          }
          case 'advance':
            now += op.ms;
            break;
          case 'due':
            now = Math.max(now, ref.openedAt + config.openDurationMs + op.delta);
            break;
          case 'reset':
            b.reset();
            enter(ref, 0);
            break;
          case 'reachable':
            b.onAgentReachable();
            refReachable(ref);
            break;
        }
        if (ref.state !== before) {
          refTransitions.push([before, ref.state]);
          seen.set(`${before}->${ref.state}`, (seen.get(`${before}->${ref.state}`) ?? 0) + 1);
        }
        assert.equal(b.state, ref.state);
        assert.equal(b.generation, ref.generation);
        assert.equal(b.failures, ref.failures);
        assert.equal(b.probes, ref.probes);
        assert.equal(b.successes, ref.successes);
      }
      assert.deepEqual(transitions, refTransitions);
    }),
    { numRuns: 400 },
  );
  for (const edge of ['0->1', '1->2', '2->0', '2->1', '1->0']) {
    assert.ok((seen.get(edge) ?? 0) >= 20, `transition ${edge} seen only ${seen.get(edge) ?? 0} times`);
  }
});

// ---------------------------------------------------------------------------------------------

/** Admits or fails the test; returns the generation. (assert.ok without a message parses the
 *  transformed source to build one, which can take minutes under tsx.) */
function mustAdmit(b: CircuitBreaker, now: number, what: string): number {
  const a = b.admit(now);
  if (!a.admitted) assert.fail(`${what}: rejected at ${now} in state ${b.state}`);
  return a.generation;
}

describe('GV-29 circuit breaker trace (defaults)', () => {
  test('open, reject, probe, close, reopen, stale outcome ignored', () => {
    const changes: string[] = [];
    const b = new CircuitBreaker({}, { onStateChange: (s, prev) => changes.push(`${prev}->${s}`) });
    let now = 1_000_000;

    // A call admitted in CLOSED that settles much later (the "late failure").
    const late = mustAdmit(b, now, 'late');

    // 5 consecutive failures → OPEN.
    for (let i = 0; i < 5; i++) {
      const a = mustAdmit(b, now, `call ${i} admitted while CLOSED`);
      assert.equal(b.state, CircuitState.Closed);
      b.onFailure(a, now);
    }
    assert.equal(b.state, CircuitState.Open);
    const openedAt = now;

    // Calls within the next 30 s are rejected (the pool does no I/O for them).
    for (const dt of [0, 1, 15_000, 29_999]) assert.deepEqual(b.admit(openedAt + dt), { admitted: false }, `at +${dt} ms`);
    assert.equal(b.state, CircuitState.Open);

    // The first call after 30 s is a probe; a second concurrent call is rejected.
    now = openedAt + 30_000;
    const probe1 = mustAdmit(b, now, 'probe1');
    assert.equal(b.state, CircuitState.HalfOpen);
    assert.deepEqual(b.admit(now), { admitted: false });

    // The late failure from the CLOSED generation is ignored entirely.
    b.onFailure(late, now);
    assert.equal(b.state, CircuitState.HalfOpen);
    assert.equal(b.probes, 1);

    // Two probe successes → CLOSED.
    b.onSuccess(probe1);
    assert.equal(b.state, CircuitState.HalfOpen);
    const probe2 = mustAdmit(b, now + 1, 'probe2');
    assert.deepEqual(b.admit(now + 1), { admitted: false });
    b.onSuccess(probe2);
    assert.equal(b.state, CircuitState.Closed);
    assert.equal(b.failures, 0);

    // Trip again; a probe failure re-opens it for another full 30 s from the failure.
    for (let i = 0; i < 5; i++) {
      const a = mustAdmit(b, now, 'a');
      b.onFailure(a, now);
    }
    assert.equal(b.state, CircuitState.Open);
    now += 30_000;
    const probe3 = mustAdmit(b, now, 'probe3');
    now += 500;
    b.onFailure(probe3, now);
    assert.equal(b.state, CircuitState.Open);
    assert.deepEqual(b.admit(now + 29_999), { admitted: false });
    mustAdmit(b, now + 30_000, 'after the second open_duration');

    assert.deepEqual(changes, ['0->1', '1->2', '2->0', '0->1', '1->2', '2->1', '1->2']);
  });

  test('while OPEN, a connection becoming ready (or answering a ping) → HALF_OPEN at once; the next call probes', () => {
    const changes: string[] = [];
    const b = new CircuitBreaker({}, { onStateChange: (s, prev) => changes.push(`${prev}->${s}`) });
    const now = 1_000_000;
    // CLOSED and HALF_OPEN ignore it: no state change, no machine event.
    b.onAgentReachable();
    assert.equal(b.state, CircuitState.Closed);
    assert.equal(b.machineEvents, 0);
    // The agent dies: 5 failures open the breaker; a late failure of this generation is kept for later.
    const late = mustAdmit(b, now, 'late');
    for (let i = 0; i < 5; i++) b.onFailure(mustAdmit(b, now, `call ${i}`), now);
    assert.equal(b.state, CircuitState.Open);
    assert.deepEqual(b.admit(now + 1_000), { admitted: false });
    // It restarts: the first ready connection, 1 s into the 30 s open_duration.
    b.onAgentReachable();
    assert.equal(b.state, CircuitState.HalfOpen);
    assert.equal(b.probes, 0);
    // Three more connections become ready: nothing more happens (still no probe taken).
    const events = b.machineEvents;
    for (let i = 0; i < 3; i++) b.onAgentReachable();
    assert.equal(b.machineEvents, events);
    const probe1 = mustAdmit(b, now + 1_000, 'probe1, well before open_duration');
    assert.deepEqual(b.admit(now + 1_000), { admitted: false }, 'half_open_max_requests still holds');
    b.onFailure(late, now + 1_000); // previous generation: ignored
    assert.equal(b.state, CircuitState.HalfOpen);
    b.onSuccess(probe1);
    b.onSuccess(mustAdmit(b, now + 1_001, 'probe2'));
    assert.equal(b.state, CircuitState.Closed);
    // A failing probe reopens for a full open_duration; a pong shortens that too.
    for (let i = 0; i < 5; i++) b.onFailure(mustAdmit(b, now + 2_000, `again ${i}`), now + 2_000);
    b.onAgentReachable();
    b.onFailure(mustAdmit(b, now + 2_001, 'probe3'), now + 2_002);
    assert.equal(b.state, CircuitState.Open);
    assert.deepEqual(b.admit(now + 2_003), { admitted: false });
    b.onAgentReachable(); // a Pong
    mustAdmit(b, now + 2_004, 'probe4');
    assert.deepEqual(changes, ['0->1', '1->2', '2->0', '0->1', '1->2', '2->1', '1->2']);
  });

  test('ZAP_INVALID_ARGUMENT is never counted (it never reaches the breaker; if it did, it is neutral)', () => {
    const b = new CircuitBreaker({ failureThreshold: 1 });
    const a = mustAdmit(b, 0, 'a');
    b.onOutcome(a, new AgentPoolError(ErrorCode.InvalidArgument, 'bad event'), 0);
    b.onOutcome(a, new AgentPoolError(ErrorCode.InvalidArgument, 'bad event').toSerialized(), 0);
    assert.equal(b.state, CircuitState.Closed);
    assert.equal(b.failures, 0);
  });

  test('a late success from an earlier CLOSED generation does not reset the failure count', () => {
    const b = new CircuitBreaker({ failureThreshold: 2, successThreshold: 1, openDurationMs: 10 });
    const old = mustAdmit(b, 0, 'old');
    const a = mustAdmit(b, 0, 'a');
    b.onFailure(a, 0);
    const c = mustAdmit(b, 0, 'c');
    b.onFailure(c, 0);
    assert.equal(b.state, CircuitState.Open);
    const probe = mustAdmit(b, 10, 'probe');
    b.onSuccess(probe);
    assert.equal(b.state, CircuitState.Closed);
    const d = mustAdmit(b, 11, 'd');
    b.onFailure(d, 11);
    assert.equal(b.failures, 1);
    b.onSuccess(old); // admitted three generations ago
    assert.equal(b.failures, 1);
  });
});
