// One strategy trading on the simulated exchange: latency between the two sides, the risk overlay in the
// only order path, the lifecycle state machine, the true account (exchange side) and the known one
// (strategy side, from delivered fills), and the metrics clock. The runner (backtest.ts) calls
// beforeEvent(t) / afterEvent(row, t) around each event the shared ReplayBook applies.
import { EventFlag, Side } from '../core/event';
import { InstrumentInfo } from '../core/instrument';
import { EngineError, expected } from '../errors';
import { Feature, NUM_FEATURES } from '../market/market-engine';
import { Account } from './account';
import { SimExchange } from './exchange';
import { LatencyModel, LatencySpec } from './latency';
import { EpisodeCurve, EpisodeMetrics, episodeMetrics } from './metrics';
import { QueueModelConfig, queueModelId } from './queue';
import { ReplayBook } from './replay-book';
import { RiskLimits, RiskOverlay } from './risk';
import { Lifecycle, MarketView, OrderGateway, Strategy } from './strategy';
import { ActionKind, ExecReport, FeeSchedule, OrderAction, ReportKind, TimeInForce } from './types';

export interface SimConfig {
  instrument: InstrumentInfo;
  /** Quote size handed to strategies, lots. */
  orderQty: number;
  /** Price grid in ticks (default 1): orders off it are rejected by the exchange. */
  priceStep?: number;
  fees: FeeSchedule;
  queue: QueueModelConfig;
  latency: { feed: LatencySpec; entry: LatencySpec; response: LatencySpec };
  risk: RiskLimits;
  /** Metrics clock: equity and inventory are sampled every stepNs; the loss limit is checked then too. */
  stepNs: number;
  /** Quoting starts this long after the episode start (and once the book is two-sided). */
  warmupNs: number;
  seed: number;
  /** Strategies may explore (RL training). */
  training?: boolean;
  /** Record every fill and per-step account state (reconciliation tests). */
  audit?: boolean;
}

export interface AuditTrail {
  /** Per fill at the exchange, in order: sign (+1 buy), price, qty, fee (tick·lots). */
  fills: number[][];
  /** Per step: fills so far, position, cashTL, feesTL, mid, equity (quote currency). */
  steps: number[][];
}

class Working {
  constructor(public side: Side, public leaves: number) {}
}

const BID = 0; // quote slot indices
const ASK = 1;
const F_MID = Feature.Mid;
const F_SPREAD = Feature.Spread;
const F_BID = Feature.BidPrice;
const F_ASK = Feature.AskPrice;
const EOM = EventFlag.EndOfMessage;
const SIDE_BID = Side.Bid;

export class Simulation implements OrderGateway {
  readonly strategy: Strategy;
  readonly cfg: SimConfig;
  readonly exchange: SimExchange;
  readonly account = new Account(); // true, exchange side
  readonly known = new Account(); // as the strategy knows it
  readonly risk: RiskOverlay;
  lifecycle = new Lifecycle();
  readonly episodes: EpisodeMetrics[] = [];
  readonly curves: EpisodeCurve[] = [];
  readonly lifecycles: Lifecycle[] = [];
  /** With cfg.audit: the current episode's trail, and those of finished episodes. */
  audit: AuditTrail | undefined;
  readonly audits: AuditTrail[] = [];
  nowNs = 0;
  /** OrderGateway.quoteEpoch: bumped by every send, cancel, report delivery and episode start. */
  quoteEpoch = 0;

  private readonly feedLat: LatencyModel;
  private readonly entryLat: LatencyModel;
  private readonly feedConst: number; // NaN when the feed latency is random
  private readonly tlValue: number; // quote currency per tick·lot
  private readonly step: number;
  private readonly maxPosition: number; // cfg.risk.maxPosition, read by fits() twice per decision
  private features: Float64Array = new Float64Array(0);
  private stale: Uint8Array = new Uint8Array(0);
  private pending: OrderAction[] = [];
  private pendingHead = 0;
  private lastArrival = -Infinity;
  private nextClientId = 1;
  private readonly working = new Map<number, Working>();
  private readonly workingQty = new Float64Array(3);
  private readonly slotId = new Int32Array([-1, -1]);
  private readonly slotPx = new Float64Array(2);
  private readonly slotQty = new Float64Array(2);
  /** The Working entry of each quote slot (undefined when empty): spares a Map lookup per decision. */
  private readonly slotWork: (Working | undefined)[] = [undefined, undefined];
  private flattenId = -1;
  // Episode state.
  private episode = -1;
  private startNs = 0;
  private endNs = 0;
  private nextStepNs = Infinity;
  private curve = new EpisodeCurve();
  private quotedNs = 0;
  private lastQuoteCheckNs = 0;
  private lastMid = NaN;

