// A line chart as a standalone SVG document, written by hand (no plotting dependency): numeric x
// and y axes from 0 with "nice" tick steps, one polyline with point markers per series, dashed
// series for reference levels, a legend on the right. Enough for scale.svg; not a general library.

export interface PlotSeries {
  name: string;
  points: ReadonlyArray<readonly [x: number, y: number]>;
  /** Drawn dashed without markers (a baseline / reference level). */
  dashed?: boolean;
  /** Drawn dotted without markers (a model's prediction). */
  dotted?: boolean;
  /** Series that share a colour group get the same colour (e.g. a pool line and its baseline). */
  colorGroup?: number;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** 1, 2 or 5 × a power of ten, so that about `count` steps cover `max`. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / pow;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * pow;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function tickLabel(v: number): string {
  if (v >= 1_000_000) return `${+(v / 1_000_000).toFixed(2)}M`;
  if (v >= 1_000) return `${+(v / 1_000).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

export function lineChartSvg(chart: LineChart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 420;
  const margin = { left: 70, right: 190, top: 40, bottom: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const points = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xStep = niceStep(Math.max(1, ...points.map(([x]) => x)), Math.min(8, Math.max(1, ...points.map(([x]) => x))));
  const yStep = niceStep(Math.max(1, ...points.map(([, y]) => y)));
  const xMax = Math.max(xStep, Math.ceil(Math.max(0, ...points.map(([x]) => x)) / xStep) * xStep);
  const yMax = Math.max(yStep, Math.ceil((Math.max(0, ...points.map(([, y]) => y)) * 1.05) / yStep) * yStep);
  const px = (x: number) => margin.left + (x / xMax) * plotW;
  const py = (y: number) => margin.top + plotH - (y / yMax) * plotH;
  const f = (n: number) => n.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`);
  for (let y = 0; y <= yMax + yStep / 2; y += yStep) {
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${f(py(y))}" y2="${f(py(y))}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${margin.left - 6}" y="${f(py(y) + 4)}" text-anchor="end">${tickLabel(y)}</text>`);
  }
  for (let x = 0; x <= xMax + xStep / 2; x += xStep) {
    out.push(`<line x1="${f(px(x))}" x2="${f(px(x))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#333"/>`);
    out.push(`<text x="${f(px(x))}" y="${margin.top + plotH + 18}" text-anchor="middle">${tickLabel(x)}</text>`);
  }
  out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`);
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`);

  chart.series.forEach((s, i) => {
    const color = COLORS[(s.colorGroup ?? i) % COLORS.length] as string;
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : s.dotted === true ? ' stroke-dasharray="2 3"' : '';
    if (pts.length > 0) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} ` +
          `points="${pts.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ')}"/>`,
      );
    }
    if (s.dashed !== true && s.dotted !== true)
      for (const [x, y] of pts) out.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="3.5" fill="${color}"/>`);
    const ly = margin.top + 10 + i * 20;
    const lx = margin.left + plotW + 16;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
