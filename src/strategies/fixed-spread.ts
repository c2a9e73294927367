// Baseline: quote a fixed distance either side of the mid on every event (bid = mid − h rounded down to the
// price grid, ask = mid + h rounded up), never crossing the book, and stop adding to a side at the position limit.
import { Side } from '../core/event';
import { expected } from '../errors';
import { Feature } from '../market/market-engine';
import { ExecReport } from '../backtest/types';
import { MarketView, OrderGateway, Strategy, StrategyContext } from '../backtest/strategy';

export interface FixedSpreadParams {
  /** Distance from the mid to each quote, ticks (0.5 joins the best on a one-tick spread). */
  halfSpreadTicks: number;
  /** Quote size, lots (default: the simulator's orderQty). */
  qty?: number;
}

export class FixedSpreadStrategy implements Strategy {
  readonly name = 'fixed';
  readonly params: FixedSpreadParams;
  private features: Float64Array = new Float64Array(0);
  private stride = 0;
  private qty = 1;
  private step = 1;

  constructor(params: FixedSpreadParams) {
    if (!(params.halfSpreadTicks >= 0) || !Number.isFinite(params.halfSpreadTicks)) throw expected('a finite half-spread >= 0 ticks', 'fixed.halfSpreadTicks', params.halfSpreadTicks);
    this.params = { ...params };
  }

  beginEpisode(ctx: StrategyContext): void {
    this.qty = this.params.qty ?? ctx.orderQty;
    this.step = ctx.priceStep;
  }

  onBatch(view: MarketView): void {
    this.features = view.features;
    this.stride = view.stride;
  }

  decide(row: number, gw: OrderGateway): void {
    const f = this.features;
    const b = row * this.stride;
    const mid = f[b + Feature.Mid];
    const h = this.params.halfSpreadTicks;
    const st = this.step;
    let bid = Math.floor((mid - h) / st) * st;
    let ask = Math.ceil((mid + h) / st) * st;
    const bestBid = f[b + Feature.BidPrice];
    const bestAsk = f[b + Feature.AskPrice];
    if (bid >= bestAsk) bid = bestAsk - st;
    if (ask <= bestBid) ask = bestBid + st;
    gw.quote(Side.Bid, bid, gw.fits(Side.Bid, this.qty) ? this.qty : 0);
    gw.quote(Side.Ask, ask, gw.fits(Side.Ask, this.qty) ? this.qty : 0);
  }

  onReport(_r: ExecReport, _gw: OrderGateway): void {}
  endEpisode(): void {}
}
