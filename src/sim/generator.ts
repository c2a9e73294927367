// Synthetic L2 market: event-level order flow in the spirit of Cont, Stoikov & Talreja (2010) on an integer-tick
// book, tethered to a latent fundamental price that carries regimes, drift and injected events. Emits EventBatch bytes.
//
// Model (parameters in flow.ts and scenario.ts):
// - Continuous time, one candidate event at a time (Ogata thinning): limit orders, cancellations and market
//   orders per side. Limit orders arrive at distance i = 1..10 ticks from the opposite best quote with rate
//   k·i^(−α) (CST power law); each resting average-sized order cancels at rate θ(i); market orders arrive at
//   rate μ, optionally Hawkes: λ(t) = μ(1 − α/β) + Σ α e^{−β(t−tᵢ)} per side, simulated exactly by thinning
//   (the excitation only decays between events, so the rate at the last event bounds it).
// - Tether: a latent price F follows dF = drift·dt + σ_regime·dW. Market-order rates tilt towards it
//   (buy × e^{κ(F−mid)}, sell × e^{−κ(F−mid)}, capped), quotes on the wrong side of F are cancelled faster, and
//   new limit orders are not placed through F. The mid therefore follows F at horizons above a few seconds
//   (measured: 10 s realised vol / √10 ≈ σ) with CST microstructure (bounce, queue depletion) below.
// - Regimes low/medium/high set σ (0.4 / 1 / 2.5 ticks per √s), activity (all rates × 0.7 / 1 / 1.6) and
//   market-order size (× 0.8 / 1 / 1.5); `switching` is a Markov chain with exponential holding times
//   (means 600 / 480 / 240 s). Trends set the drift of F (± 2 % of the price an hour); a reversal flips it.
// - Flash crash: F is offset along scenario.crashOffsetFraction; while it falls, buyers step back, bids arrive
//   at 60 %, stale bids are hit rather than pulled and a burst of large aggressive sells (≈ 1 order per tick of
//   fall per second) runs through them. The first 120 s are simulated but not written (settled book).
import { EventBatch, EventFlag, EventKind, Side } from '../core/event';
import type { InstrumentInfo } from '../core/instrument';
import { expected } from '../errors';
import { CRASH_DROP, CST_FLOW, FlowParams } from './flow';
import { Rng } from './rng';
import { SimBook } from './sim-book';
import {
  DEFAULT_TREND_PCT_PER_HOUR, FlashCrash, Injector, InjectorWindow, REGIME_PARAMS, RegimeMode, RegimeParams,
  RegimeSegment, Trend, VolRegime, crashOffsetFraction, crashParams, crashPhaseAt, driftSignAt,
  injectorWindows, realisedVolByRegime, regimeAt, regimePath, validateInjectors,
} from './scenario';

export interface GeneratorOptions {
  /** Length of the generated market in seconds (after the warm-up). */
  seconds: number;
  regime: RegimeMode;
  seed: number;
  trend?: Trend;
  /** |drift| of bull/bear segments, percent of the initial price per hour. */
  trendPctPerHour?: number;
  injectors?: Injector[];
  instrument?: Partial<InstrumentInfo>;
  /** Price (in price units) at the start of the warm-up. */
  initialPrice?: number;
  /** Exchange time of t = 0, ns since the epoch (fixed by default so output does not depend on the clock). */
  startNs?: bigint;
  /** Simulated but not emitted before t = 0, so the first snapshot is a settled book. */
  warmupSeconds?: number;
  /** Approximate events per batch returned by next() (messages are never split). */
  batchEvents?: number;
  flow?: Partial<FlowParams>;
}

export interface GeneratorSummary {
  events: number;
  messages: number;
  seconds: number;
  instrument: InstrumentInfo;
  startNs: bigint;
  /** Ground-truth volatility regime per time. */
  regimes: RegimeSegment[];
  injectorWindows: InjectorWindow[];
  /** Mid (ticks) at t = 0, 1, 2, ... s; the latent fundamental price at the same times. */
  midPerSecond: Float64Array;
  fundamentalPerSecond: Float64Array;
  /** Std of 1-second mid log-returns in basis points, per regime (seconds inside flash-crash windows excluded). */
  realisedVolByRegime: Record<VolRegime, number | null>;
}

