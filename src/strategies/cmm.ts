// The CMM market maker for the backtester (../shared/design/cmm.md): per decision, the native feature row →
// x_t (studentVector, the transform the students were trained on) → predictions (mid move, spread, volume) from
// a PredictionSource → quotes by the cmm.md rule (QuoteRule) → gw.quote / gw.cancelQuotes. One class, four
// variants that differ only in where predictions come from:
//   'cmm'      the distilled students + Hájek-MoE through a StudentRunner (native, in-process by default)
//   'student'  no-distillation students (α = β = 0), one per (task, regime), routed by the live regime
//   'kd'       plain KD: one student per task, no regimes, no MoE
//   'teacher'  the teacher's heads, computed every N grid points and usable only after the teacher's latency
// Its own Lifecycle (the backtester's state machine) says why it is or is not quoting:
//   warmingUp  features not yet valid (NaN in x_t) or regime unknown (no realised volatility yet)
//   quoting    fresh prediction, finite quote, risk accepted the orders
//   paused     stale data (sequence gap), features invalid again, stale / missing / NaN predictions,
//              the quote rule pulled, or a risk refusal (cool-down) — quotes are cancelled on entry
//   flattening the strategy's own stop loss was hit: quotes cancelled, position closed by market order
//   stopped    flat after the stop (or episode end): never quotes again this episode
// A quote never carries a NaN: every non-finite input pulls both quotes.
import { Side } from '../core/event';
import { expected } from '../errors';
import { Feature } from '../market/market-engine';
import { studentVector } from '../cmm/dataset';
import { QuoteMarket, QuoteRule, emptyQuote } from '../cmm/quote';
import type { StudentRunner } from '../cmm/inference/types';
import { StudentBank, StudentBankSpec } from '../moe/student-bank';
import { ExecReport } from '../backtest/types';
import { EpisodeEnd, Lifecycle, LifecycleState, MarketView, OrderGateway, Strategy, StrategyContext } from '../backtest/strategy';

export const CMM_VARIANTS = ['cmm', 'student', 'kd', 'teacher'] as const;
export type CmmVariant = (typeof CMM_VARIANTS)[number];

const F_X = 11; // STUDENT_FEATURES.length (dataset.ts); checked against the source's inputs below
const MID = Feature.Mid;
const BID_PX = Feature.BidPrice;
const ASK_PX = Feature.AskPrice;
const RV = Feature.RealisedVol;
const BID = Side.Bid;
const ASK = Side.Ask;

/**
 * Where predictions come from. predict() writes out[0..2] = ŷ_mid (ticks), ŷ_spread (ticks), ŷ_volume
 * (log1p lots) and returns '' when it has a fresh answer, else a constant string saying why not (stale
 * runner, not ready, too old): the strategy pauses and pulls its quotes with that reason.
 */
export interface PredictionSource {
  readonly kind: string;
  /** Floats of x_t it reads (11 for the students; the teacher reads none). */
  readonly inputs: number;
  predict(x: Float32Array, regime: number, tNs: number, out: Float64Array): string;
  /** Called at each episode start (scheduled sources rewind their cursor). */
  reset?(startNs: number): void;
}

/** The live path: a StudentRunner's MoE outputs. Stale runner or no answer within the spin budget → no quote. */
export class RunnerPredictions implements PredictionSource {
  readonly kind: string;
  readonly inputs: number;
  constructor(readonly runner: StudentRunner) {
    this.kind = `runner:${runner.backend}`;
    this.inputs = runner.inputs;
  }
  predict(x: Float32Array, _regime: number, _tNs: number, out: Float64Array): string {
    if (this.runner.stale) return 'predictions stale: the student runner reports stale';
    const p = this.runner.predict(x);
    if (p === null) return 'prediction missing: the student runner had no answer in time';
    out[0] = p.mid;
    out[1] = p.spread;
    out[2] = p.volume;
    return '';
  }
}

