// Plain TypeScript reference for the native feature kernels and MarketEngine: Map-based L2/L3 books,
// the same features with the same floating-point steps, and the same gap/stale/crossed logic.
// Used only by tests (native == reference) and as the "plain TypeScript" benchmark baseline.
import { EVENT_SIZE, EventFlag, EventKind, Side } from '../core/event';

const NUM_FEATURES = 15; // == market-engine.ts NUM_FEATURES (kept literal: no native import here)
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** One side of a price-level book: Map price -> qty plus a price array sorted best first. */
export class RefLadder {
  private readonly qtyAt = new Map<number, number>();
  private prices: number[] = [];
  constructor(readonly isBid: boolean) {}

  get size(): number {
    return this.prices.length;
  }
  /** Price of level i from the top (0 = best). */
  priceAt(i: number): number {
    return this.prices[i];
  }
  qtyAtLevel(i: number): number {
    return this.qtyAt.get(this.prices[i]) as number;
  }
  qty(price: number): number {
    return this.qtyAt.get(price) ?? 0;
  }
  /** a better (more aggressive) than b on this side. */
  better(a: number, b: number): boolean {
    return this.isBid ? a > b : a < b;
  }
  /** Absolute qty; <= 0 removes. */
  set(price: number, qty: number): void {
    if (this.qtyAt.has(price)) {
      if (qty <= 0) this.remove(price);
      else this.qtyAt.set(price, qty);
    } else if (qty > 0) this.insert(price, qty);
  }
  /** Adds dqty; the level goes at <= 0; a missing level is created only for dqty > 0. */
  add(price: number, dqty: number): void {
    const cur = this.qtyAt.get(price);
    if (cur !== undefined) {
      if (cur + dqty <= 0) this.remove(price);
      else this.qtyAt.set(price, cur + dqty);
    } else if (dqty > 0) this.insert(price, dqty);
  }
  /** Removes every level at or better than price; returns how many went. */
  pruneThrough(price: number): number {
    let n = 0;
    while (this.prices.length > 0 && !this.better(price, this.prices[0])) {
      this.qtyAt.delete(this.prices.shift() as number);
      n++;
    }
    return n;
  }
  clear(): void {
    this.qtyAt.clear();
    this.prices = [];
  }
  private index(price: number): number {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.better(this.prices[mid], price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  private insert(price: number, qty: number): void {
    this.prices.splice(this.index(price), 0, price);
    this.qtyAt.set(price, qty);
  }
  private remove(price: number): void {
    this.prices.splice(this.index(price), 1);
    this.qtyAt.delete(price);
  }
}

/** A decoded event with the fields the reference uses (prices and quantities as numbers). */
export interface RefEvent {
  t: bigint; // ts_exchange, or ts_local when ts_exchange is 0
  price: number;
  qty: number;
  orderId: bigint;
  seq: bigint;
  prevSeq: bigint;
  instrument: number;
  kind: number;
  side: number;
  flags: number;
}

export function decodeEvent(bytes: Uint8Array, i: number): RefEvent {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + i * EVENT_SIZE, EVENT_SIZE);
  const tsExchange = dv.getBigInt64(0, true);
  return {
    t: tsExchange !== 0n ? tsExchange : dv.getBigInt64(8, true),
    price: Number(dv.getBigInt64(16, true)),
    qty: Number(dv.getBigInt64(24, true)),
    orderId: dv.getBigUint64(32, true),
    seq: dv.getBigUint64(40, true),
    prevSeq: dv.getBigUint64(48, true),
    instrument: dv.getUint32(56, true),
    kind: dv.getUint8(60),
    side: dv.getUint8(61),
    flags: dv.getUint16(62, true),
  };
}

export type RefStatus = 'ok' | 'unknownOrder' | 'invalid';

export interface RefBook {
  readonly bids: RefLadder;
  readonly asks: RefLadder;
  apply(e: RefEvent): RefStatus;
  /** Drops stale side levels at or through the other side's best; returns levels removed. */
  pruneCrossed(staleSide: Side): number;
}

function crossed(b: RefBook): boolean {
  return b.bids.size > 0 && b.asks.size > 0 && b.bids.priceAt(0) >= b.asks.priceAt(0);
}

/** Market-by-price: Modify = absolute qty, DeleteLevel, Cancel = reduce, Add = raise. */
export class ReferenceL2Book implements RefBook {
  readonly bids = new RefLadder(true);
  readonly asks = new RefLadder(false);
  apply(e: RefEvent): RefStatus {
    if (e.kind === EventKind.SnapshotBegin || e.kind === EventKind.Clear) {
      this.bids.clear();
      this.asks.clear();
      return 'ok';
    }
    const level = e.kind === EventKind.Modify || e.kind === EventKind.DeleteLevel || e.kind === EventKind.Cancel || e.kind === EventKind.Add;
    if (!level) return 'ok';
    if ((e.side !== Side.Bid && e.side !== Side.Ask) || e.qty < 0) return 'invalid';
    const l = e.side === Side.Bid ? this.bids : this.asks;
    if (e.kind === EventKind.Modify) l.set(e.price, e.qty);
    else if (e.kind === EventKind.DeleteLevel) l.set(e.price, 0);
    else if (e.kind === EventKind.Cancel) l.add(e.price, -e.qty);
    else l.add(e.price, e.qty);
    return 'ok';
  }
  pruneCrossed(staleSide: Side): number {
    if (!crossed(this)) return 0;
    return staleSide === Side.Bid ? this.bids.pruneThrough(this.asks.priceAt(0)) : this.asks.pruneThrough(this.bids.priceAt(0));
  }
}

interface RefOrder {
  side: Side;
  price: number;
  qty: number;
}

/**
 * Market-by-order, as native/book/l3_book.h: orders by id aggregated into the two ladders, plus
 * per-level untracked liquidity (order_id 0). Queue order is not modelled (features do not need it).
 */
export class ReferenceL3Book implements RefBook {
  readonly bids = new RefLadder(true);
  readonly asks = new RefLadder(false);
  private readonly orders = new Map<bigint, RefOrder>();
  private readonly levelIds = new Map<string, Set<bigint>>(); // "side:price" -> ids resting there
  private readonly untracked = new Map<string, number>();

