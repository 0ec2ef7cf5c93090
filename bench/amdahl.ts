// The scaling model of `zap bench scale` (issue 13): throughput from measured CPU per call.
// Each call costs c_main µs on the pool's main thread (serial: one thread), c_worker µs on the
// connection workers (spread over N of them), c_rest µs on everything else on the box (V8/libuv
// helper threads, and the agent processes, which share the box) and c_agent µs of that in the
// agents themselves (spread over A single-threaded agents). With C cores:
//
//   X(N, C) = min( 1/c_main,  N/c_worker,  C/(c_main + c_worker + c_rest),  A/c_agent )
//
// N = 0 (no workers) takes its costs from the workers-0 row and has no N/c_worker term; N ≥ 1
// takes the mean costs of the rows with workers. bench/README.md documents the same model.

/** CPU µs per call, by where it is spent. */
export interface CallCosts {
  mainUs: number;
  workerUs: number;
  /** Everything else on the box: other threads of the process and the agent processes. */
  restUs: number;
  /** The part of restUs spent in the agent processes. */
  agentUs: number;
}

export interface ScalingModel {
  /** Costs with workers 0 (every call on the main thread), when measured. */
  inline: CallCosts | undefined;
  /** Mean costs over the rows with workers ≥ 1, when measured. */
  offloaded: CallCosts | undefined;
}

export type Bound = 'main thread' | 'workers' | 'cores' | 'agents';

export interface Prediction {
  perSec: number;
  bound: Bound;
}

function mean(costs: readonly CallCosts[]): CallCosts | undefined {
  if (costs.length === 0) return undefined;
  const avg = (f: (c: CallCosts) => number) => costs.reduce((sum, c) => sum + f(c), 0) / costs.length;
  return { mainUs: avg((c) => c.mainUs), workerUs: avg((c) => c.workerUs), restUs: avg((c) => c.restUs), agentUs: avg((c) => c.agentUs) };
}

/** The model from measured rows (rows with a non-finite cost are left out). */
export function fitScalingModel(rows: ReadonlyArray<{ workers: number; costs: CallCosts }>): ScalingModel {
  const usable = rows.filter((r) => Object.values(r.costs).every(Number.isFinite) && r.costs.mainUs > 0);
  return {
    inline: mean(usable.filter((r) => r.workers === 0).map((r) => r.costs)),
    offloaded: mean(usable.filter((r) => r.workers > 0 && r.costs.workerUs > 0).map((r) => r.costs)),
  };
}

/**
 * Predicted calls/s with `workers` connection workers on `cores` cores. `agents` bounds the agent
 * processes' share (A / c_agent); leave it out to assume as many agents as it takes.
 */
export function predictThroughput(model: ScalingModel, workers: number, cores: number, agents?: number): Prediction {
  const c = workers === 0 ? model.inline : model.offloaded;
  if (c === undefined) return { perSec: Number.NaN, bound: 'main thread' };
  const bounds: Array<[number, Bound]> = [
    [1e6 / c.mainUs, 'main thread'],
    [workers === 0 ? Number.POSITIVE_INFINITY : (workers * 1e6) / c.workerUs, 'workers'],
    [(cores * 1e6) / (c.mainUs + c.workerUs + c.restUs), 'cores'],
    [agents === undefined || !(c.agentUs > 0) ? Number.POSITIVE_INFINITY : (agents * 1e6) / c.agentUs, 'agents'],
  ];
  const [perSec, bound] = bounds.reduce((best, b) => (b[0] < best[0] ? b : best));
  return { perSec, bound };
}

/**
 * Where the curve flattens on `cores` cores with enough agents: the fewest workers (≥ 1) from which
 * more workers add nothing, the plateau, and what bounds it. Undefined without a workers row.
 */
export function flatteningPoint(model: ScalingModel, cores: number): { workers: number; perSec: number; bound: Bound } | undefined {
  const c = model.offloaded;
  if (c === undefined) return undefined;
  // The plateau is the lowest bound that does not grow with N; N workers reach it once N/c_worker ≥ it.
  const plateau = Math.min(1e6 / c.mainUs, (cores * 1e6) / (c.mainUs + c.workerUs + c.restUs));
  const workers = Math.max(1, Math.ceil((plateau * c.workerUs) / 1e6 - 1e-9));
  return { workers, perSec: plateau, bound: predictThroughput(model, workers, cores).bound };
}
