// Market calibration on a TRAINING time range only (never the evaluation range):
//  - σ (ticks/√s): realised variance of the mid sampled on a fixed clock, σ² = Σ(Δmid)² / (n·Δt).
//  - A, k: fill intensity at distance δ from the mid, λ(δ) = A·e^(−kδ) per side. Each trade print is a
//    market order that reached depth d = (price − mid before it)·aggressor sign; a quote at δ would have
//    been reached by the prints with d >= δ, so λ̂(δ) = #{d >= δ} / (2·T) on a half-price-step grid from
//    the median half-spread outwards (inside the spread every print reaches the touch: λ is flat there).
//    ln λ̂ = ln A − kδ is fitted by least squares over the grid points with at least 10 prints.
//  - spread, trade size, volatility and flow quantiles (RL state scaling, default quote size).
//  - the price grid: gcd of the book's prices (LOBSTER prices are in 1/10000 $ but trade on whole cents).
import { EventKind, Side } from '../core/event';
import { Feature, NUM_FEATURES } from '../market/market-engine';
import { Tape } from '../backtest/tape';

export interface IntensityPoint {
  delta: number;
  rate: number;
  count: number;
}

export interface MarketCalibration {
  fromNs: number;
  toNs: number;
  seconds: number;
  rows: number;
  sigma: number;
  sigmaSamples: number;
  sigmaSampleNs: number;
  A: number;
  k: number;
  trades: number;
  /** R² of the log-linear intensity fit. */
  fitR2: number;
  points: IntensityPoint[];
  /** Price grid in ticks: gcd of every order/level price seen (1 when the tick is the venue's). */
  priceStep: number;
  medianSpread: number;
  p95Spread: number;
  medianTradeQty: number;
  p95RealisedVol: number;
  p95AbsTradeFlow: number;
  warnings: string[];
}

const MIN_PRINTS = 10;

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

function quantile(values: Float64Array, q: number): number {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1) + 0.5)))];
}

export function calibrateMarket(tape: Tape, fromNs: number, toNs: number, sampleNs = 1e9): MarketCalibration {
  const warnings: string[] = [];
  const seconds = (toNs - fromNs) * 1e-9;
  const spreads: number[] = [];
  const vols: number[] = [];
  const flows: number[] = [];
  const dists: number[] = [];
  const sizes: number[] = [];
  const mids: number[] = [];
  const midTimes: number[] = [];
  let prevMid = NaN;
  let rows = 0;
  let step = 0;
  tape.forEachRow(fromNs, toNs, (b, r) => {
    rows++;
    const f = r * NUM_FEATURES;
    const u8 = b.events;
    const kind = u8[r * 64 + 60];
    if ((kind === EventKind.Add || kind === EventKind.Modify) && step !== 1) {
      const i32 = new Int32Array(u8.buffer, u8.byteOffset + r * 64, 16);
      const price = Math.abs(i32[5] * 4294967296 + (i32[4] >>> 0));
      if (price > 0) step = gcd(step, price);
    }
    if (kind === EventKind.Trade && prevMid === prevMid) {
      const i32 = new Int32Array(u8.buffer, u8.byteOffset + r * 64, 16);
      const price = i32[5] * 4294967296 + (i32[4] >>> 0);
      const qty = i32[7] * 4294967296 + (i32[6] >>> 0);
      const side = u8[r * 64 + 61];
      const d = side === Side.Bid ? price - prevMid : side === Side.Ask ? prevMid - price : Math.abs(price - prevMid);
      dists.push(Math.max(0, d));
      if (qty > 0) sizes.push(qty);
    }
    const mid = b.features[f + Feature.Mid];
    if (mid === mid) {
      prevMid = mid;
      mids.push(mid);
      midTimes.push(b.t[r]);
      const sp = b.features[f + Feature.Spread];
      if (sp > 0) spreads.push(sp);
    }
    const v = b.features[f + Feature.RealisedVol];
    if (v === v) vols.push(v);
    const fl = b.features[f + Feature.TradeFlow];
    if (fl === fl) flows.push(Math.abs(fl));
  });

  // σ from mids on a fixed clock (last mid at or before each tick of the clock).
  let dt = sampleNs;
  if (seconds > 0 && (toNs - fromNs) / dt < 20) dt = (toNs - fromNs) / 20;
  let sumSq = 0;
  let n = 0;
  let j = 0;
  let last = NaN;
  for (let g = fromNs + dt; g <= toNs && mids.length > 0; g += dt) {
    while (j < mids.length && midTimes[j] <= g) j++;
    const m = j > 0 ? mids[j - 1] : NaN;
    if (m === m && last === last) {
      sumSq += (m - last) * (m - last);
      n++;
    }
    last = m;
  }
  let sigma = n > 0 ? Math.sqrt(sumSq / (n * dt * 1e-9)) : NaN;
  if (!(sigma > 0)) {
    warnings.push(`mid never moved on a ${(dt / 1e9).toFixed(3)} s clock over the training range: σ floored at 0.01 ticks/√s`);
    sigma = 0.01;
  }

  // Intensity λ(δ) on a half-tick grid.
  const T = Math.max(seconds, 1e-9);
  const points: IntensityPoint[] = [];
  const sorted = Float64Array.from(dists).sort();
  const priceStep = step > 0 ? step : 1;
  const medianSpread = quantile(Float64Array.from(spreads), 0.5);
  // Inside the spread λ is flat (every print reaches the touch): the fit starts at the median half-spread.
  const j0 = Math.max(1, Math.round((Number.isFinite(medianSpread) ? medianSpread : priceStep) / priceStep));
  for (let j = j0; j <= j0 + 400; j++) {
    const delta = 0.5 * j * priceStep;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < delta - 1e-9) lo = mid + 1;
      else hi = mid;
    }
    const count = sorted.length - lo;
    if (count < MIN_PRINTS) break;
    points.push({ delta, rate: count / (2 * T), count });
  }
  let A: number;
  let k: number;
  let fitR2 = NaN;
  if (points.length >= 2) {
    const xs = points.map((p) => p.delta);
    const ys = points.map((p) => Math.log(p.rate));
    const mx = xs.reduce((s, x) => s + x, 0) / xs.length;
    const my = ys.reduce((s, y) => s + y, 0) / ys.length;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < xs.length; i++) {
      sxy += (xs[i] - mx) * (ys[i] - my);
      sxx += (xs[i] - mx) * (xs[i] - mx);
      syy += (ys[i] - my) * (ys[i] - my);
    }
    const slope = sxy / sxx;
    k = -slope;
    A = Math.exp(my - slope * mx);
    fitR2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1;
  } else {
    k = NaN;
    A = NaN;
  }
  if (!(k > 0) || !Number.isFinite(k)) {
    const total = dists.length / (2 * T);
    k = 2 / priceStep;
    warnings.push(`intensity fit needs prints at >= 2 depths with >= ${MIN_PRINTS} each (have ${points.length} depths, ${dists.length} prints): k set to ${k} per tick, A to the print rate`);
    A = total > 0 ? total * Math.exp(k * 0.5 * priceStep) : 0;
  }

  return {
    fromNs, toNs, seconds, rows, priceStep, sigma, sigmaSamples: n, sigmaSampleNs: dt, A, k, trades: dists.length, fitR2, points,
    medianSpread,
    p95Spread: quantile(Float64Array.from(spreads), 0.95),
    medianTradeQty: quantile(Float64Array.from(sizes), 0.5),
    p95RealisedVol: quantile(Float64Array.from(vols), 0.95),
    p95AbsTradeFlow: quantile(Float64Array.from(flows), 0.95),
    warnings,
  };
}