export const DEFAULT_INSTRUMENT: InstrumentInfo = { id: 0, symbol: 'SYN', venue: 'synthetic', tickSize: 0.01, lotSize: 1, bookType: 'L2' };
const DEFAULT_START_NS = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z
const WINDOW = 1 << 15;
const SMALL_BIG: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => BigInt(i));
const MAX_SECONDS = 7 * 86400;

interface CrashState {
  c: Required<FlashCrash>;
  refTicks: number;
}

/** Streams a synthetic market batch by batch: `next()` until it returns null, then `summary()`. */
export class MarketGenerator {
  readonly instrument: InstrumentInfo;
  readonly seconds: number;
  private readonly flow: FlowParams;
  private readonly rng: Rng;
  private readonly startNs: bigint;
  private readonly batch: EventBatch;
  private readonly batchEvents: number;
  private readonly book: SimBook;
  private readonly lambda: Float64Array; // λ(i), i = 1..levels at index i − 1
  private readonly lambdaTotal: number;
  private readonly theta: Float64Array; // θ(d) for d = 1..levels (index d), clipped beyond
  private readonly regimes: RegimeSegment[];
  private readonly injectors: Injector[];
  private readonly crashes: CrashState[];
  private readonly schedule: number[]; // times where scenario state changes
  private scheduleIdx = 0;
  private readonly driftTicksPerSec: number;
  private readonly mids: Float64Array;
  private readonly fundamentals: Float64Array;
  private readonly rates = new Float64Array(6);
  private readonly priceCache = new Map<number, bigint>();

  private t: number;
  private fundamental: number; // latent price (ticks) without crash offsets
  private hawkesBuy = 0;
  private hawkesSell = 0;
  private regime: RegimeParams = REGIME_PARAMS.medium;
  private drift = 0;
  private crashOffset = 0; // ticks, refreshed on every rate computation
  private dropCrash: CrashState | null = null;
  private seq = 0;
  private tsNs = 0n;
  private seqBig = 0n;
  private prevSeqBig = 0n;
  private events = 0;
  private done = false;
  private startPending: boolean;

  constructor(options: GeneratorOptions) {
    const o = validateGeneratorOptions(options);
    this.seconds = o.seconds;
    this.flow = { ...CST_FLOW, ...o.flow };
    this.instrument = { ...DEFAULT_INSTRUMENT, ...o.instrument, bookType: 'L2' };
    this.startNs = o.startNs ?? DEFAULT_START_NS;
    this.batchEvents = o.batchEvents ?? 8192;
    this.batch = new EventBatch(this.batchEvents + 1024);
    this.rng = new Rng(o.seed, 0);
    this.regimes = regimePath(o.regime, o.seconds, new Rng(o.seed, 1));
    this.injectors = o.injectors ?? [];
    this.crashes = this.injectors.filter((i): i is FlashCrash => i.kind === 'flash-crash').map((c) => ({ c: crashParams(c), refTicks: 0 }));
    const p0 = Math.round((o.initialPrice ?? 100) / this.instrument.tickSize);
    const trend = o.trend ?? 'sideways';
    const pct = o.trendPctPerHour ?? DEFAULT_TREND_PCT_PER_HOUR;
    this.driftTicksPerSec = trend === 'sideways' ? 0 : ((trend === 'bull' ? 1 : -1) * p0 * pct) / 100 / 3600;

    const f = this.flow;
    this.lambda = new Float64Array(f.levels);
    for (let i = 1; i <= f.levels; i++) this.lambda[i - 1] = f.limitRate * Math.pow(i, -f.limitDecay);
    this.lambdaTotal = this.lambda.reduce((a, b) => a + b, 0);
    this.theta = new Float64Array(f.levels + 1);
    for (let d = 1; d <= f.levels; d++) this.theta[d] = f.cancelRates[Math.min(d, f.cancelRates.length) - 1];

    const warmup = o.warmupSeconds ?? 120;
    this.t = -warmup;
    this.startPending = warmup === 0; // otherwise the t = 0 boundary emits the snapshot
    this.fundamental = p0;
    this.book = new SimBook(WINDOW, p0);
    for (let i = 1; i <= f.levels; i++) {
      this.book.setBid(p0 - i, 1 + this.rng.poisson(2 * f.limitSizeMean));
      this.book.setAsk(p0 + i, 1 + this.rng.poisson(2 * f.limitSizeMean));
    }
    const n = Math.floor(o.seconds) + 1;
    this.mids = new Float64Array(n);
    this.fundamentals = new Float64Array(n);
    const times = new Set<number>([0]);
    for (const s of this.regimes) times.add(s.startSeconds);
    for (const w of injectorWindows(this.injectors)) times.add(w.startSeconds).add(w.endSeconds);
    this.schedule = [...times].filter((x) => x < o.seconds).sort((a, b) => a - b);
    this.refreshScenario();
  }