  constructor(strategy: Strategy, book: ReplayBook, cfg: SimConfig) {
    if (!(cfg.orderQty > 0) || !Number.isInteger(cfg.orderQty)) throw expected('a positive integer number of lots', 'orderQty', cfg.orderQty);
    if (!(cfg.stepNs > 0) || !Number.isFinite(cfg.stepNs)) throw expected('a positive step (ns)', 'stepNs', cfg.stepNs);
    if (!(cfg.warmupNs >= 0)) throw expected('a warm-up >= 0 ns', 'warmupNs', cfg.warmupNs);
    for (const k of ['makerBps', 'takerBps'] as const) {
      if (!Number.isFinite(cfg.fees[k])) throw expected('a finite number of bps', `fees.${k}`, cfg.fees[k]);
    }
    this.strategy = strategy;
    this.cfg = cfg;
    this.risk = new RiskOverlay(cfg.risk);
    this.feedLat = new LatencyModel(cfg.latency.feed, cfg.seed, 101);
    this.entryLat = new LatencyModel(cfg.latency.entry, cfg.seed, 102);
    const responseLat = new LatencyModel(cfg.latency.response, cfg.seed, 103);
    this.feedConst = cfg.latency.feed.dist === 'constant' ? cfg.latency.feed.ns : NaN;
    this.tlValue = cfg.instrument.tickSize * cfg.instrument.lotSize;
    const step = cfg.priceStep ?? 1;
    if (!Number.isInteger(step) || step < 1) throw expected('a positive integer number of ticks', 'priceStep', step);
    this.step = step;
    this.maxPosition = cfg.risk.maxPosition;
    this.exchange = new SimExchange(book, this.account, cfg.fees, queueModelId(cfg.queue), cfg.queue.power ?? 2, responseLat, step);
    if (cfg.queue.model === 'fifo' && book.bookType !== 'L3') {
      throw new EngineError('E_CONFIG', `the fifo queue model needs L3 (market-by-order) data; ${cfg.instrument.symbol} is ${book.bookType}`);
    }

  }

  // ---- OrderGateway ------------------------------------------------------------------------------
  get position(): number {
    return this.known.position;
  }
  get cashTL(): number {
    return this.known.cashTL;
  }
  get feesTL(): number {
    return this.known.feesTL;
  }
  get fills(): number {
    return this.known.fills;
  }
  quotePrice(side: Side): number {
    return this.slotPx[side === Side.Bid ? BID : ASK];
  }
  quoteQty(side: Side): number {
    const s = side === Side.Bid ? BID : ASK;
    return this.slotId[s] < 0 ? 0 : this.slotQty[s];
  }

  quote(side: Side, price: number, qty: number): boolean {
    const s = side === SIDE_BID ? BID : ASK;
    const id = this.slotId[s];
    if (!(qty > 0) || price !== price) {
      if (id >= 0) this.cancel(id);
      return true;
    }
    if (id >= 0 && this.slotPx[s] === price && this.slotQty[s] === qty) return true;
    if (id < 0) {
      const nid = this.send(ActionKind.New, -1, side, price, qty, TimeInForce.PostOnly, false);
      if (nid < 0) return false;
      this.slotId[s] = nid;
      this.slotWork[s] = this.working.get(nid);
    } else if (this.send(ActionKind.Modify, id, side, price, qty, TimeInForce.PostOnly, false) < 0) return false;
    this.slotPx[s] = price;
    this.slotQty[s] = qty;
    return true;
  }

