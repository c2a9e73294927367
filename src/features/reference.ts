// Plain TypeScript reference for the native feature kernels and MarketEngine: Map-based L2/L3 books,
// the same features in the same operation order (Math.exp where native uses a table exp within 2 ulp,
// so tests compare to 1e-9 relative), and the same gap/stale/crossed logic.
// Used only by tests (native == reference) and as the "plain TypeScript" benchmark baseline.
import { EventFlag, EventKind, Side } from '../core/event';
import { RefBook, RefEvent, RefLadder, ReferenceL2Book, ReferenceL3Book, crossed, decodeEvent } from './reference-books';

export * from './reference-books';

const NUM_FEATURES = 15; // == market-engine.ts NUM_FEATURES (kept literal: no native import here)
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
export interface RefFeatureConfig {
  ofiHalfLife: number;
  tradeFlowHalfLife: number;
  volatilityHalfLife: number;
  intensityTimeConstant: number;
}
export const DEFAULT_FEATURE_CONFIG: RefFeatureConfig = { ofiHalfLife: 1, tradeFlowHalfLife: 1, volatilityHalfLife: 10, intensityTimeConstant: 1 };

const COUNTED_KINDS = new Set<number>([EventKind.Add, EventKind.Modify, EventKind.Cancel, EventKind.DeleteLevel, EventKind.Trade]);

function depthSum(l: RefLadder, k: number): number {
  let s = 0;
  for (let i = 0; i < Math.min(k, l.size); i++) s += l.qtyAtLevel(i);
  return s;
}

/** The features of native/features/features.h, step for step (formulas documented there). */
export class ReferenceFeatures {
  readonly values = new Float64Array(NUM_FEATURES);
  private readonly kOfi: number;
  private readonly kFlow: number;
  private readonly kVol: number;
  private readonly kInt: number;
  private ofi = 0;
  private flow = 0;
  private variance = 0;
  private intensity = 0;
  private now = 0n;
  private lastTrade = 0n;
  private hasTime = false;
  private hasTrade = false;
  private hasPrev = false;
  private prevBidPx = 0n;
  private prevBidQty = 0;
  private prevAskPx = 0n;
  private prevAskQty = 0;
  private prevMid = NaN;

  constructor(cfg: RefFeatureConfig = DEFAULT_FEATURE_CONFIG) {
    this.kOfi = Math.LN2 / cfg.ofiHalfLife;
    this.kFlow = Math.LN2 / cfg.tradeFlowHalfLife;
    this.kVol = Math.LN2 / cfg.volatilityHalfLife;
    this.kInt = 1 / cfg.intensityTimeConstant;
    this.values.fill(NaN);
    this.values[6] = this.values[7] = this.values[8] = this.values[9] = 0;
    this.values[13] = this.values[14] = 0;
  }

  update(e: RefEvent, bids: RefLadder, asks: RefLadder, consistent: boolean): void {
    if (!this.hasTime || e.t > this.now) {
      if (this.hasTime) {
        const dt = Number(e.t - this.now) * 1e-9;
        this.ofi *= Math.exp(-dt * this.kOfi);
        this.flow *= Math.exp(-dt * this.kFlow);
        this.variance *= Math.exp(-dt * this.kVol);
        this.intensity *= Math.exp(-dt * this.kInt);
      }
      this.now = e.t;
      this.hasTime = true;
    }
    const snapshotFlag = (e.flags & EventFlag.Snapshot) !== 0;
    this.intensity += COUNTED_KINDS.has(e.kind) && !snapshotFlag ? this.kInt : 0;
    if (e.kind === EventKind.Trade) {
      this.flow += (e.side === Side.Bid ? 1 : e.side === Side.Ask ? -1 : 0) * e.qty;
      this.lastTrade = this.now;
      this.hasTrade = true;
    }
    if (e.kind === EventKind.SnapshotBegin || e.kind === EventKind.Clear) this.hasPrev = false;

    const v = this.values;
    const bp = bids.size > 0 ? bids.priceAt(0) : NaN;
    const ap = asks.size > 0 ? asks.priceAt(0) : NaN;
    const bq = bids.size > 0 ? bids.qtyAtLevel(0) : 0;
    const aq = asks.size > 0 ? asks.qtyAtLevel(0) : 0;
    v[0] = (bp + ap) * 0.5;
    v[1] = (bp * aq + ap * bq) / (bq + aq);
    v[2] = ap - bp;
    v[11] = bp;
    v[12] = ap;
    v[13] = bq;
    v[14] = aq;
    [1, 5, 10].forEach((k, j) => {
      const b = depthSum(bids, k);
      const a = depthSum(asks, k);
      v[3 + j] = (b - a) / (b + a);
    });

    const inSnapshot = (snapshotFlag && e.kind !== EventKind.SnapshotEnd) || e.kind === EventKind.SnapshotBegin;
    if (consistent && !inSnapshot) {
      const bpx = bids.size > 0 ? BigInt(bids.priceAt(0)) : I64_MIN;
      const apx = asks.size > 0 ? BigInt(asks.priceAt(0)) : I64_MAX;
      const mid = v[0];
      if (this.hasPrev) {
        const en =
          (bpx >= this.prevBidPx ? bq : 0) -
          (bpx <= this.prevBidPx ? this.prevBidQty : 0) -
          (apx <= this.prevAskPx ? aq : 0) +
          (apx >= this.prevAskPx ? this.prevAskQty : 0);
        this.ofi += en;
        const r = mid - this.prevMid;
        this.variance += r === r ? r * r : 0;
      }
      this.prevBidPx = bpx;
      this.prevBidQty = bq;
      this.prevAskPx = apx;
      this.prevAskQty = aq;
      this.prevMid = mid;
      this.hasPrev = true;
    }
    v[6] = this.ofi;
    v[7] = this.flow;
    v[8] = Math.sqrt(this.variance);
    v[9] = this.intensity;
    v[10] = this.hasTrade ? Number(this.now - this.lastTrade) * 1e-9 : NaN;
  }
}

