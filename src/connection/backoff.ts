// Reconnect delay of attempt k (spec §10.8): uniform in [d/2, d], d = min(max, initial × 2^k).
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const d = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 40));
  return Math.round(d / 2 + random() * (d / 2));
}
