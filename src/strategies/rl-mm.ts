// Reinforcement-learning market maker after Spooner, Fearnley, Savani & Koukorinis (2018), "Market making
// via reinforcement learning": linear Q-learning over tile-coded state (inventory, spread, volatility,
// book imbalance, signed volume), actions = pairs of quote offsets plus "clear inventory" (a market order
// flattening the position), reward = step PnL with asymmetric dampening
//     r = ΔPnL − η·max(0, inventory·Δmid)
// (speculative gains from holding inventory are damped, losses are not). It decides on a fixed clock
// (decisionNs); quotes stay at their prices until the next decision.
import { Side } from '../core/event';
import { expected } from '../errors';
import { Feature } from '../market/market-engine';
import { Rng } from '../sim/rng';
import { ExecReport } from '../backtest/types';
import { EpisodeEnd, MarketView, OrderGateway, Strategy, StrategyContext } from '../backtest/strategy';
import { TileCoder, TileCodingSpec } from './tile-coding';

/** Offsets (price steps behind the best bid, behind the best ask); the last action clears inventory. */
export const RL_ACTIONS: readonly (readonly [number, number])[] = [
  [0, 0], [1, 1], [2, 2], [4, 4], [0, 2], [2, 0], [1, 3], [3, 1],
];
export const CLEAR_ACTION = RL_ACTIONS.length;
export const RL_ACTION_COUNT = RL_ACTIONS.length + 1;

/**
 * Asymmetrically dampened step reward: ΔPnL − η·max(0, inventory·Δmid). Gains from holding inventory
 * through a favourable move are damped; losses from an adverse move are kept whole.
 */
export function dampedReward(deltaPnl: number, inventory: number, deltaMid: number, eta: number): number {
  return deltaPnl - eta * Math.max(0, inventory * deltaMid);
}

export interface RlScaling {
  /** |position| that maps to ±1 (the risk limit). */
  maxPosition: number;
  /** Spread (ticks) mapped to the top of its range (training 95th percentile). */
  spreadHi: number;
  /** Realised volatility at the top of its range (training 95th percentile). */
  volHi: number;
  /** |signed trade flow| at the edge of its range (training 95th percentile). */
  flowHi: number;
}

export interface RlParams {
  decisionNs: number;
  /** Dampening η of the reward. */
  eta: number;
  /** Learning rate (per update, shared across the active tiles). */
  alpha: number;
  /** Discount per decision. */
  discount: number;
  /** Exploration while training (ε-greedy); 0 when evaluating. */
  epsilon: number;
  scaling: RlScaling;
  tiling: Pick<TileCodingSpec, 'jointBins' | 'lineBins' | 'tilings'>;
  qty?: number;
}

export function rlTilingSpec(p: RlParams): TileCodingSpec {
  const s = p.scaling;
  return {
    lo: [-1, 0, 0, -1, -1],
    hi: [1, Math.max(2, s.spreadHi), Math.max(1e-9, s.volHi), 1, 1],
    ...p.tiling,
  };
}

export class RlMarketMaker implements Strategy {
  readonly name = 'rl';
  readonly params: RlParams;
  readonly coder: TileCoder;
  /** Q weights: action a, feature i at a·coder.size + i. */
  readonly weights: Float64Array;
  training = false;
  epsilon: number;
  /** Decisions and learning updates made (all episodes). */
  decisions = 0;
  updates = 0;
  private rng: Rng;
  private features: Float64Array = new Float64Array(0);
  private t: Float64Array = new Float64Array(0);
  private stride = 0;
  private qty = 1;
  private step = 1;
  private nextDecisionNs = 0;
  private readonly x = new Float64Array(5);
  private readonly q = new Float64Array(RL_ACTION_COUNT);
  private prevActive: Int32Array;
  private prevAction = -1;
  private prevEquityTL = 0;
  private prevMid = NaN;
  private prevPos = 0;

  constructor(params: RlParams, seed: number, weights?: Float64Array) {
    if (!(params.decisionNs > 0)) throw expected('a positive decision interval (ns)', 'rl.decisionNs', params.decisionNs);
    if (!(params.eta >= 0)) throw expected('η >= 0', 'rl.eta', params.eta);
    if (!(params.alpha > 0)) throw expected('a positive learning rate', 'rl.alpha', params.alpha);
    if (!(params.discount >= 0 && params.discount <= 1)) throw expected('a discount in [0, 1]', 'rl.discount', params.discount);
    this.params = { ...params, scaling: { ...params.scaling }, tiling: { ...params.tiling } };
    this.coder = new TileCoder(rlTilingSpec(params));
    this.weights = weights ?? new Float64Array(RL_ACTION_COUNT * this.coder.size);
    if (this.weights.length !== RL_ACTION_COUNT * this.coder.size) throw expected(`${RL_ACTION_COUNT * this.coder.size} weights`, 'rl policy', this.weights.length);
    this.prevActive = new Int32Array(this.coder.nActive);
    this.epsilon = params.epsilon;
    this.rng = new Rng(seed, 7);
  }

