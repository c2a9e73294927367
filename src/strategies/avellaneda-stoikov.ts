// Avellaneda & Stoikov (2008) quoting on every event. With q = position / quote size (clips), τ = time
// left in the episode (s), σ (ticks/√s), k (1/tick) and risk aversion γ (1/(tick·clip)):
//   reservation r = mid − q·γ·σ²·τ,   total spread δ_a + δ_b = γ·σ²·τ + (2/γ)·ln(1 + γ/k)
//   bid = r − spread/2 rounded down to the price grid, ask = r + spread/2 rounded up; neither crosses the book.
// σ, k (and A) come from the training split only (as-calibration.ts); γ is picked there by a grid search.
import { Side } from '../core/event';
import { expected } from '../errors';
import { Feature } from '../market/market-engine';
import { ExecReport } from '../backtest/types';
import { GridRounding } from '../backtest/grid-rounding';
import { MarketView, OrderGateway, Strategy, StrategyContext } from '../backtest/strategy';

// Feature columns and sides as module constants: the per-event loop reads no enum objects.
const MID = Feature.Mid;
const BID_PX = Feature.BidPrice;
const ASK_PX = Feature.AskPrice;
const BID = Side.Bid;
const ASK = Side.Ask;

export interface AsParams {
  gamma: number;
  /** Mid volatility, ticks per √second. */
  sigma: number;
  /** Fill-intensity decay λ(δ) = A·e^(−kδ), per tick. */
  k: number;
  /** Fill-intensity scale, per second (reported; the quotes do not use it). */
  A: number;
  /** Quote size, lots (default: the simulator's orderQty). */
  qty?: number;
}

export function validateAsParams(p: AsParams): void {
  for (const key of ['gamma', 'sigma', 'k'] as const) {
    const v = p[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw expected('a positive finite number', `as.${key}`, v);
  }
  if (!(p.A >= 0) || !Number.isFinite(p.A)) throw expected('a finite number >= 0', 'as.A', p.A);
}

export class AvellanedaStoikovStrategy implements Strategy {
  readonly name: string;
  readonly params: AsParams;
  private features: Float64Array = new Float64Array(0);
  private t: Float64Array = new Float64Array(0);
  private stride = 0;
  private qty = 1;
  private endNs = 0;
  private step = 1;
  private readonly grid = new GridRounding();
  // Constants of the formulas.
  private g2 = 0; // γσ²
  private base = 0; // (1/γ)·ln(1 + γ/k): half of the τ-free part of the spread
  // The quotes of the last gateway calls and the gateway's quoteEpoch then: the same again is skipped.
  private sentBid = NaN;
  private sentAsk = NaN;
  private sentEpoch: number | undefined;

  constructor(params: AsParams, name = 'as') {
    validateAsParams(params);
    this.params = { ...params };
    this.name = name;
    this.g2 = params.gamma * params.sigma * params.sigma;
    this.base = Math.log1p(params.gamma / params.k) / params.gamma;
  }

  beginEpisode(ctx: StrategyContext): void {
    this.qty = this.params.qty ?? ctx.orderQty;
    this.endNs = ctx.episodeEndNs;
    this.step = ctx.priceStep;
    this.sentEpoch = undefined;
  }

  onBatch(view: MarketView): void {
    this.features = view.features;
    this.t = view.t;
    this.stride = view.stride;
  }

  decide(row: number, gw: OrderGateway): void {
    const f = this.features;
    const b = row * this.stride;
    const mid = f[b + MID];
    let tau = (this.endNs - this.t[row]) * 1e-9;
    if (tau < 0) tau = 0;
    const pos = gw.position;
    const q = pos / this.qty;
    const risk = this.g2 * tau;
    const r = mid - q * risk;
    const half = 0.5 * risk + this.base;
    const st = this.step;
    let bid = this.grid.floor(r - half, st);
    let ask = this.grid.ceil(r + half, st);
    const bestBid = f[b + BID_PX];
    const bestAsk = f[b + ASK_PX];
    if (bid >= bestAsk) bid = bestAsk - st;
    if (ask <= bestBid) ask = bestBid + st;
    const epoch = gw.quoteEpoch;
    if (bid === this.sentBid && ask === this.sentAsk && epoch === this.sentEpoch && epoch !== undefined) return;
    this.sentBid = bid;
    this.sentAsk = ask;
    this.sentEpoch = epoch; // read before the calls: a quote they send (or that risk refuses) bumps it
    const qty = this.qty;
    gw.quote(BID, bid, gw.fits(BID, qty) ? qty : 0);
    gw.quote(ASK, ask, gw.fits(ASK, qty) ? qty : 0);
  }

  /** Quotes the strategy would place (for tests and tools): [bid, ask] at mid, position, τ seconds. */
  quotesAt(mid: number, position: number, tauS: number): [number, number] {
    const risk = this.g2 * tauS;
    const r = mid - (position / (this.params.qty ?? 1)) * risk;
    const half = 0.5 * risk + this.base;
    return [Math.floor(r - half), Math.ceil(r + half)];
  }

  onReport(_r: ExecReport, _gw: OrderGateway): void {}
  endEpisode(): void {}
}