/**
 * A student bank without the MoE, read out per task: 'routed' takes student task·R + regime (the
 * no-distillation layout of distill-run), 'perTask' takes student k for task k (plain KD: one student per task).
 * ŷ is the last of each student's O outputs.
 */
export class BankPredictions implements PredictionSource {
  readonly kind: string;
  readonly inputs: number;
  private readonly bank: StudentBank;
  private readonly row: Float32Array;
  private readonly O: number;
  constructor(spec: StudentBankSpec, readonly readout: 'routed' | 'perTask', readonly regimes = 3) {
    const S = spec.students;
    if (readout === 'routed' && S !== 3 * regimes) throw expected(`${3 * regimes} students (3 tasks × ${regimes} regimes)`, 'routed student bank', S);
    if (readout === 'perTask' && S !== 3) throw expected('3 students (one per task)', 'per-task student bank', S);
    this.bank = new StudentBank({ ...spec, moe: undefined });
    this.row = new Float32Array(this.bank.outSize);
    this.O = spec.outputs;
    this.inputs = spec.inputs;
    this.kind = `bank:${readout}`;
  }
  predict(x: Float32Array, regime: number, _tNs: number, out: Float64Array): string {
    this.bank.run(x, this.row);
    const O = this.O, row = this.row;
    if (this.readout === 'routed') {
      const R = this.regimes;
      out[0] = row[(0 * R + regime) * O + O - 1];
      out[1] = row[(1 * R + regime) * O + O - 1];
      out[2] = row[(2 * R + regime) * O + O - 1];
    } else {
      out[0] = row[O - 1];
      out[1] = row[2 * O - 1];
      out[2] = row[3 * O - 1];
    }
    return '';
  }
}

/**
 * Predictions computed ahead (the teacher: its ONNX heads are asynchronous and far slower than one event), each
 * usable from availableNs = decision time + the model's measured latency until maxAgeNs after its decision.
 * Times are tape ns (since the tape's origin), sorted.
 */
export class ScheduledPredictions implements PredictionSource {
  readonly kind = 'scheduled';
  readonly inputs = 0;
  private cursor = -1;
  constructor(readonly decidedNs: Float64Array, readonly availableNs: Float64Array, readonly heads: Float32Array, readonly maxAgeNs: number) {
    const n = decidedNs.length;
    if (availableNs.length !== n || heads.length !== 3 * n) throw expected(`${n} availability times and ${3 * n} heads`, 'scheduled predictions', `${availableNs.length} and ${heads.length}`);
    for (let i = 1; i < n; i++) if (!(availableNs[i] >= availableNs[i - 1])) throw expected('availability times in order', 'scheduled predictions', `${availableNs[i]} after ${availableNs[i - 1]}`);
    if (!(maxAgeNs > 0)) throw expected('a positive age (ns)', 'maxAgeNs', maxAgeNs);
  }
  reset(startNs: number): void {
    // Last prediction available strictly before the episode start (it may still be fresh at the start).
    let lo = 0, hi = this.availableNs.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (this.availableNs[m] <= startNs) lo = m + 1;
      else hi = m;
    }
    this.cursor = lo - 1;
  }
  predict(_x: Float32Array, _regime: number, tNs: number, out: Float64Array): string {
    const av = this.availableNs;
    while (this.cursor + 1 < av.length && av[this.cursor + 1] <= tNs) this.cursor++;
    const c = this.cursor;
    if (c < 0) return 'prediction missing: no teacher answer available yet';
    if (tNs - this.decidedNs[c] > this.maxAgeNs) return 'predictions stale: the latest teacher answer is too old';
    out[0] = this.heads[3 * c];
    out[1] = this.heads[3 * c + 1];
    out[2] = this.heads[3 * c + 2];
    return '';
  }
}

/**
 * Shares one source between several strategies replayed over the same events (a calibration grid): an answer is
 * reused while x_t, the regime and the time are those of the previous call.
 */