  /** Fraction of the simulated time done, in [0, 1]. */
  get progress(): number {
    return Math.max(0, Math.min(1, this.t / this.seconds));
  }

  /** The next batch of whole messages, or null at the end. The view is valid until the next call. */
  next(): Uint8Array | null {
    if (this.done) return null;
    this.batch.clear();
    if (this.startPending) {
      this.startPending = false;
      this.onBoundary();
    }
    while (!this.done && this.batch.length < this.batchEvents) this.step();
    return this.batch.length > 0 ? this.batch.bytes() : null;
  }

  summary(): GeneratorSummary {
    return {
      events: this.events,
      messages: this.seq,
      seconds: this.seconds,
      instrument: this.instrument,
      startNs: this.startNs,
      regimes: this.regimes.map((s) => ({ ...s })),
      injectorWindows: injectorWindows(this.injectors),
      midPerSecond: this.mids,
      fundamentalPerSecond: this.fundamentals,
      realisedVolByRegime: realisedVolByRegime(this.mids, this.regimes, injectorWindows(this.injectors)),
    };
  }

  /** One candidate event (Ogata thinning) or one scheduled boundary. */
  private step(): void {
    const total = this.computeRates();
    const tau = this.rng.exponential(total);
    const boundary = this.nextBoundary();
    if (this.t + tau >= boundary) {
      this.advance(boundary - this.t);
      this.t = boundary;
      this.onBoundary();
      return;
    }
    const buy0 = this.hawkesBuy;
    const sell0 = this.hawkesSell;
    this.advance(tau);
    this.t += tau;
    // The Hawkes parts decayed during tau; the rest is held constant between candidates.
    this.rates[4] -= buy0 - this.hawkesBuy;
    this.rates[5] -= sell0 - this.hawkesSell;
    const actual = total - (buy0 - this.hawkesBuy) - (sell0 - this.hawkesSell);
    let u = this.rng.uniform() * total;
    if (u >= actual) return; // thinned
    let kind = 0;
    while (kind < 5 && u >= this.rates[kind]) u -= this.rates[kind++];
    switch (kind) {
      case 0: return this.limitOrder(Side.Bid);
      case 1: return this.limitOrder(Side.Ask);
      case 2: return this.cancel(Side.Bid, u / this.rates[2]);
      case 3: return this.cancel(Side.Ask, u / this.rates[3]);
      case 4: return this.marketOrder(Side.Bid);
      default: return this.marketOrder(Side.Ask);
    }
  }

  private nextBoundary(): number {
    let b = Math.floor(this.t) + 1;
    if (this.scheduleIdx < this.schedule.length && this.schedule[this.scheduleIdx] < b) b = this.schedule[this.scheduleIdx];
    return Math.min(b, this.seconds);
  }

  /** Moves the latent price and the Hawkes excitations forward by dt seconds. */
  private advance(dt: number): void {
    if (dt <= 0) return;
    this.fundamental += this.drift * dt + this.regime.sigmaTicks * Math.sqrt(dt) * this.rng.normal();
    if (this.flow.hawkes) {
      const decay = Math.exp(-this.flow.hawkes.beta * dt);
      this.hawkesBuy *= decay;
      this.hawkesSell *= decay;
    }
  }

  private onBoundary(): void {
    const t = this.t;
    while (this.scheduleIdx < this.schedule.length && this.schedule[this.scheduleIdx] <= t) this.scheduleIdx++;
    if (t === 0) this.emitSnapshot();
    this.refreshScenario();
    if (Number.isInteger(t) && t >= 0) {
      this.pruneAndRecenter();
      this.mids[t] = this.book.mid();
      this.fundamentals[t] = this.fundamental + this.crashOffset;
    }
    if (t >= this.seconds) this.done = true;
  }