  apply(e: RefEvent): RefStatus {
    const validSide = e.side === Side.Bid || e.side === Side.Ask;
    switch (e.kind) {
      case EventKind.SnapshotBegin:
      case EventKind.Clear:
        this.bids.clear();
        this.asks.clear();
        this.orders.clear();
        this.levelIds.clear();
        this.untracked.clear();
        return 'ok';
      case EventKind.Add: {
        if (!validSide || e.qty <= 0) return 'invalid';
        if (e.orderId === 0n) return this.addUntracked(e.side, e.price, e.qty);
        if (this.orders.has(e.orderId)) this.remove(e.orderId);
        this.insert(e.orderId, { side: e.side, price: e.price, qty: e.qty });
        return 'ok';
      }
      case EventKind.Modify: {
        if (e.qty < 0) return 'invalid';
        if (e.orderId === 0n) {
          if (!validSide) return 'invalid';
          return this.addUntracked(e.side, e.price, e.qty - (this.untracked.get(`${e.side}:${e.price}`) ?? 0));
        }
        const o = this.orders.get(e.orderId);
        if (!o) return 'unknownOrder';
        if (e.qty === 0) this.remove(e.orderId);
        else if (e.price !== o.price) {
          this.remove(e.orderId);
          this.insert(e.orderId, { side: o.side, price: e.price, qty: e.qty });
        } else {
          this.ladder(o.side).add(o.price, e.qty - o.qty);
          o.qty = e.qty;
        }
        return 'ok';
      }
      case EventKind.Cancel: {
        if (e.qty <= 0) return 'invalid';
        if (e.orderId === 0n) {
          if (!validSide) return 'invalid';
          this.reduceUntracked(e.side, e.price, e.qty);
          return 'ok';
        }
        if (!this.orders.has(e.orderId)) {
          if (validSide) this.reduceUntracked(e.side, e.price, e.qty);
          return 'unknownOrder';
        }
        this.reduce(e.orderId, e.qty);
        return 'ok';
      }
      case EventKind.Trade: {
        if ((e.flags & EventFlag.ExecResting) === 0 || (e.flags & EventFlag.Hidden) !== 0) return 'ok';
        if (e.qty <= 0) return 'invalid';
        if (e.orderId !== 0n && this.orders.has(e.orderId)) {
          this.reduce(e.orderId, e.qty);
          return 'ok';
        }
        const resting = e.side === Side.Bid ? Side.Ask : e.side === Side.Ask ? Side.Bid : Side.None;
        if (resting !== Side.None) this.reduceUntracked(resting, e.price, e.qty);
        return e.orderId === 0n ? 'ok' : 'unknownOrder';
      }
      case EventKind.DeleteLevel:
        if (!validSide) return 'invalid';
        this.removeLevel(e.side, e.price);
        return 'ok';
      default:
        return 'ok';
    }
  }

  pruneCrossed(staleSide: Side): number {
    if (!crossed(this)) return 0;
    const l = this.ladder(staleSide);
    const limit = staleSide === Side.Bid ? this.asks.priceAt(0) : this.bids.priceAt(0);
    let n = 0;
    while (l.size > 0 && !l.better(limit, l.priceAt(0))) {
      this.removeLevel(staleSide, l.priceAt(0));
      n++;
    }
    return n;
  }

  private ladder(side: Side): RefLadder {
    return side === Side.Bid ? this.bids : this.asks;
  }
  private insert(id: bigint, o: RefOrder): void {
    this.orders.set(id, o);
    const key = `${o.side}:${o.price}`;
    let ids = this.levelIds.get(key);
    if (!ids) this.levelIds.set(key, (ids = new Set()));
    ids.add(id);
    this.ladder(o.side).add(o.price, o.qty);
  }
  private remove(id: bigint): void {
    const o = this.orders.get(id) as RefOrder;
    this.ladder(o.side).add(o.price, -o.qty);
    this.orders.delete(id);
    this.levelIds.get(`${o.side}:${o.price}`)?.delete(id);
  }
  private reduce(id: bigint, qty: number): void {
    const o = this.orders.get(id) as RefOrder;
    if (qty >= o.qty) this.remove(id);
    else {
      o.qty -= qty;
      this.ladder(o.side).add(o.price, -qty);
    }
  }
  private addUntracked(side: Side, price: number, delta: number): RefStatus {
    const key = `${side}:${price}`;
    this.untracked.set(key, (this.untracked.get(key) ?? 0) + delta);
    this.ladder(side).add(price, delta);
    return 'ok';
  }
  private reduceUntracked(side: Side, price: number, by: number): void {
    const key = `${side}:${price}`;
    const u = this.untracked.get(key) ?? 0;
    if (u <= 0) return;
    const r = Math.min(by, u);
    this.untracked.set(key, u - r);
    this.ladder(side).add(price, -r);
  }
  private removeLevel(side: Side, price: number): void {
    const key = `${side}:${price}`;
    for (const id of this.levelIds.get(key) ?? []) this.orders.delete(id);
    this.levelIds.delete(key);
    this.untracked.delete(key);
    this.ladder(side).set(price, 0);
  }
}

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

/** The features of native/features/features.h, step for step (same formulas, same operation order). */
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
