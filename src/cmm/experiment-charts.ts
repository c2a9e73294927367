// Pictures of the CMM experiments drawn with the backtester's raster canvas (src/backtest/png.ts): grouped bar
// charts with ±1 std error bars, line charts with error bars (data efficiency), and histograms (latency).
import { Canvas, Rgb, encodePng } from '../backtest/png';
import { niceTicks } from '../backtest/report';

export const PALETTE: Rgb[] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127]];
const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [215, 215, 215];

export interface Bar {
  name: string;
  mean: number;
  std: number;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface LineSeries {
  name: string;
  x: number[];
  y: number[];
  /** ±err drawn as a vertical bar at each point (optional). */
  err?: number[];
}

const fin = (v: number): boolean => Number.isFinite(v);

/** The canvas font is ASCII (plus ±): fold accents and the few symbols the labels use. */
export function asciiLabel(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/²/g, '2').replace(/µ/g, 'u').replace(/[—–]/g, '-').replace(/;/g, ',').replace(/[^\x20-\x7e±]/g, '?');
}

/** Canvas.text with asciiLabel applied. */
function put(c: Canvas, x: number, y: number, s: string, color: Rgb, scale = 1): number {
  return c.text(x, y, asciiLabel(s), color, scale);
}

const label = (v: number): string => {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-2) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
};

function yAxis(c: Canvas, lo: number, hi: number, x0: number, y0: number, w: number, h: number): { ys: (v: number) => number; lo: number; hi: number } {
  const ticks = niceTicks(lo, hi);
  const l = Math.min(lo, ticks[0]), u = Math.max(hi, ticks[ticks.length - 1]);
  const ys = (v: number): number => y0 + h - ((v - l) / (u - l || 1)) * h;
  for (const v of ticks) {
    const y = ys(v);
    c.dashed(x0, y, x0 + w, y, GRID);
    const s = label(v);
    put(c, x0 - 6 - Canvas.textWidth(s), y - 3, s, INK);
  }
  c.line(x0, y0, x0, y0 + h, [120, 120, 120]);
  c.line(x0, y0 + h, x0 + w, y0 + h, [120, 120, 120]);
  return { ys, lo: l, hi: u };
}

function legend(c: Canvas, names: string[], x: number, y: number, maxX: number): void {
  let lx = x, ly = y;
  names.forEach((n, i) => {
    const wdt = 18 + Canvas.textWidth(n) + 14;
    if (lx + wdt > maxX) {
      lx = x;
      ly += 12;
    }
    c.rect(lx, ly, 12, 7, PALETTE[i % PALETTE.length]);
    put(c, lx + 16, ly, n, INK);
    lx += wdt;
  });
}

/** Grouped bars (one group per market / scenario, one bar per strategy) with ±std whiskers, into a panel. */
export function drawBarPanel(c: Canvas, title: string, yLabel: string, groups: BarGroup[], x0: number, y0: number, w: number, h: number): void {
  put(c, x0 + w / 2 - Canvas.textWidth(title, 2) / 2, y0 + 4, title, INK, 2);
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  legend(c, names, x0 + 70, y0 + 24, x0 + w - 10);
  const px = x0 + 70, py = y0 + 52, pw = w - 90, ph = h - 110;
  let lo = 0, hi = 0;
  for (const g of groups) for (const b of g.bars) {
    if (!fin(b.mean)) continue;
    const e = fin(b.std) ? b.std : 0;
    lo = Math.min(lo, b.mean - e);
    hi = Math.max(hi, b.mean + e);
  }
  if (hi === lo) hi = lo + 1;
  const ax = yAxis(c, lo, hi, px, py, pw, ph);
  put(c, x0 + 4, py - 12, yLabel, INK);
  const gw = pw / Math.max(1, groups.length);
  const zero = ax.ys(Math.max(ax.lo, Math.min(ax.hi, 0)));
  c.line(px, zero, px + pw, zero, [90, 90, 90]);
  groups.forEach((g, gi) => {
    const bw = Math.max(2, (gw * 0.8) / Math.max(1, names.length));
    const gx = px + gi * gw + gw * 0.1;
    for (const b of g.bars) {
      const k = names.indexOf(b.name);
      const color = PALETTE[k % PALETTE.length];
      const bx = gx + k * bw;
      if (!fin(b.mean)) {
        put(c, bx, zero - 10, 'x', color);
        continue;
      }
      const y = ax.ys(b.mean);
      c.rect(bx + 1, Math.min(y, zero), bw - 2, Math.max(1, Math.abs(zero - y)), color);
      if (fin(b.std) && b.std > 0) {
        const cx = bx + bw / 2;
        const ya = ax.ys(b.mean + b.std), yb = ax.ys(b.mean - b.std);
        c.line(cx, ya, cx, yb, INK);
        c.line(cx - bw / 4, ya, cx + bw / 4, ya, INK);
        c.line(cx - bw / 4, yb, cx + bw / 4, yb, INK);
      }
    }
    const lab = g.label.length * 6 > gw ? g.label.slice(0, Math.max(3, Math.floor(gw / 6) - 1)) : g.label;
    put(c, px + gi * gw + gw / 2 - Canvas.textWidth(lab) / 2, py + ph + 8, lab, INK);
  });
}