  /** Regime, drift sign and crash phase at the current time (they only change at scheduled boundaries). */
  private refreshScenario(): void {
    const t = Math.max(0, this.t);
    this.regime = REGIME_PARAMS[regimeAt(this.regimes, t)];
    this.drift = this.t < 0 ? 0 : this.driftTicksPerSec * driftSignAt(this.injectors, t);
    this.dropCrash = null;
    for (const cs of this.crashes) {
      if (this.t === cs.c.atSeconds) cs.refTicks = this.book.mid();
      if (crashPhaseAt(cs.c, this.t) === 'drop') this.dropCrash = cs;
    }
  }

  /** Fills this.rates (limit bid/ask, cancel bid/ask, market buy/sell) and returns their sum. */
  private computeRates(): number {
    const f = this.flow;
    const act = this.regime.activity * f.rateScale;
    let offset = 0;
    for (const cs of this.crashes) if (this.t > cs.c.atSeconds) offset += crashOffsetFraction(cs.c, this.t) * cs.refTicks;
    this.crashOffset = offset;
    const crash = this.dropCrash;
    const r = this.rates;
    r[0] = act * this.lambdaTotal * (crash ? CRASH_DROP.bidLimitMult : 1);
    r[1] = act * this.lambdaTotal;
    r[2] = act * this.cancelWeight(Side.Bid, -1) * (crash ? CRASH_DROP.bidCancelMult : 1);
    r[3] = act * this.cancelWeight(Side.Ask, -1);
    const cap = crash ? CRASH_DROP.tiltCap : f.tiltCap;
    const dev = f.tiltPerTick * (this.fundamental + offset - this.book.mid());
    const base = act * f.marketRate * (f.hawkes ? 1 - f.hawkes.alpha / f.hawkes.beta : 1);
    r[4] = base * Math.exp(Math.max(-cap, Math.min(cap, dev))) * (crash ? CRASH_DROP.buyMult : 1) + this.hawkesBuy;
    r[5] = base * Math.exp(Math.max(-cap, Math.min(cap, -dev))) + this.hawkesSell;
    if (crash) r[5] += CRASH_DROP.burstPerTickPerSecond * (crash.c.depthPct / 100) * crash.refTicks / crash.c.dropSeconds;
    return r[0] + r[1] + r[2] + r[3] + r[4] + r[5];
  }

  /**
   * Cancellation weight of one side: Σ θ(d)·(q / mean size)·staleness over its levels, d = distance to the
   * opposite best. With `pick` in [0, 1) returns the price of the level whose cumulative weight crosses it.
   */
  private cancelWeight(side: Side, pick: number): number {
    const b = this.book;
    const f = this.flow;
    const fair = this.fundamental + this.crashOffset;
    // In a falling crash stale bids are not pulled: the sell burst hits them (a fall made by aggressive flow).
    const boost = side === Side.Bid && this.dropCrash ? 0 : f.staleCancelBoost;
    const K = f.levels;
    const total = pick >= 0 ? this.cancelWeight(side, -1) * pick : Infinity;
    let w = 0;
    if (side === Side.Bid) {
      for (let p = b.bestBid; p >= b.lowBid; p--) {
        const q = b.bid[p - b.base];
        if (q === 0) continue;
        const d = b.bestAsk - p;
        const stale = p - fair - 0.5;
        w += (this.theta[d < K ? d : K] * q * (stale > 0 ? 1 + boost * stale : 1)) / f.limitSizeMean;
        if (w > total) return p;
      }
      return pick >= 0 ? b.lowBid : w;
    }
    for (let p = b.bestAsk; p <= b.highAsk; p++) {
      const q = b.ask[p - b.base];
      if (q === 0) continue;
      const d = p - b.bestBid;
      const stale = fair - p - 0.5;
      w += (this.theta[d < K ? d : K] * q * (stale > 0 ? 1 + boost * stale : 1)) / f.limitSizeMean;
      if (w > total) return p;
    }
    return pick >= 0 ? b.highAsk : w;
  }