export class MemoPredictions implements PredictionSource {
  readonly kind: string;
  readonly inputs: number;
  private readonly lastX: Float32Array;
  private lastRegime = -1;
  private lastT = NaN;
  private lastWhy = '';
  private readonly lastOut = new Float64Array(3);
  constructor(readonly inner: PredictionSource) {
    this.kind = `memo:${inner.kind}`;
    this.inputs = inner.inputs;
    this.lastX = new Float32Array(Math.max(1, inner.inputs));
  }
  reset(startNs: number): void {
    this.lastT = NaN;
    this.inner.reset?.(startNs);
  }
  predict(x: Float32Array, regime: number, tNs: number, out: Float64Array): string {
    const n = this.inputs, lx = this.lastX;
    let same = tNs === this.lastT && regime === this.lastRegime;
    for (let i = 0; same && i < n; i++) if (lx[i] !== x[i]) same = false;
    if (!same) {
      this.lastWhy = this.inner.predict(x, regime, tNs, this.lastOut);
      for (let i = 0; i < n; i++) lx[i] = x[i];
      this.lastRegime = regime;
      this.lastT = tNs;
    }
    out[0] = this.lastOut[0];
    out[1] = this.lastOut[1];
    out[2] = this.lastOut[2];
    return this.lastWhy;
  }
}

export interface CmmQuoteParams {
  /** Risk aversion γ (1 / (tick·lot)), κ fill-intensity decay (1 / tick), fraction of predicted volume quoted. */
  gamma: number;
  kappa: number;
  sizeFraction: number;
  /** σ: mid volatility, ticks / √s (training split); τ_h: the prediction horizon in seconds (training split). */
  sigma: number;
  horizonSeconds: number;
}

export interface CmmParams {
  variant: CmmVariant;
  quote: CmmQuoteParams;
  /** Realised-volatility cut points [q33, q66] fitted on the training split (regime routing, warm-up). */
  regimeCuts: [number, number];
  /** Decide on every N-th event the simulator offers (default 1); quotes rest in between. */
  decideEvery?: number;
  /** Largest quote in clips of the simulator's orderQty (default 1: the baselines' size). */
  maxClips?: number;
  /** Strategy stop loss in quote currency (marked to mid, after fees): flatten and stop. Default: none. */
  stopLoss?: number;
  /** After a risk refusal, stay paused this long (default 100 ms). */
  riskPauseNs?: number;
  /** Display name (default the variant). */
  name?: string;
}

export interface CmmCounters {
  decisions: number;
  predictions: number;
  quoted: number;
  /** Decisions that pulled quotes for want of a usable prediction (stale, missing, NaN). */
  noPrediction: number;
  /** Decisions where the quote rule returned null (a non-finite input). */
  rulePulled: number;
  riskRefused: number;
}

export function validateCmmParams(p: CmmParams): void {
  if (!CMM_VARIANTS.includes(p.variant)) throw expected(CMM_VARIANTS.join(', '), 'cmm variant', p.variant);
  const q = p.quote;
  for (const k of ['gamma', 'kappa', 'sizeFraction', 'sigma'] as const) {
    if (!(q[k] > 0) || !Number.isFinite(q[k])) throw expected('a positive finite number', `cmm.quote.${k}`, q[k]);
  }
  if (!(q.horizonSeconds >= 0) || !Number.isFinite(q.horizonSeconds)) throw expected('a finite number >= 0', 'cmm.quote.horizonSeconds', q.horizonSeconds);
  const c = p.regimeCuts;
  if (!Array.isArray(c) || c.length !== 2 || !(c[0] <= c[1])) throw expected('two ordered cut points', 'cmm.regimeCuts', c);
  if (p.decideEvery !== undefined && !(Number.isInteger(p.decideEvery) && p.decideEvery >= 1)) throw expected('a positive integer', 'cmm.decideEvery', p.decideEvery);
  if (p.maxClips !== undefined && !(p.maxClips > 0)) throw expected('a positive number', 'cmm.maxClips', p.maxClips);
  if (p.stopLoss !== undefined && !(p.stopLoss > 0)) throw expected('a positive loss (quote currency)', 'cmm.stopLoss', p.stopLoss);
  if (p.riskPauseNs !== undefined && !(p.riskPauseNs >= 0)) throw expected('a duration >= 0 ns', 'cmm.riskPauseNs', p.riskPauseNs);
}