/** Lines with markers and optional ±err whiskers; x may be log-scaled. */
export function drawLinePanel(c: Canvas, title: string, xLabel: string, yLabel: string, series: LineSeries[], x0: number, y0: number, w: number, h: number, logX = false): void {
  put(c, x0 + w / 2 - Canvas.textWidth(title, 2) / 2, y0 + 4, title, INK, 2);
  legend(c, series.map((s) => s.name), x0 + 70, y0 + 24, x0 + w - 10);
  const px = x0 + 70, py = y0 + 52, pw = w - 90, ph = h - 110;
  const tx = (v: number): number => (logX ? Math.log10(v) : v);
  let xl = Infinity, xh = -Infinity, lo = Infinity, hi = -Infinity;
  for (const s of series) s.x.forEach((x, i) => {
    const y = s.y[i], e = s.err?.[i] ?? 0;
    if (!fin(y) || !fin(tx(x))) return;
    xl = Math.min(xl, tx(x));
    xh = Math.max(xh, tx(x));
    lo = Math.min(lo, y - (fin(e) ? e : 0));
    hi = Math.max(hi, y + (fin(e) ? e : 0));
  });
  if (!fin(xl)) {
    xl = 0;
    xh = 1;
    lo = 0;
    hi = 1;
  }
  if (xh === xl) {
    xl -= 0.5;
    xh += 0.5;
  }
  const ax = yAxis(c, lo, hi, px, py, pw, ph);
  const xs = (v: number): number => px + 10 + ((tx(v) - xl) / (xh - xl)) * (pw - 20);
  // Few distinct x (fractions, scenarios): label each; many (time series): round ticks, and no point markers.
  const distinct = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const dense = distinct.length > 12;
  const xticks = dense ? niceTicks(xl, xh).filter((v) => v >= xl && v <= xh).map((v) => (logX ? Math.pow(10, v) : v)) : distinct;
  for (const v of xticks) {
    const s = label(v);
    put(c, xs(v) - Canvas.textWidth(s) / 2, py + ph + 8, s, INK);
  }
  put(c, px + pw / 2 - Canvas.textWidth(xLabel) / 2, py + ph + 24, xLabel, INK);
  put(c, x0 + 4, py - 12, yLabel, INK);
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    let prev: [number, number] | null = null;
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!fin(y)) {
        prev = null;
        return;
      }
      const X = xs(x), Y = ax.ys(y);
      if (prev) c.line(prev[0], prev[1], X, Y, color, dense ? 1 : 2);
      if (!dense) c.rect(X - 3, Y - 3, 7, 7, color);
      const e = s.err?.[i];
      if (e !== undefined && fin(e) && e > 0) {
        c.line(X, ax.ys(y + e), X, ax.ys(y - e), color);
        c.line(X - 4, ax.ys(y + e), X + 4, ax.ys(y + e), color);
        c.line(X - 4, ax.ys(y - e), X + 4, ax.ys(y - e), color);
      }
      prev = [X, Y];
    });
  });
}

/** Overlaid histograms (counts per log-spaced bin when logX) of several samples. */
export function drawHistogramPanel(c: Canvas, title: string, xLabel: string, samples: { name: string; values: ArrayLike<number> }[], x0: number, y0: number, w: number, h: number, logX = true, bins = 60): void {
  put(c, x0 + w / 2 - Canvas.textWidth(title, 2) / 2, y0 + 4, title, INK, 2);
  legend(c, samples.map((s) => s.name), x0 + 70, y0 + 24, x0 + w - 10);
  const px = x0 + 70, py = y0 + 52, pw = w - 90, ph = h - 110;
  const tx = (v: number): number => (logX ? Math.log10(Math.max(v, 1e-9)) : v);
  let lo = Infinity, hi = -Infinity;
  for (const s of samples) for (let i = 0; i < s.values.length; i++) {
    const v = tx(s.values[i]);
    if (!fin(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!fin(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi === lo) hi = lo + 1;
  const counts = samples.map((s) => {
    const cnt = new Float64Array(bins);
    for (let i = 0; i < s.values.length; i++) {
      const v = tx(s.values[i]);
      if (!fin(v)) continue;
      cnt[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]++;
    }
    // Fractions, so that samples of different sizes compare.
    const n = s.values.length || 1;
    return Array.from(cnt, (x) => x / n);
  });
  const top = Math.max(1e-9, ...counts.flat());
  const ax = yAxis(c, 0, top, px, py, pw, ph);
  const bw = pw / bins;
  counts.forEach((cnt, k) => {
    const color = PALETTE[k % PALETTE.length];
    cnt.forEach((v, i) => {
      if (v <= 0) return;
      const y = ax.ys(v);
      // Outlined bars so that overlapping histograms stay readable.
      const bx = px + i * bw;
      c.line(bx, y, bx + bw, y, color, 2);
      c.line(bx, y, bx, ax.ys(0), color);
      c.line(bx + bw, y, bx + bw, ax.ys(0), color);
    });
  });
  const ticks = niceTicks(lo, hi);
  for (const t of ticks) {
    if (t < lo || t > hi) continue;
    const X = px + ((t - lo) / (hi - lo)) * pw;
    const s = logX ? label(Math.pow(10, t)) : label(t);
    c.line(X, py + ph, X, py + ph + 4, INK);
    put(c, X - Canvas.textWidth(s) / 2, py + ph + 8, s, INK);
  }
  put(c, px + pw / 2 - Canvas.textWidth(xLabel) / 2, py + ph + 24, xLabel, INK);
  put(c, x0 + 4, py - 12, 'fraction of decisions', INK);
}

/** Panels laid out in a grid of `cols` columns, each w×h; returns the PNG bytes. */
export function panelsPng(panels: ((c: Canvas, x: number, y: number, w: number, h: number) => void)[], cols = 1, w = 1100, h = 420, subtitle = ''): Uint8Array {
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const top = subtitle ? 16 : 0;
  const c = new Canvas(cols * w, rows * h + top);
  if (subtitle) put(c, 10, 4, subtitle, [90, 90, 90]);
  panels.forEach((draw, i) => draw(c, (i % cols) * w, top + Math.floor(i / cols) * h, w, h));
  return encodePng(c);
}
