// Episode metrics of docs ../shared/design/cmm.md: EPnL, MAP, PnLMAP, RPT, plus Sharpe of step PnL, max
// drawdown, fills, quoted time and risk refusals; mean ± std over episodes. A "step" is one tick of the
// simulator's metrics clock (SimConfig.stepNs): equity and inventory are sampled at the end of each step.
import { RejectReason } from './types';
import { RiskReason } from './risk';

/** Equity (quote currency, marked to mid, after fees) and inventory (lots) at each step's end. */
export class EpisodeCurve {
  t: number[] = [];
  equity: number[] = [];
  position: number[] = [];

  push(tNs: number, equity: number, position: number): void {
    this.t.push(tNs);
    this.equity.push(equity);
    this.position.push(position);
  }
}

export interface EpisodeMetrics {
  episode: number;
  startNs: number;
  endNs: number;
  /** cash + inventory × final mid − starting value (0: every episode starts flat), after fees. Quote currency. */
  epnl: number;
  /** Mean |inventory| over the steps, lots. */
  map: number;
  /** EPnL / MAP; EPnL / 1 lot when MAP is 0. */
  pnlMap: number;
  /** EPnL / fills; 0 when there was no fill (EPnL is then exactly 0 too: nothing traded). */
  rpt: number;
  /** mean / sample std of step PnL (not annualised); 0 when the std is 0 or there are < 2 steps. */
  sharpe: number;
  /** Largest fall of equity from a running peak (quote currency, >= 0). */
  maxDrawdown: number;
  fills: number;
  makerFills: number;
  takerFills: number;
  /** Traded lots, both sides. */
  volume: number;
  /** Fees paid, quote currency (negative = net rebate). */
  fees: number;
  /** Fraction of the episode with a resting bid and a resting ask at the exchange. */
  quotedTime: number;
  finalPosition: number;
  steps: number;
  riskRefusals: Record<RiskReason, number>;
  rejects: Record<RejectReason, number>;
}

export interface EpisodeInputs {
  episode: number;
  startNs: number;
  endNs: number;
  curve: EpisodeCurve;
  epnl: number;
  fills: number;
  makerFills: number;
  takerFills: number;
  volume: number;
  fees: number;
  quotedNs: number;
  finalPosition: number;
  riskRefusals: Record<RiskReason, number>;
  rejects: Record<RejectReason, number>;
}

export function episodeMetrics(x: EpisodeInputs): EpisodeMetrics {
  const { curve } = x;
  const n = curve.equity.length;
  let absPos = 0;
  for (let i = 0; i < n; i++) absPos += Math.abs(curve.position[i]);
  const map = n > 0 ? absPos / n : 0;
  // Step PnL: differences of equity, starting from 0.
  let sum = 0;
  let sumSq = 0;
  let prev = 0;
  let peak = 0;
  let mdd = 0;
  for (let i = 0; i < n; i++) {
    const e = curve.equity[i];
    const d = e - prev;
    prev = e;
    sum += d;
    sumSq += d * d;
    if (e > peak) peak = e;
    if (peak - e > mdd) mdd = peak - e;
  }
  let sharpe = 0;
  if (n >= 2) {
    const mean = sum / n;
    const variance = (sumSq - n * mean * mean) / (n - 1);
    const sd = variance > 0 ? Math.sqrt(variance) : 0;
    sharpe = sd > 1e-12 * Math.max(1, Math.abs(mean)) ? mean / sd : 0;
  }
  return {
    episode: x.episode,
    startNs: x.startNs,
    endNs: x.endNs,
    epnl: x.epnl,
    map,
    pnlMap: map > 0 ? x.epnl / map : x.epnl,
    rpt: x.fills > 0 ? x.epnl / x.fills : 0,
    sharpe,
    maxDrawdown: mdd,
    fills: x.fills,
    makerFills: x.makerFills,
    takerFills: x.takerFills,
    volume: x.volume,
    fees: x.fees,
    quotedTime: x.endNs > x.startNs ? x.quotedNs / (x.endNs - x.startNs) : 0,
    finalPosition: x.finalPosition,
    steps: n,
    riskRefusals: x.riskRefusals,
    rejects: x.rejects,
  };
}

export interface MeanStd {
  mean: number;
  std: number;
}

export const SUMMARY_KEYS = ['epnl', 'map', 'pnlMap', 'rpt', 'sharpe', 'maxDrawdown', 'fills', 'quotedTime', 'volume', 'fees'] as const;
export type SummaryKey = (typeof SUMMARY_KEYS)[number];

export interface MetricsSummary {
  episodes: number;
  stats: Record<SummaryKey, MeanStd>;
  /** Risk refusals and exchange rejects summed over episodes. */
  riskRefusals: Record<string, number>;
  rejects: Record<string, number>;
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  let s = 0;
  for (const v of values) s += v;
  const mean = s / n;
  if (n === 1) return { mean, std: 0 };
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

export function summarize(list: readonly EpisodeMetrics[]): MetricsSummary {
  const stats = {} as Record<SummaryKey, MeanStd>;
  for (const k of SUMMARY_KEYS) stats[k] = meanStd(list.map((m) => m[k]));
  const sumRecords = (pick: (m: EpisodeMetrics) => Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const m of list) for (const [k, v] of Object.entries(pick(m))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return { episodes: list.length, stats, riskRefusals: sumRecords((m) => m.riskRefusals), rejects: sumRecords((m) => m.rejects) };
}