  private limitOrder(side: Side): void {
    let u = this.rng.uniform() * this.lambdaTotal;
    let i = 0;
    while (i < this.lambda.length - 1 && u >= this.lambda[i]) u -= this.lambda[i++];
    const size = this.rng.sizeWithMean(this.flow.limitSizeMean);
    const b = this.book;
    const fair = this.fundamental + this.crashOffset;
    this.beginMessage();
    if (side === Side.Bid) {
      const p = Math.min(b.bestAsk, Math.round(fair + 0.5)) - (i + 1);
      const q = b.bidQty(p) + size;
      b.setBid(p, q);
      this.emit(EventKind.Modify, Side.Bid, p, q, 0);
    } else {
      const p = Math.max(b.bestBid, Math.round(fair - 0.5)) + (i + 1);
      const q = b.askQty(p) + size;
      b.setAsk(p, q);
      this.emit(EventKind.Modify, Side.Ask, p, q, 0);
    }
    this.endMessage();
  }

  private cancel(side: Side, pick: number): void {
    const b = this.book;
    const p = this.cancelWeight(side, pick);
    const q = side === Side.Bid ? b.bidQty(p) : b.askQty(p);
    const sideTotal = side === Side.Bid ? b.bidTotal : b.askTotal;
    let remove = Math.min(q, this.rng.sizeWithMean(this.flow.limitSizeMean));
    if (remove === sideTotal) remove--; // never empty a side: the flow is quoted off the opposite best
    if (remove <= 0) return;
    this.beginMessage();
    if (side === Side.Bid) b.setBid(p, q - remove);
    else b.setAsk(p, q - remove);
    this.emit(EventKind.Modify, side, p, q - remove, 0);
    this.endMessage();
  }

  /** A market order of `side` (Bid = buy aggressor) walks the opposite side, one Trade + one Modify per level. */
  private marketOrder(side: Side): void {
    const b = this.book;
    const crashSell = side === Side.Ask && this.dropCrash ? CRASH_DROP.sellSizeMult : 1;
    let size = this.rng.sizeWithMean(this.flow.marketSizeMean * this.regime.marketSize * crashSell);
    const h = this.flow.hawkes;
    if (h) {
      if (side === Side.Bid) this.hawkesBuy += h.alpha;
      else this.hawkesSell += h.alpha;
    }
    const avail = (side === Side.Bid ? b.askTotal : b.bidTotal) - 1;
    if (size > avail) size = avail;
    if (size <= 0) return;
    this.beginMessage();
    while (size > 0) {
      if (side === Side.Bid) {
        const p = b.bestAsk;
        const q = b.askQty(p);
        const take = Math.min(q, size);
        this.emit(EventKind.Trade, Side.Bid, p, take, 0);
        b.setAsk(p, q - take);
        this.emit(EventKind.Modify, Side.Ask, p, q - take, 0);
        size -= take;
      } else {
        const p = b.bestBid;
        const q = b.bidQty(p);
        const take = Math.min(q, size);
        this.emit(EventKind.Trade, Side.Ask, p, take, 0);
        b.setBid(p, q - take);
        this.emit(EventKind.Modify, Side.Bid, p, q - take, 0);
        size -= take;
      }
    }
    this.endMessage();
  }

  /** Removes levels far from the touch (one message) and keeps the book in the middle of the window. */
  private pruneAndRecenter(): void {
    const b = this.book;
    const far = this.flow.pruneTicks;
    if (b.lowBid < b.bestBid - far || b.highAsk > b.bestAsk + far) {
      this.beginMessage();
      for (let p = b.lowBid; p < b.bestBid - far; p++) {
        if (b.bidQty(p) > 0) {
          b.setBid(p, 0);
          this.emit(EventKind.Modify, Side.Bid, p, 0, 0);
        }
      }
      for (let p = b.highAsk; p > b.bestAsk + far; p--) {
        if (b.askQty(p) > 0) {
          b.setAsk(p, 0);
          this.emit(EventKind.Modify, Side.Ask, p, 0, 0);
        }
      }
      this.endMessage();
    }
    if (!b.insideWindow(WINDOW >> 3)) b.recenter(Math.round(b.mid()));
  }

  private emitSnapshot(): void {
    const b = this.book;
    this.beginMessage();
    this.emit(EventKind.SnapshotBegin, Side.None, 0, 0, 0);
    for (let p = b.bestBid; p >= b.lowBid; p--) if (b.bidQty(p) > 0) this.emit(EventKind.Modify, Side.Bid, p, b.bidQty(p), EventFlag.Snapshot);
    for (let p = b.bestAsk; p <= b.highAsk; p++) if (b.askQty(p) > 0) this.emit(EventKind.Modify, Side.Ask, p, b.askQty(p), EventFlag.Snapshot);
    this.emit(EventKind.SnapshotEnd, Side.None, 0, 0, 0);
    this.endMessage();
  }

