// Probe output for people: a text table (R² / F per layer, task, regime) and a heatmap PNG (layers × tasks, one
// panel per regime) drawn with the backtest's raster canvas and PNG encoder (src/backtest/png.ts).
import { Canvas, Rgb, encodePng } from '../backtest/png';
import type { ProbeResult } from './probe';

const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
/** The 5×7 font has ASCII only: spell out the few other characters the labels use. */
const ascii = (s: string): string => s.replace(/×/g, 'x').replace(/²/g, '2').replace(/[—–]/g, '-').replace(/[^\x20-\x7e]/g, '?');

/** Per regime: one row per layer with "R² / F" per task, the baseline row and the picked layer per task. */
export function formatProbeTable(p: ProbeResult): string {
  const lines = [`fluorescent probe: ${p.teacher}, ${p.layers} layers (d ${p.d}); baseline: ${p.baselineInput}`, `  ${p.definition}`];
  const colW = 17;
  p.regimes.forEach((reg, r) => {
    const n = p.samples[0]?.[r] ?? { train: 0, test: 0 };
    lines.push('', `regime ${reg} (train ${n.train}, test ${n.test})     cells: test R² / F`);
    lines.push(`  ${'layer'.padEnd(8)}${p.tasks.map((t) => t.padStart(colW)).join('')}`);
    for (let l = 0; l < p.layers; l++) {
      const cells = p.tasks.map((_, k) => `${p.picks[k][r] === l ? '*' : ' '}${fmt(p.r2[l][k][r])} / ${fmt(p.fluorescence[l][k][r], 2)}`.padStart(colW));
      lines.push(`  ${`L${l}`.padEnd(8)}${cells.join('')}`);
    }
    lines.push(`  ${'baseline'.padEnd(8)}${p.tasks.map((_, k) => `${fmt(p.baseline[k][r])}${p.degenerate[k][r] ? ' (!)' : ''}`.padStart(colW)).join('')}`);
    if (p.teacherHeadsR2) lines.push(`  ${'heads'.padEnd(8)}${p.tasks.map((_, k) => fmt(p.teacherHeadsR2![k][r]).padStart(colW)).join('')}`);
  });
  lines.push('', '  * = picked layer l*(k,r); (!) = no layer beats the baseline (F = 0 everywhere)');
  for (const note of p.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

// Viridis, five stops: dark purple (F = 0) to yellow (F = 1).
const STOPS: Rgb[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
export function fluorescenceColour(v: number): Rgb {
  if (!Number.isFinite(v)) return [215, 215, 215];
  const x = Math.min(1, Math.max(0, v)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x)), t = x - i;
  const a = STOPS[i], b = STOPS[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + t * (b[c] - a[c]))) as unknown as Rgb;
}

const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [255, 255, 255];
const GREY: Rgb = [110, 110, 110];
const inkOn = (c: Rgb): Rgb => (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] > 140 ? BLACK : WHITE);

function centred(cv: Canvas, cx: number, y: number, s: string, c: Rgb, scale: number): void {
  cv.text(Math.round(cx - Canvas.textWidth(s, scale) / 2 + scale / 2), y, s, c, scale);
}