/** Counts kept by ReferenceMarket (the native MarketEngine's stats()). */
export interface RefCounts {
  events: number;
  gaps: number;
  crossedEpisodes: number;
  prunedLevels: number;
  unknownOrders: number;
  invalidEvents: number;
  staleEvents: number;
  unknownInstruments: number;
}

interface RefInstrument {
  book: RefBook;
  features: ReferenceFeatures;
  lastSeq: bigint;
  stale: boolean;
  crossed: boolean;
  topPx: [number, number]; // bid, ask (NaN = empty)
  topQty: [number, number];
  topChangedAt: [number, number];
}

/** The MarketEngine loop (native/market/market_engine.cc) over the reference books and features. */
export class ReferenceMarket {
  readonly counts: RefCounts = {
    events: 0, gaps: 0, crossedEpisodes: 0, prunedLevels: 0, unknownOrders: 0, invalidEvents: 0, staleEvents: 0, unknownInstruments: 0,
  };
  readonly gaps: { instrument: number; expected: bigint; got: bigint; eventIndex: number }[] = [];
  private readonly inst: RefInstrument[];

  constructor(bookTypes: readonly ('L2' | 'L3')[], cfg: RefFeatureConfig = DEFAULT_FEATURE_CONFIG) {
    this.inst = bookTypes.map((t) => ({
      book: t === 'L3' ? new ReferenceL3Book() : new ReferenceL2Book(),
      features: new ReferenceFeatures(cfg),
      lastSeq: 0n,
      stale: false,
      crossed: false,
      topPx: [NaN, NaN],
      topQty: [0, 0],
      topChangedAt: [0, 0],
    }));
  }

  book(i: number): RefBook {
    return this.inst[i].book;
  }
  features(i: number): Float64Array {
    return this.inst[i].features.values;
  }
  isStale(i: number): boolean {
    return this.inst[i].stale;
  }

  /** Applies `count` events; with `out`, writes each event's feature row (NaN rows for unknown instruments). */
  apply(bytes: Uint8Array, count: number, out?: Float64Array): number {
    let applied = 0;
    for (let i = 0; i < count; i++) {
      const e = decodeEvent(bytes, i);
      const index = this.counts.events + i;
      const s = this.inst[e.instrument];
      if (!s) {
        this.counts.unknownInstruments++;
        out?.fill(NaN, i * NUM_FEATURES, (i + 1) * NUM_FEATURES);
        continue;
      }
      this.step(s, e, index);
      out?.set(s.features.values, i * NUM_FEATURES);
      applied++;
    }
    this.counts.events += count;
    return applied;
  }

  private step(s: RefInstrument, e: RefEvent, index: number): void {
    if (e.seq !== 0n && e.seq !== s.lastSeq) {
      if (e.prevSeq !== 0n && s.lastSeq !== 0n && e.prevSeq !== s.lastSeq) {
        this.counts.gaps++;
        this.gaps.push({ instrument: e.instrument, expected: s.lastSeq, got: e.prevSeq, eventIndex: index });
        s.stale = true;
      }
      s.lastSeq = e.seq;
    }
    const st = s.book.apply(e);
    if (st === 'unknownOrder') this.counts.unknownOrders++;
    if (st === 'invalid') this.counts.invalidEvents++;
    if (e.kind === EventKind.SnapshotEnd) s.stale = false;
    else if (e.kind === EventKind.Clear) s.stale = true;
    if (s.stale) this.counts.staleEvents++;

    const { bids, asks } = s.book;
    const sides: [RefLadder, RefLadder] = [bids, asks];
    sides.forEach((l, k) => {
      const px = l.size > 0 ? l.priceAt(0) : NaN;
      const q = l.size > 0 ? l.qtyAtLevel(0) : 0;
      if (!Object.is(px, s.topPx[k]) || q !== s.topQty[k]) s.topChangedAt[k] = index;
      s.topPx[k] = px;
      s.topQty[k] = q;
    });

    const consistent = (e.flags & EventFlag.EndOfMessage) !== 0;
    if (consistent) {
      if (crossed(s.book)) {
        if (!s.crossed) this.counts.crossedEpisodes++;
        s.crossed = true;
        const staleSide = s.topChangedAt[0] <= s.topChangedAt[1] ? Side.Bid : Side.Ask;
        this.counts.prunedLevels += s.book.pruneCrossed(staleSide);
        const k = staleSide === Side.Bid ? 0 : 1;
        const l = sides[k];
        s.topPx[k] = l.size > 0 ? l.priceAt(0) : NaN;
        s.topQty[k] = l.size > 0 ? l.qtyAtLevel(0) : 0;
      } else s.crossed = false;
    }
    s.features.update(e, bids, asks, consistent);
  }
}
