// CMM quote rule (shared/design/cmm.md, "From predictions to quotes"): the students' predictions (mid move,
// spread, volume over the horizon) and the inventory become one bid and one ask on the tick grid.
//   reservation  r = mid + ŷ_mid·tick − q·γ·σ²·τ_h          (Avellaneda–Stoikov skew on the predicted mid)
//   half-spread  δ = max(ŷ_spread·tick/2, tick) + (1/γ)·ln(1 + γ/κ)/2
//   size         fraction · expm1(ŷ_volume) (ŷ_volume is log1p-scaled lots), capped by maxOrderSize and by the
//                room left to maxPosition on that side, rounded down to whole lots
//   bid = r − δ rounded DOWN to the grid, ask = r + δ rounded UP; post-only (default): the bid stays at least one
//   tick below the best ask and the ask one tick above the best bid, so neither can cross and take.
// Units: mid, best prices, tick and the resulting prices in one price unit (tick = 1: everything in ticks, the
// engine's convention); σ in that unit per √(time unit of τ_h); q and sizes in lots. Any NaN/Inf input gives
// null (pull the quotes): a quote never carries a NaN price.
import { expected } from '../errors';

export interface QuoteParams {
  /** Risk aversion γ > 0. */
  gamma: number;
  /** Order-arrival decay κ > 0 (fill intensity A·e^(−κδ)). */
  kappa: number;
  /** Fraction of the predicted horizon volume quoted per side, > 0. */
  sizeFraction: number;
  /** τ_h ≥ 0: the prediction horizon in σ's time unit. */
  horizon: number;
  /** Price of one tick (default 1: prices in ticks). */
  tick?: number;
  /** Size granularity in lots (default 1). */
  lot?: number;
  /** Largest order per side, lots ≥ 0. */
  maxOrderSize: number;
  /** Largest |inventory|, lots ≥ 0: a side's size is capped by the room left on it. */
  maxPosition: number;
  /** Keep the bid below the best ask and the ask above the best bid (default true). */
  postOnly?: boolean;
}

/** The MoE outputs (a Prediction from a StudentRunner fits). */
export interface QuotePrediction {
  /** ŷ_mid: expected mid change over the horizon, ticks. */
  mid: number;
  /** ŷ_spread: expected mean spread over the horizon, ticks. */
  spread: number;
  /** ŷ_volume: log1p of the expected traded volume over the horizon, lots. */
  volume: number;
}

export interface QuoteMarket {
  mid: number;
  bestBid: number;
  bestAsk: number;
  /** σ: mid volatility (price unit per √time unit of τ_h). */
  sigma: number;
  /** q: signed inventory, lots. */
  inventory: number;
}

export interface Quote {
  reservation: number;
  halfSpread: number;
  /** Integer grid indices: price = ticks · tick. */
  bidTicks: number;
  askTicks: number;
  bidPrice: number;
  askPrice: number;
  /** Lots (multiples of lot); 0 means the side is not quoted (risk caps or too little predicted volume). */
  bidSize: number;
  askSize: number;
}

export type ResolvedQuoteParams = Required<QuoteParams>;

export function validateQuoteParams(p: QuoteParams): ResolvedQuoteParams {
  if (p === null || typeof p !== 'object') throw expected('a QuoteParams object', 'quote params', p);
  const r: ResolvedQuoteParams = { tick: 1, lot: 1, postOnly: true, ...p };
  const check = (key: keyof QuoteParams, ok: (v: number) => boolean, what: string): void => {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw expected(what, `quote.${key}`, v);
  };
  check('gamma', (v) => v > 0, 'a positive finite number');
  check('kappa', (v) => v > 0, 'a positive finite number');
  check('sizeFraction', (v) => v > 0, 'a positive finite number');
  check('horizon', (v) => v >= 0, 'a finite number >= 0');
  check('tick', (v) => v > 0, 'a positive finite number');
  check('lot', (v) => v > 0, 'a positive finite number');
  check('maxOrderSize', (v) => v >= 0, 'a finite number >= 0');
  check('maxPosition', (v) => v >= 0, 'a finite number >= 0');
  if (typeof r.postOnly !== 'boolean') throw expected('a boolean', 'quote.postOnly', r.postOnly);
  return r;
}