  fits(side: Side, qty: number): boolean {
    const w = this.slotWork[side === SIDE_BID ? BID : ASK];
    const sign = side === SIDE_BID ? 1 : -1;
    const pos = this.known.position;
    const exposure = pos + sign * (this.workingQty[side] - (w ? w.leaves : 0) + qty);
    return Math.abs(exposure) <= this.maxPosition || (sign * pos < 0 && Math.abs(exposure) <= Math.abs(pos));
  }

  cancelQuotes(): void {
    if (this.slotId[BID] >= 0) this.cancel(this.slotId[BID]);
    if (this.slotId[ASK] >= 0) this.cancel(this.slotId[ASK]);
  }

  limit(side: Side, price: number, qty: number, tif: TimeInForce): number {
    return this.send(ActionKind.New, -1, side, price, qty, tif, false);
  }

  market(side: Side, qty: number): number {
    const band = this.risk.bandTicks(this.lastMid);
    const st = this.step;
    const price = side === Side.Bid ? Math.floor((this.lastMid + band) / st) * st : Math.ceil((this.lastMid - band) / st) * st;
    return this.send(ActionKind.New, -1, side, price, qty, TimeInForce.Ioc, true);
  }

  cancel(clientId: number): void {
    if (!this.working.has(clientId)) return;
    this.quoteEpoch++;
    for (let s = 0; s < 2; s++) if (this.slotId[s] === clientId) this.clearSlot(s);
    this.enqueue(new OrderAction(ActionKind.Cancel, clientId, Side.None, 0, 0, TimeInForce.Gtc, this.nowNs, 0));
  }

  /** Risk check, then onto the wire. Returns the client id, or -1 when refused. */
  private send(kind: ActionKind, id: number, side: Side, price: number, qty: number, tif: TimeInForce, isMarket: boolean): number {
    this.quoteEpoch++; // a refusal too: the same quote must be tried again
    const w = id >= 0 ? this.working.get(id) : undefined;
    const sign = side === Side.Bid ? 1 : -1;
    const pos = this.known.position;
    const exposure = pos + sign * (this.workingQty[side] - (w ? w.leaves : 0) + qty);
    const reducing = pos !== 0 && sign * pos < 0 && qty <= Math.abs(pos) && this.workingQty[side] === (w ? w.leaves : 0);
    if (this.risk.check(price, qty, isMarket, this.nowNs, exposure, reducing, this.lastMid) !== null) return -1;
    if (kind === ActionKind.New) {
      id = this.nextClientId++;
      this.working.set(id, new Working(side, qty));
      this.workingQty[side] += qty;
    } else if (w) {
      this.workingQty[side] += qty - w.leaves;
      w.leaves = qty;
    }
    this.enqueue(new OrderAction(kind, id, side, price, qty, tif, this.nowNs, 0, isMarket));
    return id;
  }

  private enqueue(a: OrderAction): void {
    let arrival = this.nowNs + this.entryLat.draw();
    if (arrival < this.lastArrival) arrival = this.lastArrival; // one session: messages arrive in order
    this.lastArrival = arrival;
    a.arrivalNs = arrival;
    this.pending.push(a);
  }

  // ---- Runner hooks -------------------------------------------------------------------------------
  onBatch(view: MarketView): void {
    this.features = view.features;
    this.stale = view.stale;
    this.strategy.onBatch(view);
  }

