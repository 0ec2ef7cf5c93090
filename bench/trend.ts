// Ordinary least squares of y on x: the slope of a series of samples, with its standard error, so
// a trend can be told from scatter. Used for RSS and heap against requests served (memory scenario).

export interface LineFit {
  /** Points fitted. */
  n: number;
  /** dy/dx. */
  slope: number;
  intercept: number;
  /** Standard error of the slope (NaN with fewer than 3 points or no spread in x). */
  slopeStdErr: number;
  meanY: number;
  minY: number;
  maxY: number;
}

/** Fits y = intercept + slope·x. Needs at least two points with different x (else slope NaN). */
export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit {
  const n = Math.min(xs.length, ys.length);
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] as number;
    sy += ys[i] as number;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxx += dx * dx;
    sxy += dx * ((ys[i] as number) - my);
  }
  const slope = sxx > 0 ? sxy / sxx : Number.NaN;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = (ys[i] as number) - (intercept + slope * (xs[i] as number));
    sse += r * r;
  }
  const slopeStdErr = n > 2 && sxx > 0 ? Math.sqrt(sse / (n - 2) / sxx) : Number.NaN;
  const window = ys.slice(0, n);
  return { n, slope, intercept, slopeStdErr, meanY: my, minY: Math.min(...window), maxY: Math.max(...window) };
}