/** Heatmap: one panel per regime, rows = layers (L0 = closest to the input) + baseline, columns = tasks. */
export function renderProbePng(p: ProbeResult): Uint8Array {
  const cellW = 112, cellH = 46, labelW = 44, gap = 34, margin = 24, top = 70, headH = 44;
  const panelW = labelW + p.tasks.length * cellW;
  const gridH = p.layers * cellH;
  const barX = margin + p.regimes.length * (panelW + gap);
  const width = barX + 90;
  const height = top + headH + gridH + 10 + cellH + 62;
  const cv = new Canvas(width, height);
  cv.text(margin, 14, ascii(`normalized fluorescent probe: ${p.teacher}`).slice(0, Math.floor((width - 2 * margin) / 12)), BLACK, 2);
  cv.text(margin, 38, 'F = (R2 - B) / (max over layers R2 - B), clipped to 0..1.  Cell: F (large), test R2 (small).  Box: picked layer.', GREY, 1);
  cv.text(margin, 50, ascii(`B = ridge probe on ${p.baselineInput}`).slice(0, Math.floor((width - 2 * margin) / 6)), GREY, 1);

  p.regimes.forEach((reg, r) => {
    const x0 = margin + r * (panelW + gap), y0 = top;
    const n = p.samples[0]?.[r] ?? { train: 0, test: 0 };
    cv.text(x0 + labelW, y0, ascii(`regime ${reg}`), BLACK, 2);
    cv.text(x0 + labelW, y0 + 18, `train ${n.train}  test ${n.test}`, GREY, 1);
    p.tasks.forEach((task, k) => centred(cv, x0 + labelW + k * cellW + cellW / 2, y0 + 30, ascii(task), BLACK, 1));
    const gy = y0 + headH;
    for (let l = 0; l < p.layers; l++) {
      const y = gy + l * cellH;
      cv.text(x0 + 4, y + cellH / 2 - 7, `L${l}`, BLACK, 2);
      p.tasks.forEach((_, k) => {
        const x = x0 + labelW + k * cellW;
        const f = p.fluorescence[l][k][r];
        const bg = fluorescenceColour(f);
        cv.rect(x, y, cellW, cellH, bg);
        const ink = Number.isFinite(f) ? inkOn(bg) : GREY;
        centred(cv, x + cellW / 2, y + 8, Number.isFinite(f) ? f.toFixed(2) : 'n/a', ink, 2);
        centred(cv, x + cellW / 2, y + 29, `R2 ${fmt(p.r2[l][k][r])}`, ink, 1);
      });
    }
    // Cell borders, then the picked layer's box on top.
    for (let l = 0; l <= p.layers; l++) cv.line(x0 + labelW, gy + l * cellH, x0 + panelW, gy + l * cellH, WHITE);
    for (let k = 0; k <= p.tasks.length; k++) cv.line(x0 + labelW + k * cellW, gy, x0 + labelW + k * cellW, gy + gridH, WHITE);
    p.tasks.forEach((_, k) => {
      const l = p.picks[k][r];
      if (l < 0) return;
      const x = x0 + labelW + k * cellW, y = gy + l * cellH;
      for (let t = 0; t < 3; t++) {
        cv.line(x + t, y + t, x + cellW - 1 - t, y + t, BLACK);
        cv.line(x + t, y + cellH - 1 - t, x + cellW - 1 - t, y + cellH - 1 - t, BLACK);
        cv.line(x + t, y + t, x + t, y + cellH - 1 - t, BLACK);
        cv.line(x + cellW - 1 - t, y + t, x + cellW - 1 - t, y + cellH - 1 - t, BLACK);
      }
    });
    const by = gy + gridH + 10;
    cv.text(x0 + 4, by + cellH / 2 - 7, 'B', BLACK, 2);
    p.tasks.forEach((_, k) => {
      const x = x0 + labelW + k * cellW;
      cv.rect(x + 1, by, cellW - 2, cellH, [238, 238, 238]);
      centred(cv, x + cellW / 2, by + 10, fmt(p.baseline[k][r]), BLACK, 2);
      centred(cv, x + cellW / 2, by + 31, p.degenerate[k][r] ? '! no layer > B' : 'baseline R2', p.degenerate[k][r] ? [180, 0, 0] : GREY, 1);
    });
  });

  // Colour scale.
  const bx = barX + 10, by0 = top + headH;
  cv.text(bx + 4, top + 16, 'F', BLACK, 2);
  for (let y = 0; y < gridH; y++) cv.rect(bx, by0 + y, 22, 1, fluorescenceColour(1 - y / Math.max(1, gridH - 1)));
  for (const [v, label] of [[1, '1.0'], [0.5, '0.5'], [0, '0.0']] as const) {
    const y = by0 + (1 - v) * (gridH - 1);
    cv.line(bx + 22, y, bx + 27, y, BLACK);
    cv.text(bx + 30, Math.round(y - 3), label, BLACK, 1);
  }
  cv.rect(bx, by0 + gridH + 10, 22, 14, fluorescenceColour(NaN));
  cv.text(bx + 30, by0 + gridH + 14, 'n/a', BLACK, 1);
  cv.text(margin, height - 18, 'n/a: too few samples or undefined R2.  ! : max R2 <= B, so F = 0 for every layer (flagged in probe.json).', GREY, 1);
  return encodePng(cv);
}