  beginEpisode(index: number, startNs: number, endNs: number): void {
    if (!Number.isFinite(startNs) || !Number.isFinite(endNs) || !(endNs > startNs)) {
      throw expected('finite episode bounds with end > start (ns)', 'episode window', `${startNs}..${endNs}`);
    }
    this.episode = index;
    this.startNs = startNs;
    this.endNs = endNs;
    this.nextStepNs = startNs + this.cfg.stepNs;
    this.curve = new EpisodeCurve();
    this.quotedNs = 0;
    this.lastQuoteCheckNs = startNs;
    this.account.reset();
    this.known.reset();
    this.exchange.reset();
    this.risk.reset();
    this.pending = [];
    this.pendingHead = 0;
    this.lastArrival = -Infinity;
    this.working.clear();
    this.workingQty.fill(0);
    this.clearSlot(BID);
    this.clearSlot(ASK);
    this.flattenId = -1;
    this.lifecycle = new Lifecycle();
    this.nowNs = startNs;
    this.quoteEpoch++;
    if (this.cfg.audit) {
      this.audit = { fills: [], steps: [] };
      this.exchange.fillLog = this.audit.fills;
    }
    this.strategy.beginEpisode({
      instrument: this.cfg.instrument, orderQty: this.cfg.orderQty, priceStep: this.step, maxPosition: this.cfg.risk.maxPosition,
      episodeStartNs: startNs, episodeEndNs: endNs, episode: index, training: this.cfg.training ?? false, seed: this.cfg.seed,
    });
  }

