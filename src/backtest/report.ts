// Backtest report: a self-contained HTML page (tables + inline SVG charts of cumulative PnL and inventory
// per strategy over the test episodes) and a PNG of the same two charts drawn with png.ts (no browser).
import * as fs from 'fs';
import * as path from 'path';
import { Canvas, Rgb, encodePng } from './png';
import { BacktestResult } from './run';
import { SUMMARY_KEYS } from './metrics';

// Eight colours: the demo plots seven strategies (fixed and teacher shared a colour with six).
const PALETTE: Rgb[] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127]];
const hex = (c: Rgb): string => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

export interface Series {
  name: string;
  color: Rgb;
  x: number[];
  y: number[];
}

/** Cumulative PnL and inventory per strategy on one time axis: episode k starts at k × episode length. */
export function reportSeries(r: BacktestResult): { pnl: Series[]; inventory: Series[] } {
  const len = r.config.episodeLenNs / 1e9;
  const pnl: Series[] = [];
  const inventory: Series[] = [];
  r.strategies.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const p: Series = { name: s.name, color, x: [0], y: [0] };
    const q: Series = { name: s.name, color, x: [0], y: [0] };
    let carried = 0;
    s.curves.forEach((c, e) => {
      for (let k = 0; k < c.t.length; k++) {
        p.x.push(e * len + c.t[k]);
        p.y.push(carried + c.equity[k]);
        q.x.push(e * len + c.t[k]);
        q.y.push(c.position[k]);
      }
      carried += s.episodes[e].epnl;
    });
    pnl.push(p);
    inventory.push(q);
  });
  return { pnl, inventory };
}