  /** Restarts exploration draws from `seed` (each training epoch / evaluation gets its own stream). */
  reseed(seed: number): void {
    this.rng = new Rng(seed, 7);
  }

  beginEpisode(ctx: StrategyContext): void {
    this.qty = this.params.qty ?? ctx.orderQty;
    this.step = ctx.priceStep;
    this.training = ctx.training;
    this.nextDecisionNs = ctx.episodeStartNs;
    this.prevAction = -1;
    this.prevEquityTL = 0;
    this.prevMid = NaN;
    this.prevPos = 0;
  }

  onBatch(view: MarketView): void {
    this.features = view.features;
    this.t = view.t;
    this.stride = view.stride;
  }

  decide(row: number, gw: OrderGateway): void {
    const t = this.t[row];
    if (t < this.nextDecisionNs) return;
    this.nextDecisionNs = t + this.params.decisionNs;
    const f = this.features;
    const b = row * this.stride;
    const mid = f[b + Feature.Mid];
    const pos = gw.position;
    const s = this.params.scaling;
    const x = this.x;
    x[0] = pos / s.maxPosition;
    x[1] = f[b + Feature.Spread];
    x[2] = f[b + Feature.RealisedVol];
    x[3] = f[b + Feature.Imbalance5];
    x[4] = f[b + Feature.TradeFlow] / s.flowHi;
    const active = this.coder.encode(x);
    const equity = gw.cashTL + pos * mid - gw.feesTL;
    if (this.prevAction >= 0) {
      const reward = this.reward(equity, mid);
      if (this.training) this.learn(reward, active, false);
    }
    const a = this.choose(active);
    this.prevActive.set(active);
    this.prevAction = a;
    this.prevEquityTL = equity;
    this.prevMid = mid;
    this.prevPos = pos;
    this.decisions++;
    this.act(a, f, b, pos, gw);
  }

  /** Step reward in ticks per quote clip: ΔPnL minus η × the inventory's gain from the mid move. */
  private reward(equityTL: number, mid: number): number {
    return dampedReward(equityTL - this.prevEquityTL, this.prevPos, mid - this.prevMid, this.params.eta) / this.qty;
  }

  private qValues(active: Int32Array): Float64Array {
    const n = this.coder.size;
    const w = this.weights;
    for (let a = 0; a < RL_ACTION_COUNT; a++) {
      let s = 0;
      const base = a * n;
      for (let i = 0; i < active.length; i++) s += w[base + active[i]];
      this.q[a] = s;
    }
    return this.q;
  }

  private choose(active: Int32Array): number {
    if (this.training && this.epsilon > 0 && this.rng.uniform() < this.epsilon) return this.rng.int(RL_ACTION_COUNT);
    const q = this.qValues(active);
    let best = 0;
    for (let a = 1; a < RL_ACTION_COUNT; a++) if (q[a] > q[best]) best = a;
    return best;
  }

  /** Q-learning: w += α/|active| · (r + γ·max Q(s') − Q(s, a)) on the previous state's tiles. */
  private learn(reward: number, next: Int32Array | null, terminal: boolean): void {
    let target = reward;
    if (!terminal && next) {
      const q = this.qValues(next);
      let m = q[0];
      for (let a = 1; a < RL_ACTION_COUNT; a++) if (q[a] > m) m = q[a];
      target += this.params.discount * m;
    }
    const n = this.coder.size;
    const w = this.weights;
    const base = this.prevAction * n;
    const act = this.prevActive;
    let cur = 0;
    for (let i = 0; i < act.length; i++) cur += w[base + act[i]];
    const step = (this.params.alpha / act.length) * (target - cur);
    for (let i = 0; i < act.length; i++) w[base + act[i]] += step;
    this.updates++;
  }

  private act(a: number, f: Float64Array, b: number, pos: number, gw: OrderGateway): void {
    if (a === CLEAR_ACTION) {
      gw.cancelQuotes();
      if (pos !== 0) gw.market(pos > 0 ? Side.Ask : Side.Bid, Math.abs(pos));
      return;
    }
    const [offBid, offAsk] = RL_ACTIONS[a];
    const bid = f[b + Feature.BidPrice] - offBid * this.step;
    const ask = f[b + Feature.AskPrice] + offAsk * this.step;
    gw.quote(Side.Bid, bid, gw.fits(Side.Bid, this.qty) ? this.qty : 0);
    gw.quote(Side.Ask, ask, gw.fits(Side.Ask, this.qty) ? this.qty : 0);
  }

  onReport(_r: ExecReport, _gw: OrderGateway): void {}

  endEpisode(end: EpisodeEnd): void {
    if (this.training && this.prevAction >= 0 && end.finalMid === end.finalMid) {
      this.learn(this.reward(end.equityTL, end.finalMid), null, true);
    }
    this.prevAction = -1;
  }
}
