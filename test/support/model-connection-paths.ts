// Test cases from the connection machine's graph (xstate/graph): one case per transition of the
// model — the shortest path to its source state followed by that transition — plus one per
// external event a state ignores. The event list is read off the machine itself, so a transition
// added to the machine becomes a case here (and fails until the driver knows how to cause it).
import { initialTransition, transition } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import {
  connectionMachine as defineConnectionMachine,
  type ConnectionMachineEvent,
  type ConnectionStateName,
} from '../../src/connection/connection-machine.js';

const connectionMachine = defineConnectionMachine();

/** Events the connection actor receives from outside (pool, flow control, transport loss). */
export const EXTERNAL_EVENTS = ['PAUSE', 'RESUME', 'DRAIN', 'DRAINED', 'LOST', 'CLOSE'] as const;

export interface ModelStep {
  /** Event type that led here: an external event, `xstate.init`, or an invoke / delay outcome. */
  event: string;
  state: ConnectionStateName;
  /** The model's consecutive-failure count in this state. */
  attempt: number;
  /** An external event the previous state ignores: no transition, no report. */
  ignored: boolean;
}

export interface ModelCase {
  name: string;
  redial: boolean;
  steps: ModelStep[];
}

type AnyEvent = { type: string; [key: string]: unknown };

/** One sample event object per event type the machine handles anywhere. */
function machineEvents(): AnyEvent[] {
  const types = new Set<string>(EXTERNAL_EVENTS);
  for (const node of Object.values(connectionMachine.root.states)) for (const t of node.transitions.keys()) types.add(t);
  return [...types].map((type) => {
    if (type.startsWith('xstate.done.actor.')) return { type, output: {} };
    if (type.startsWith('xstate.error.actor.')) return { type, error: new Error('model failure') };
    if (type === 'LOST') return { type, error: 'model loss' };
    return { type };
  });
}

/** Short label of an event type: `connect.done`, `handshake.error`, `backoff.after`, `PAUSE`, … */
export function eventLabel(type: string): string {
  const invoke = /^xstate\.(done|error)\.actor\.\d+\.connection\.(connecting|handshaking)$/.exec(type);
  if (invoke !== null) return `${invoke[2] === 'connecting' ? 'connect' : 'handshake'}.${invoke[1]}`;
  if (type.startsWith('xstate.after.')) return 'backoff.after';
  return type;
}

interface Snap {
  value: unknown;
}

interface RawStep {
  event: AnyEvent;
  state: ConnectionStateName;
}

function toRaw(event: unknown, state: unknown): RawStep {
  return { event: event as AnyEvent, state: (state as Snap).value as ConnectionStateName };
}

/**
 * Replays a path through the machine to get each step's context: graph vertices are keyed by state
 * name only, so the snapshots the traversal keeps may come from another path to the same vertex.
 */
function replayed(raw: RawStep[], redial: boolean): ModelStep[] {
  const input = { redial, initialBackoffMs: 1, maxBackoffMs: 1 };
  let [snapshot] = initialTransition(connectionMachine, input);
  const steps: ModelStep[] = [];
  raw.forEach((step, i) => {
    if (i > 0) [snapshot] = transition(connectionMachine, snapshot, step.event as unknown as ConnectionMachineEvent);
    if (snapshot.value !== step.state) throw new Error(`replay diverged at step ${i}: ${String(snapshot.value)} ≠ ${step.state}`);
    const ignored = i > 0 && step.state === raw[i - 1]!.state;
    steps.push({ event: step.event.type, state: step.state, attempt: snapshot.context.attempt, ignored });
  });
  return steps;
}

type Adjacency = Record<string, { transitions: Record<string, { event: unknown; state: unknown }> }>;

function traversalOptions(redial: boolean) {
  return {
    input: { redial, initialBackoffMs: 1, maxBackoffMs: 1 },
    events: machineEvents() as unknown as ConnectionMachineEvent[],
    // The lifecycle state is the vertex; attempt counts and error texts are not.
    serializeState: (s: Snap) => JSON.stringify(s.value),
  } as const;
}

function isExternal(type: string): boolean {
  return (EXTERNAL_EVENTS as readonly string[]).includes(type);
}

/** The transitions out of a vertex a real actor can meet (internal events a state ignores never reach it). */
function edgesOf(adjacency: Adjacency, from: string): RawStep[] {
  const vertex = adjacency[from];
  if (vertex === undefined) return [];
  const out: RawStep[] = [];
  for (const { event, state } of Object.values(vertex.transitions)) {
    const next = toRaw(event, state);
    if (JSON.stringify(next.state) === from && !isExternal(next.event.type)) continue;
    out.push(next);
  }
  return out;
}

/** One case per transition (and per ignored external event): shortest path to its source + it. */
export function modelCases(redial: boolean): ModelCase[] {
  const options = traversalOptions(redial);
  const shortest = new Map<string, RawStep[]>();
  for (const path of getShortestPaths(connectionMachine, options as never)) {
    shortest.set(
      JSON.stringify((path.state as unknown as Snap).value),
      path.steps.map((s) => toRaw(s.event, s.state)),
    );
  }
  const adjacency = getAdjacencyMap(connectionMachine, options as never) as unknown as Adjacency;
  const cases: ModelCase[] = [];
  for (const from of Object.keys(adjacency)) {
    const prefix = shortest.get(from);
    if (prefix === undefined) throw new Error(`no shortest path to ${from}`);
    const source = prefix.at(-1) as RawStep;
    for (const next of edgesOf(adjacency, from)) {
      const ignored = next.state === source.state;
      const name = `${source.state} --${eventLabel(next.event.type)}--> ${ignored ? '(ignored)' : next.state}`;
      cases.push({ name, redial, steps: replayed([...prefix, next], redial) });
    }
  }
  return cases;
}

/**
 * A walk through the graph from the initial state: `choices[i]` picks an edge out of the current
 * vertex (three times in four one that neither closes nor is ignored), until `closed` or the
 * choices run out.
 */
export function modelWalk(redial: boolean, choices: readonly number[]): ModelCase {
  const options = traversalOptions(redial);
  const adjacency = getAdjacencyMap(connectionMachine, options as never) as unknown as Adjacency;
  const [initial] = initialTransition(connectionMachine, options.input);
  const raw: RawStep[] = [toRaw({ type: 'xstate.init' }, initial)];
  for (const choice of choices) {
    const here = raw.at(-1) as RawStep;
    if (here.state === 'closed') break;
    const edges = edgesOf(adjacency, JSON.stringify(here.state));
    // Mostly moves that keep the connection alive, so walks get past the first few states.
    const onward = edges.filter((e) => e.state !== here.state && e.state !== 'closed');
    const pool = choice % 4 !== 0 && onward.length > 0 ? onward : edges;
    if (pool.length === 0) break;
    raw.push(pool[Math.floor(choice / 4) % pool.length] as RawStep);
  }
  const steps = replayed(raw, redial);
  const name = steps.map((s, i) => (i === 0 ? s.state : `${eventLabel(s.event)}${s.ignored ? '(ignored)' : ` → ${s.state}`}`)).join(', ');
  return { name, redial, steps };
}