/** About 5 round ticks (1, 2, 5 × 10^k) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number): number[] {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function extent(series: Series[], axis: 'x' | 'y'): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) for (const v of s[axis]) if (Number.isFinite(v)) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (hi === lo) return [lo - 1, hi + 1];
  if (axis === 'y') {
    const pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  }
  return [lo, hi];
}

const label = (v: number): string => {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-2) return v.toExponential(1);
  return Number(v.toPrecision(4)).toString();
};

interface Frame {
  x0: number;
  y0: number;
  w: number;
  h: number;
  xs: (v: number) => number;
  ys: (v: number) => number;
  xt: number[];
  yt: number[];
}

function frame(series: Series[], x0: number, y0: number, w: number, h: number): Frame {
  const [xl, xh] = extent(series, 'x');
  const [yl0, yh0] = extent(series, 'y');
  const yt = niceTicks(yl0, yh0);
  const xt = niceTicks(xl, xh);
  const yl = Math.min(yl0, yt[0]);
  const yh = Math.max(yh0, yt[yt.length - 1]);
  return {
    x0, y0, w, h, xt: xt.filter((v) => v >= xl && v <= xh), yt,
    xs: (v) => x0 + ((v - xl) / (xh - xl || 1)) * w,
    ys: (v) => y0 + h - ((v - yl) / (yh - yl || 1)) * h,
  };
}

export function svgChart(title: string, yLabel: string, series: Series[], width = 900, height = 320): string {
  const f = frame(series, 70, 30, width - 90, height - 70);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`];
  parts.push(`<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (const v of f.yt) {
    const y = f.ys(v).toFixed(1);
    parts.push(`<line x1="${f.x0}" x2="${f.x0 + f.w}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${f.x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${label(v)}</text>`);
  }
  for (const v of f.xt) {
    const x = f.xs(v).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${f.y0}" y2="${f.y0 + f.h}" stroke="#eee"/><text x="${x}" y="${f.y0 + f.h + 14}" text-anchor="middle">${label(v)}</text>`);
  }
  parts.push(`<rect x="${f.x0}" y="${f.y0}" width="${f.w}" height="${f.h}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${f.x0 + f.w / 2}" y="${height - 8}" text-anchor="middle">seconds into the test split (episodes back to back)</text>`);
  parts.push(`<text transform="translate(14 ${f.y0 + f.h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.x.map((x, k) => `${f.xs(x).toFixed(1)},${f.ys(s.y[k]).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${hex(s.color)}" stroke-width="1.5" points="${pts}"/>`);
    const lx = f.x0 + f.w - (series.length - i) * 90;
    parts.push(`<rect x="${lx}" y="${f.y0 - 9}" width="12" height="3" fill="${hex(s.color)}"/><text x="${lx + 16}" y="${f.y0 - 5}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function drawChart(c: Canvas, title: string, yLabel: string, series: Series[], x0: number, y0: number, w: number, h: number): void {
  const ink: Rgb = [40, 40, 40];
  const f = frame(series, x0 + 80, y0 + 34, w - 100, h - 80);
  c.text(x0 + w / 2 - Canvas.textWidth(title, 2) / 2, y0 + 6, title, ink, 2);
  for (const v of f.yt) {
    const y = f.ys(v);
    c.dashed(f.x0, y, f.x0 + f.w, y, [200, 200, 200]);
    const s = label(v);
    c.text(f.x0 - 8 - Canvas.textWidth(s), y - 3, s, ink);
  }
  for (const v of f.xt) {
    const x = f.xs(v);
    c.dashed(x, f.y0, x, f.y0 + f.h, [220, 220, 220]);
    const s = label(v);
    c.text(x - Canvas.textWidth(s) / 2, f.y0 + f.h + 8, s, ink);
  }
  c.line(f.x0, f.y0, f.x0 + f.w, f.y0, [120, 120, 120]);
  c.line(f.x0, f.y0 + f.h, f.x0 + f.w, f.y0 + f.h, [120, 120, 120]);
  c.line(f.x0, f.y0, f.x0, f.y0 + f.h, [120, 120, 120]);
  c.line(f.x0 + f.w, f.y0, f.x0 + f.w, f.y0 + f.h, [120, 120, 120]);
  const xl = 'seconds into the test split';
  c.text(f.x0 + f.w / 2 - Canvas.textWidth(xl) / 2, f.y0 + f.h + 24, xl, ink);
  c.text(x0 + 4, y0 + 34 - 14, yLabel, ink);
  for (const s of series) {
    for (let k = 1; k < s.x.length; k++) c.line(f.xs(s.x[k - 1]), f.ys(s.y[k - 1]), f.xs(s.x[k]), f.ys(s.y[k]), s.color, 2);
  }
  // Legend above the frame, right-aligned.
  const widths = series.map((s) => 24 + Canvas.textWidth(s.name) + 16);
  let lx = f.x0 + f.w - widths.reduce((a, b) => a + b, 0);
  for (const s of series) {
    c.rect(lx, f.y0 - 12, 18, 4, s.color);
    lx += 24 + c.text(lx + 24, f.y0 - 14, s.name, ink) + 16;
  }
}

/** The PNG: cumulative PnL above, inventory below. */
export function reportPng(r: BacktestResult): Uint8Array {
  const { pnl, inventory } = reportSeries(r);
  const c = new Canvas(1200, 820);
  const i = r.data.instrument;
  c.text(20, 8, `${i.venue}:${i.symbol}  ${r.windows.length} test episodes  seed ${r.config.seed}`, [90, 90, 90], 1);
  drawChart(c, 'Cumulative PnL (quote currency)', 'PnL', pnl, 0, 20, 1200, 400);
  drawChart(c, 'Inventory (lots)', 'lots', inventory, 0, 420, 1200, 400);
  return encodePng(c);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const num = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v));