  /** Before the book applies the event at time t: metric steps that ended, then orders that arrived. */
  beforeEvent(t: number): void {
    while (t >= this.nextStepNs) this.onStep(this.nextStepNs);
    const q = this.pending;
    while (this.pendingHead < q.length && q[this.pendingHead].arrivalNs <= t) {
      const a = q[this.pendingHead++];
      this.accrueQuoted(a.arrivalNs);
      this.exchange.process(a, a.arrivalNs);
    }
    if (this.pendingHead > 256 && this.pendingHead * 2 > q.length) {
      q.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /** After the book applied row `row` (time t): fills, reports due, lifecycle, decision. */
  afterEvent(row: number, t: number, flags: number): void {
    const f = this.features;
    const base = row * NUM_FEATURES;
    const ex = this.exchange;
    this.accrueQuoted(t);
    ex.onEvent(t, f[base + F_BID], f[base + F_ASK], (flags & EOM) !== 0);
    const mid = f[base + F_MID];
    if (mid === mid) this.lastMid = mid;
    let local = this.feedConst === this.feedConst ? t + this.feedConst : t + this.feedLat.draw();
    if (local < this.nowNs) local = this.nowNs;
    this.nowNs = local;
    if (ex.outboxHead < ex.outbox.length && ex.outbox[ex.outboxHead].notifyNs <= local) this.deliver(local);
    const st = this.lifecycle.state;
    if (st === 'quoting') {
      if (this.stale[row] !== 0) this.pause(local, 'stale data: sequence gap, waiting for a snapshot');
      else if (f[base + F_SPREAD] > 0) this.strategy.decide(row, this);
      else this.pause(local, 'book not two-sided');
    } else if (st === 'warmingUp' || st === 'paused') {
      if (f[base + F_SPREAD] > 0 && this.stale[row] === 0 && t >= this.startNs + this.cfg.warmupNs) {
        this.lifecycle.to('quoting', local, st === 'paused' ? 'book fresh and two-sided again' : 'warm-up done');
        this.strategy.decide(row, this);
      }
    }
  }

  /** Ends the current episode at endNs: books the final step, cancels everything, returns its metrics. */
  endEpisode(): EpisodeMetrics {
    while (this.endNs >= this.nextStepNs) this.onStep(this.nextStepNs);
    if (this.curve.t.length === 0 || this.curve.t[this.curve.t.length - 1] < this.endNs) this.sample(this.endNs);
    this.accrueQuoted(this.endNs);
    this.exchange.cancelAll(this.endNs, 'episode-end');
    if (this.lifecycle.state !== 'stopped') this.lifecycle.to('stopped', this.endNs, 'episode end');
    const epnl = this.account.equityTL(this.lastMid) * this.tlValue;
    const m = episodeMetrics({
      episode: this.episode, startNs: this.startNs, endNs: this.endNs, curve: this.curve, epnl,
      fills: this.account.fills, makerFills: this.account.makerFills, takerFills: this.account.takerFills,
      volume: this.account.volume, fees: this.account.feesTL * this.tlValue, quotedNs: this.quotedNs,
      finalPosition: this.account.position, riskRefusals: { ...this.risk.refusals }, rejects: { ...this.exchange.stats.rejected },
    });
    this.strategy.endEpisode({
      episode: this.episode, pnl: epnl, equityTL: this.account.equityTL(this.lastMid), finalMid: this.lastMid, finalPosition: this.account.position,
    });
    this.episodes.push(m);
    this.curves.push(this.curve);
    this.lifecycles.push(this.lifecycle);
    if (this.audit) this.audits.push(this.audit);
    this.nextStepNs = Infinity;
    return m;
  }

  // ---- internals ----------------------------------------------------------------------------------
  private accrueQuoted(t: number): void {
    if (t <= this.lastQuoteCheckNs) return;
    if (this.exchange.resting[1] > 0 && this.exchange.resting[2] > 0) this.quotedNs += t - this.lastQuoteCheckNs;
    this.lastQuoteCheckNs = t;
  }

  private sample(atNs: number): void {
    const a = this.account;
    const equity = a.equityTL(this.lastMid) * this.tlValue;
    this.curve.push(atNs, equity, a.position);
    if (this.audit) this.audit.steps.push([a.fills, a.position, a.cashTL, a.feesTL, this.lastMid, equity]);
  }

  private onStep(atNs: number): void {
    this.sample(atNs);
    this.nextStepNs = atNs + this.cfg.stepNs;
    const st = this.lifecycle.state;
    if (st === 'stopped') return;
    if (st === 'flattening') return this.continueFlatten(atNs);
    const knownPnl = this.known.equityTL(this.lastMid) * this.tlValue;
    if (this.lastMid === this.lastMid && this.risk.lossBreached(knownPnl)) {
      this.lifecycle.to('flattening', atNs, `loss limit: ${knownPnl.toFixed(2)} <= -${this.cfg.risk.maxLoss}`);
      for (const id of [...this.working.keys()]) this.cancel(id);
      this.continueFlatten(atNs);
    }
  }

  private continueFlatten(atNs: number): void {
    const pos = this.known.position;
    if (pos === 0 && this.working.size === 0) {
      this.lifecycle.to('stopped', atNs, 'flat after loss limit');
      return;
    }
    if (pos !== 0 && (this.flattenId < 0 || !this.working.has(this.flattenId))) {
      this.flattenId = this.market(pos > 0 ? Side.Ask : Side.Bid, Math.abs(pos));
    }
  }

  private pause(atNs: number, reason: string): void {
    this.lifecycle.to('paused', atNs, reason);
    this.cancelQuotes();
  }

  private deliver(local: number): void {
    this.quoteEpoch++; // fills move the position and working sizes; rejects void a slot's price
    const ex = this.exchange;
    const box = ex.outbox;
    while (ex.outboxHead < box.length && box[ex.outboxHead].notifyNs <= local) {
      const r = box[ex.outboxHead++];
      this.onReport(r);
      this.strategy.onReport(r, this);
    }
    if (ex.outboxHead > 256) ex.compactOutbox();
  }

  private onReport(r: ExecReport): void {
    const w = this.working.get(r.clientId);
    if (r.kind === ReportKind.Fill) {
      this.known.applyFill(r.side, r.price, r.qty, r.feeTL, r.liquidity === 1);
      if (w) {
        this.workingQty[w.side] -= w.leaves - r.leaves;
        w.leaves = r.leaves;
        if (r.leaves <= 0) this.forget(r.clientId, w);
      }
    } else if (r.kind === ReportKind.Cancelled || (r.kind === ReportKind.Rejected && r.reason !== 'modify-would-cross')) {
      if (w) this.forget(r.clientId, w);
    } else if (r.kind === ReportKind.Rejected) {
      // The modify was refused; the order still works at its old terms: re-quote on the next decision.
      for (let s = 0; s < 2; s++) if (this.slotId[s] === r.clientId) this.slotPx[s] = NaN;
    }
  }

  private forget(id: number, w: Working): void {
    this.workingQty[w.side] -= w.leaves;
    this.working.delete(id);
    for (let s = 0; s < 2; s++) if (this.slotId[s] === id) this.clearSlot(s);
  }

  private clearSlot(s: number): void {
    this.slotId[s] = -1;
    this.slotWork[s] = undefined;
  }
}