export function emptyQuote(): Quote {
  return { reservation: 0, halfSpread: 0, bidTicks: 0, askTicks: 0, bidPrice: 0, askPrice: 0, bidSize: 0, askSize: 0 };
}

// Rounding tolerance, relative: r ± δ that is a grid point up to float error stays on that point instead of
// moving one tick outward.
const GRID_EPS = 1e-9;

/** Whole lots of `v` (rounded down), 0 when none. */
function lots(v: number, lot: number): number {
  if (!(v > 0)) return 0;
  const n = Math.floor(v / lot + GRID_EPS);
  return n > 0 ? n * lot : 0;
}

/** The quote rule with validated parameters; quote() allocates nothing when given `out`. */
export class QuoteRule {
  readonly params: Readonly<ResolvedQuoteParams>;
  /** (1/γ)·ln(1 + γ/κ)/2: the constant part of the half-spread. */
  readonly asHalfSpread: number;

  constructor(params: QuoteParams) {
    this.params = Object.freeze(validateQuoteParams(params));
    this.asHalfSpread = Math.log1p(this.params.gamma / this.params.kappa) / this.params.gamma / 2;
  }

  /** The quote for a prediction and the market state, or null (pull) when any input is NaN/Inf. */
  quote(pred: QuotePrediction, market: QuoteMarket, out: Quote = emptyQuote()): Quote | null {
    const { gamma, horizon, tick, lot, sizeFraction, maxOrderSize, maxPosition, postOnly } = this.params;
    const { mid, bestBid, bestAsk, sigma, inventory: q } = market;
    const yMid = pred.mid, ySpread = pred.spread, yVolume = pred.volume;
    if (!(Number.isFinite(mid) && Number.isFinite(bestBid) && Number.isFinite(bestAsk) && Number.isFinite(sigma) && Number.isFinite(q) &&
      Number.isFinite(yMid) && Number.isFinite(ySpread) && Number.isFinite(yVolume))) return null;

    const r = mid + yMid * tick - q * gamma * sigma * sigma * horizon;
    const delta = Math.max((ySpread * tick) / 2, tick) + this.asHalfSpread;
    const lo = (r - delta) / tick, hi = (r + delta) / tick;
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null; // overflow on absurd inputs
    let bidTicks = Math.floor(lo + GRID_EPS * Math.max(1, Math.abs(lo)));
    let askTicks = Math.ceil(hi - GRID_EPS * Math.max(1, Math.abs(hi)));
    if (postOnly) {
      const bestBidTicks = Math.round(bestBid / tick), bestAskTicks = Math.round(bestAsk / tick);
      if (bidTicks >= bestAskTicks) bidTicks = bestAskTicks - 1;
      if (askTicks <= bestBidTicks) askTicks = bestBidTicks + 1;
    }

    const size = sizeFraction * Math.expm1(Math.max(yVolume, 0));
    const cap = Math.min(size, maxOrderSize);
    out.reservation = r;
    out.halfSpread = delta;
    out.bidTicks = bidTicks;
    out.askTicks = askTicks;
    out.bidPrice = bidTicks * tick;
    out.askPrice = askTicks * tick;
    out.bidSize = lots(Math.min(cap, maxPosition - q), lot);
    out.askSize = lots(Math.min(cap, maxPosition + q), lot);
    return out;
  }
}

/** One-off form of QuoteRule.quote (validates the parameters on every call: use QuoteRule on the hot path). */
export function quoteFromPrediction(pred: QuotePrediction, market: QuoteMarket, params: QuoteParams): Quote | null {
  return new QuoteRule(params).quote(pred, market);
}