export function reportHtml(r: BacktestResult): string {
  const { pnl, inventory } = reportSeries(r);
  const i = r.data.instrument;
  const head = ['strategy', ...SUMMARY_KEYS];
  const rows = r.strategies.map((s) => `<tr><th>${esc(s.name)}</th>${SUMMARY_KEYS.map((k) => `<td>${num(s.summary.stats[k].mean)} ± ${num(s.summary.stats[k].std)}</td>`).join('')}</tr>`);
  const episodeTables = r.strategies.map((s) => {
    const cols = ['episode', 'epnl', 'map', 'pnlMap', 'rpt', 'sharpe', 'maxDrawdown', 'fills', 'quotedTime', 'finalPosition'] as const;
    const body = s.episodes.map((e) => `<tr>${cols.map((k) => `<td>${num(e[k])}</td>`).join('')}</tr>`).join('\n');
    const refusals = Object.entries(s.summary.riskRefusals).map(([k, v]) => `${k}: ${v}`).join(', ');
    const rejects = Object.entries(s.summary.rejects).map(([k, v]) => `${k}: ${v}`).join(', ');
    const transitions = s.lifecycle.map((l, e) => `episode ${e}: ${Object.entries(l.counts).map(([k, v]) => `${k} ×${v}`).join(', ')}`).join('<br>');
    return `<details><summary>${esc(s.name)}: per-episode metrics, risk refusals, lifecycle</summary>
<p>params: <code>${esc(JSON.stringify(s.params))}</code></p>
<table><tr>${cols.map((c) => `<th>${c}</th>`).join('')}</tr>\n${body}</table>
<p>risk refusals: ${esc(refusals)}<br>exchange rejects: ${esc(rejects)}</p><p>${transitions}</p></details>`;
  });
  const cal = r.calibration;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>cmm backtest: ${esc(i.symbol)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}th{background:#f4f4f4}code{font-size:12px}</style>
</head><body>
<h1>Backtest: ${esc(i.venue)}:${esc(i.symbol)} (${esc(i.bookType)})</h1>
<p>${esc(r.data.source)}: ${r.data.events} events over ${(r.data.spanNs / 1e9).toFixed(1)} s. Training split ${(r.split.trainStartNs / 1e9).toFixed(1)}–${(r.split.trainEndNs / 1e9).toFixed(1)} s;
test: ${r.windows.length} episodes of ${(r.config.episodeLenNs / 1e9).toFixed(1)} s from ${(r.split.testStartNs / 1e9).toFixed(1)} s. Queue model ${esc(r.config.queue.model)}, fees maker ${r.config.fees.makerBps} / taker ${r.config.fees.takerBps} bps,
quote size ${r.config.orderQty} lots (lot ${i.lotSize}), tick ${i.tickSize}, seed ${r.config.seed}.</p>
<p>Calibration on the training split only: σ ${num(cal.sigma)} ticks/√s, λ(δ) = ${num(cal.A)}·e<sup>−${num(cal.k)}δ</sup> per s (R² ${num(cal.fitR2)}, ${cal.trades} prints), price step ${cal.priceStep} ticks, median spread ${num(cal.medianSpread)} ticks.${cal.warnings.map((w) => `<br>warning: ${esc(w)}`).join('')}</p>
<h2>Mean ± std over test episodes</h2>
<table><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr>${rows.join('\n')}</table>
<p>EPnL, PnLMAP, RPT, max drawdown and fees in quote currency; MAP and volume in lots; Sharpe of step PnL (step ${(r.config.stepNs / 1e9).toFixed(3)} s, not annualised); quoted time = fraction with a bid and an ask resting.</p>
${svgChart('Cumulative PnL over the test episodes', 'PnL (quote currency)', pnl)}
${svgChart('Inventory', 'lots', inventory)}
${episodeTables.join('\n')}
<details><summary>configuration</summary><pre>${esc(JSON.stringify({ config: r.config, asGammaSearch: r.asGammaSearch, rlTraining: r.rlTraining }, null, 2))}</pre></details>
</body></html>
`;
}

/** Writes the HTML report and a PNG beside it (same name, .png). Returns both paths. */
export function writeReport(r: BacktestResult, htmlPath: string): string[] {
  fs.mkdirSync(path.dirname(path.resolve(htmlPath)), { recursive: true });
  fs.writeFileSync(htmlPath, reportHtml(r));
  const pngPath = htmlPath.replace(/\.html?$/i, '') + '.png';
  fs.writeFileSync(pngPath, reportPng(r));
  return [htmlPath, pngPath];
}
