// Plain TypeScript order books for the feature reference (src/features/reference.ts): a sorted-array
// ladder with Map quantities, and L2/L3 books with the semantics of native/book/l2_book.h and l3_book.h
// (untracked liquidity under order id 0 included). Fast enough to replay the real files in tests;
// src/book/reference-book.ts (sorting on every read) is the book conformance reference.
import { EVENT_SIZE, EventFlag, EventKind, Side } from '../core/event';

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

export function crossed(b: RefBook): boolean {
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