  private beginMessage(): void {
    if (this.t < 0) return; // warm-up: the book evolves, nothing is emitted
    this.prevSeqBig = BigInt(this.seq);
    this.seq++;
    this.seqBig = BigInt(this.seq);
    this.tsNs = this.startNs + BigInt(Math.round(this.t * 1e9));
    if (this.seq === 1) this.prevSeqBig = 0n;
  }

  private emit(kind: EventKind, side: Side, price: number, qty: number, flags: number): void {
    if (this.t < 0) return;
    this.batch.push(this.tsNs, this.tsNs, this.instrument.id, kind, side, this.bigPrice(price), qty < SMALL_BIG.length ? SMALL_BIG[qty] : BigInt(qty), 0n, this.seqBig, this.prevSeqBig, flags);
    this.events++;
  }

  /** BigInt of a price, cached: the book revisits the same few thousand prices (saves allocation and GC). */
  private bigPrice(price: number): bigint {
    let b = this.priceCache.get(price);
    if (b === undefined) {
      if (this.priceCache.size > 65536) this.priceCache.clear();
      b = BigInt(price);
      this.priceCache.set(price, b);
    }
    return b;
  }

  private endMessage(): void {
    if (this.t >= 0) this.batch.markLast(EventFlag.EndOfMessage);
  }
}

/** Generates the whole market in memory: all events as one byte array plus the summary. */
export function generateMarket(options: GeneratorOptions): { bytes: Uint8Array; summary: GeneratorSummary } {
  const gen = new MarketGenerator(options);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let b = gen.next(); b; b = gen.next()) {
    parts.push(b.slice());
    total += b.length;
  }
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, summary: gen.summary() };
}

export function validateGeneratorOptions(o: GeneratorOptions): GeneratorOptions {
  if (!(typeof o.seconds === 'number' && o.seconds > 0 && o.seconds <= MAX_SECONDS)) throw expected(`a duration in (0, ${MAX_SECONDS}] seconds`, 'the generated length', o.seconds);
  if (!['low', 'medium', 'high', 'switching'].includes(o.regime)) throw expected('low, medium, high or switching', 'the regime', o.regime);
  if (o.trend !== undefined && !['bull', 'bear', 'sideways'].includes(o.trend)) throw expected('bull, bear or sideways', 'the trend', o.trend);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw expected('a non-negative integer', 'the seed', o.seed);
  if (o.trendPctPerHour !== undefined && !(o.trendPctPerHour >= 0 && o.trendPctPerHour <= 100)) throw expected('a drift in [0, 100] % per hour', 'trendPctPerHour', o.trendPctPerHour);
  const inj = o.injectors ?? [];
  validateInjectors(inj, o.seconds);
  if (inj.some((i) => i.kind === 'reversal') && (o.trend ?? 'sideways') === 'sideways') {
    throw expected('a bull or bear trend (a sideways market has no drift to reverse)', 'the trend with a reversal', o.trend ?? 'sideways');
  }
  const tick = o.instrument?.tickSize ?? DEFAULT_INSTRUMENT.tickSize;
  if (!(tick > 0)) throw expected('a positive tick size', 'instrument.tickSize', tick);
  const p0 = (o.initialPrice ?? 100) / tick;
  if (!(p0 >= 1000 && p0 <= 1e9)) throw expected('an initial price of 1e3 to 1e9 ticks', 'initialPrice / tickSize', p0);
  if (o.batchEvents !== undefined && !(Number.isInteger(o.batchEvents) && o.batchEvents >= 64)) throw expected('an integer ≥ 64', 'batchEvents', o.batchEvents);
  if (o.warmupSeconds !== undefined && !(o.warmupSeconds >= 0 && o.warmupSeconds <= 3600)) throw expected('0 to 3600 seconds', 'warmupSeconds', o.warmupSeconds);
  const h = o.flow?.hawkes;
  if (h && !(h.beta > 0 && h.alpha >= 0 && h.alpha < h.beta)) throw expected('0 ≤ alpha < beta (a stationary Hawkes process)', 'flow.hawkes', `alpha ${h.alpha}, beta ${h.beta}`);
  return o;
}
