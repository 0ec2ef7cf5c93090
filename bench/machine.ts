// Which machine a result came from (saved with every result file: numbers from different
// machines are not comparable).
import { availableParallelism, cpus, loadavg } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  /** 1-minute load average just before the scenario started: well above 0 means a busy box and noisy numbers. */
  loadAvgBefore: number;
}

/** Take it before the scenario runs (the load average would otherwise include the benchmark itself). */
export function machineInfo(): MachineInfo {
  const model = cpus()[0]?.model.trim();
  return {
    cpuModel: model === undefined || model === '' ? 'unknown' : model,
    cores: availableParallelism(),
    node: process.version,
    loadAvgBefore: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