export class CmmStrategy implements Strategy {
  readonly name: string;
  readonly params: CmmParams;
  /** This episode's state machine; finished episodes' machines in `lifecycles`. */
  lifecycle = new Lifecycle();
  readonly lifecycles: Lifecycle[] = [];
  readonly counters: CmmCounters = { decisions: 0, predictions: 0, quoted: 0, noPrediction: 0, rulePulled: 0, riskRefused: 0 };
  private readonly source: PredictionSource;
  private rule!: QuoteRule;
  private features: Float64Array = new Float64Array(0);
  private t: Float64Array = new Float64Array(0);
  private stale: Uint8Array = new Uint8Array(0);
  private stride = 0;
  private readonly x = new Float32Array(F_X);
  private readonly pred = new Float64Array(3);
  private readonly market: QuoteMarket = { mid: 0, bestBid: 0, bestAsk: 0, sigma: 0, inventory: 0 };
  private readonly out = emptyQuote();
  private tlValue = 1;
  private step = 1;
  private every = 1;
  private calls = 0;
  private riskUntilNs = -Infinity;
  private flattenSent = false;
  private lastNowNs = 0;

  constructor(params: CmmParams, source: PredictionSource) {
    validateCmmParams(params);
    if (source.inputs !== 0 && source.inputs !== F_X) throw expected(`a source reading ${F_X} student inputs`, 'prediction source', source.inputs);
    this.params = { ...params, quote: { ...params.quote }, regimeCuts: [params.regimeCuts[0], params.regimeCuts[1]] };
    this.source = source;
    this.name = params.name ?? params.variant;
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  beginEpisode(ctx: StrategyContext): void {
    const q = this.params.quote;
    const clip = ctx.orderQty * (this.params.maxClips ?? 1);
    this.rule = new QuoteRule({
      gamma: q.gamma, kappa: q.kappa, sizeFraction: q.sizeFraction, horizon: q.horizonSeconds, tick: ctx.priceStep, lot: 1,
      maxOrderSize: Math.max(1, Math.floor(clip)), maxPosition: ctx.maxPosition,
    });
    this.tlValue = ctx.instrument.tickSize * ctx.instrument.lotSize;
    this.step = ctx.priceStep;
    this.every = this.params.decideEvery ?? 1;
    this.calls = 0;
    this.riskUntilNs = -Infinity;
    this.flattenSent = false;
    this.lastNowNs = ctx.episodeStartNs;
    this.lifecycle = new Lifecycle();
    this.source.reset?.(ctx.episodeStartNs);
  }

  onBatch(view: MarketView): void {
    this.features = view.features;
    this.t = view.t;
    this.stale = view.stale;
    this.stride = view.stride;
  }

  decide(row: number, gw: OrderGateway): void {
    const lc = this.lifecycle;
    const st = lc.state;
    if (st === 'stopped') return;
    const f = this.features;
    const b = row * this.stride;
    const now = gw.nowNs;
    this.lastNowNs = now;
    if (st === 'flattening') return this.continueFlatten(gw, now);
    const mid = f[b + MID];
    const stop = this.params.stopLoss;
    if (stop !== undefined && mid === mid && (gw.cashTL + gw.position * mid - gw.feesTL) * this.tlValue <= -stop) {
      lc.to('flattening', now, `stop loss ${stop} reached`);
      gw.cancelQuotes();
      return this.continueFlatten(gw, now);
    }
    if (st === 'quoting' && ++this.calls % this.every !== 0) return; // decide every N-th event; quotes rest
    this.counters.decisions++;
    if (this.stale[row] !== 0) return this.hold(gw, now, 'stale data: sequence gap, waiting for a snapshot', false);
    const x = this.x;
    studentVector(f, b, x, 0);
    for (let i = 0; i < F_X; i++) if (x[i] !== x[i]) return this.hold(gw, now, 'features not valid (NaN in x_t)', true);
    const rv = f[b + RV];
    if (!(rv >= 0)) return this.hold(gw, now, 'regime unknown (no realised volatility)', true);
    const cuts = this.params.regimeCuts;
    const regime = rv <= cuts[0] ? 0 : rv <= cuts[1] ? 1 : 2;
    const why = this.source.predict(x, regime, this.t[row], this.pred);
    if (why !== '') {
      this.counters.noPrediction++;
      return this.hold(gw, now, why, false);
    }
    this.counters.predictions++;
    const p = this.pred;
    if (!(Number.isFinite(p[0]) && Number.isFinite(p[1]) && Number.isFinite(p[2]))) {
      this.counters.noPrediction++;
      return this.hold(gw, now, 'prediction missing: NaN from the model (no valid expert)', false);
    }
    if (now < this.riskUntilNs) return; // paused after a risk refusal; quotes already pulled
    const m = this.market;
    m.mid = mid;
    m.bestBid = f[b + BID_PX];
    m.bestAsk = f[b + ASK_PX];
    m.sigma = this.params.quote.sigma;
    m.inventory = gw.position;
    // The rule's tick is the venue's price step (LOBSTER: 100 ticks): ŷ_mid and ŷ_spread, in ticks, go in steps.
    const step = this.step;
    const q = this.rule.quote({ mid: p[0] / step, spread: p[1] / step, volume: p[2] }, m, this.out);
    if (q === null || !Number.isFinite(q.bidPrice) || !Number.isFinite(q.askPrice)) {
      this.counters.rulePulled++;
      return this.hold(gw, now, 'quote rule pulled (non-finite input)', false);
    }
    if (lc.state !== 'quoting') lc.to('quoting', now, lc.state === 'warmingUp' ? 'features valid, regime known, prediction fresh' : 'prediction fresh again');
    const bidQty = q.bidSize > 0 && gw.fits(BID, q.bidSize) ? q.bidSize : 0;
    const askQty = q.askSize > 0 && gw.fits(ASK, q.askSize) ? q.askSize : 0;
    const okBid = gw.quote(BID, q.bidPrice, bidQty);
    const okAsk = gw.quote(ASK, q.askPrice, askQty);
    if (!okBid || !okAsk) {
      this.counters.riskRefused++;
      this.riskUntilNs = now + (this.params.riskPauseNs ?? 100e6);
      return this.hold(gw, now, 'risk overlay refused an order: cooling down', false);
    }
    this.counters.quoted++;
  }

  /** No quote now: pull both quotes; warm-up reasons keep a strategy that never quoted in warmingUp. */
  private hold(gw: OrderGateway, now: number, reason: string, warmUpReason: boolean): void {
    gw.cancelQuotes();
    const lc = this.lifecycle;
    if (lc.state === 'quoting' || (lc.state === 'warmingUp' && !warmUpReason)) lc.to('paused', now, reason);
  }

  private continueFlatten(gw: OrderGateway, now: number): void {
    const pos = gw.position;
    if (pos === 0 && gw.quoteQty(BID) === 0 && gw.quoteQty(ASK) === 0) {
      this.lifecycle.to('stopped', now, 'flat after the stop loss');
      return;
    }
    if (pos !== 0 && !this.flattenSent) {
      this.flattenSent = gw.market(pos > 0 ? ASK : BID, Math.abs(pos)) >= 0;
    }
  }

  onReport(_r: ExecReport, _gw: OrderGateway): void {
    // A fill of the flattening order (or its IOC remainder) lets the next decision send what is left.
    if (this.lifecycle.state === 'flattening') this.flattenSent = false;
  }

  endEpisode(_end: EpisodeEnd): void {
    if (this.lifecycle.state !== 'stopped') this.lifecycle.to('stopped', this.lastNowNs, 'episode end');
    this.lifecycles.push(this.lifecycle);
  }
}
