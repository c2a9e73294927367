// A lean plain-TypeScript book for bench/market-data: the strongest simple JS baseline we could write
// for "book update + top-of-book features" (the reference books in src/features are written for
// clarity and decode every event into an object with BigInts). Aggregated levels only (no FIFO, no
// untracked liquidity, no crossed-book pruning): Map price -> qty plus a sorted price array per side,
// orders in a Map by id; fields read straight from the 64-byte rows without allocating.
import { EventKind, EventFlag, Side } from '../src/core/event';

/** Doubles per row: the native 'top' engine's compact row (TOP_OF_BOOK_FEATURES' columns). */
export const TOP_ROW_WIDTH = 8;

/**
 * A compact top-of-book row at out[o], the layout of the native 'top' engine: mid, microprice, spread,
 * imbalance1, best bid and ask prices, best bid and ask quantities.
 */
export function writeTopRow(out: Float64Array, o: number, bp: number, ap: number, bq: number, aq: number): void {
  out[o] = (bp + ap) * 0.5;
  out[o + 1] = (bp * aq + ap * bq) / (bq + aq);
  out[o + 2] = ap - bp;
  out[o + 3] = (bq - aq) / (bq + aq);
  out[o + 4] = bp;
  out[o + 5] = ap;
  out[o + 6] = bq;
  out[o + 7] = aq;
}

class LeanSide {
  readonly qty = new Map<number, number>();
  readonly prices: number[] = []; // worst .. best: the best is popped and pushed at the end
  constructor(private readonly bid: boolean) {}

  get bestPrice(): number {
    const n = this.prices.length;
    return n > 0 ? this.prices[n - 1] : NaN;
  }
  get bestQty(): number {
    const n = this.prices.length;
    return n > 0 ? (this.qty.get(this.prices[n - 1]) as number) : 0;
  }

  add(price: number, dqty: number): void {
    const cur = this.qty.get(price);
    if (cur === undefined) {
      if (dqty > 0) this.insert(price, dqty);
    } else if (cur + dqty > 0) {
      this.qty.set(price, cur + dqty);
    } else {
      this.remove(price);
    }
  }
  set(price: number, qty: number): void {
    const cur = this.qty.get(price);
    if (cur === undefined) {
      if (qty > 0) this.insert(price, qty);
    } else if (qty > 0) {
      this.qty.set(price, qty);
    } else {
      this.remove(price);
    }
  }
  clear(): void {
    this.qty.clear();
    this.prices.length = 0;
  }

  // First index whose price is not worse than price (prices ascend for bids, descend for asks).
  private position(price: number): number {
    const p = this.prices;
    let lo = 0;
    let hi = p.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bid ? p[mid] < price : p[mid] > price) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  private insert(price: number, qty: number): void {
    this.qty.set(price, qty);
    const i = this.position(price);
    if (i === this.prices.length) this.prices.push(price);
    else this.prices.splice(i, 0, price);
  }
  private remove(price: number): void {
    this.qty.delete(price);
    const n = this.prices.length;
    if (this.prices[n - 1] === price) this.prices.pop();
    else this.prices.splice(this.position(price), 1);
  }
}

interface LeanOrder {
  bid: boolean;
  price: number;
  qty: number;
}

const TWO32 = 4294967296;

export class LeanTsBook {
  private readonly bids = new LeanSide(true);
  private readonly asks = new LeanSide(false);
  private readonly orders = new Map<number, LeanOrder>();
  constructor(private readonly l3: boolean) {}

  /**
   * Applies events [start, start + n) of `bytes` (64-byte rows, 8-aligned) and writes each event's
   * top-of-book features (mid, microprice, spread, bid/ask price and qty) into row i of out (15 wide).
   */
  applyBatch(bytes: Uint8Array, start: number, n: number, out: Float64Array): void {
    const w = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    const flagsView = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
    for (let i = 0; i < n; i++) {
      const e = start + i;
      const k = e << 4; // int32 words per event
      const price = w[k + 5] * TWO32 + (w[k + 4] >>> 0);
      const qty = w[k + 7] * TWO32 + (w[k + 6] >>> 0);
      const b = e << 6;
      const kind = bytes[b + 60];
      const side = bytes[b + 61];
      if (this.l3) this.applyL3(kind, side, price, qty, (w[k + 9] >>> 0) * TWO32 + (w[k + 8] >>> 0), flagsView[(e << 5) + 31]);
      else this.applyL2(kind, side, price, qty);
      const bp = this.bids.bestPrice;
      const ap = this.asks.bestPrice;
      const bq = this.bids.bestQty;
      const aq = this.asks.bestQty;
      writeTopRow(out, i * TOP_ROW_WIDTH, bp, ap, bq, aq);
    }
  }

  private applyL2(kind: number, side: number, price: number, qty: number): void {
    if (kind === EventKind.SnapshotBegin || kind === EventKind.Clear) {
      this.bids.clear();
      this.asks.clear();
      return;
    }
    if (side !== Side.Bid && side !== Side.Ask) return;
    const s = side === Side.Bid ? this.bids : this.asks;
    if (kind === EventKind.Modify) s.set(price, qty);
    else if (kind === EventKind.DeleteLevel) s.set(price, 0);
    else if (kind === EventKind.Cancel) s.add(price, -qty);
    else if (kind === EventKind.Add) s.add(price, qty);
  }

  private applyL3(kind: number, side: number, price: number, qty: number, id: number, flags: number): void {
    if (kind === EventKind.Add) {
      if ((side !== Side.Bid && side !== Side.Ask) || qty <= 0) return;
      const bid = side === Side.Bid;
      const old = this.orders.get(id);
      if (old) (old.bid ? this.bids : this.asks).add(old.price, -old.qty);
      this.orders.set(id, { bid, price, qty });
      (bid ? this.bids : this.asks).add(price, qty);
    } else if (kind === EventKind.Cancel || (kind === EventKind.Trade && (flags & EventFlag.ExecResting) !== 0 && (flags & EventFlag.Hidden) === 0)) {
      const o = this.orders.get(id);
      if (!o) return; // resting before the stream started
      const by = qty < o.qty ? qty : o.qty;
      o.qty -= by;
      (o.bid ? this.bids : this.asks).add(o.price, -by);
      if (o.qty <= 0) this.orders.delete(id);
    } else if (kind === EventKind.Modify) {
      const o = this.orders.get(id);
      if (!o) return;
      const s = o.bid ? this.bids : this.asks;
      s.add(o.price, -o.qty);
      if (qty <= 0) {
        this.orders.delete(id);
        return;
      }
      o.price = price;
      o.qty = qty;
      s.add(price, qty);
    } else if (kind === EventKind.SnapshotBegin || kind === EventKind.Clear) {
      this.bids.clear();
      this.asks.clear();
      this.orders.clear();
    }
  }
}
