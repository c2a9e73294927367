// Per-event view of the replayed book that the simulated exchange needs and the native engine does not
// expose mid-batch: level quantity at any price (L2 and L3) and, on L3 data, each order's arrival stamp
// (its FIFO priority), so a virtual order's queue position can be tracked exactly. One per instrument,
// shared by every simulation over the same tape; apply(row) decodes the row and records what changed.
import { EVENT_SIZE, EventFlag, EventKind, Side } from '../core/event';
import { BookType } from '../core/instrument';
import { OrderTable } from './order-table';

const K_ADD = EventKind.Add;
const K_MODIFY = EventKind.Modify;
const K_CANCEL = EventKind.Cancel;
const K_DELETE = EventKind.DeleteLevel;
const K_TRADE = EventKind.Trade;
const K_SNAP = EventKind.SnapshotBegin;
const K_CLEAR = EventKind.Clear;
const EXEC_HIDDEN = EventFlag.ExecResting | EventFlag.Hidden;
const EXEC = EventFlag.ExecResting;
const BID_SIDE = Side.Bid;
const ASK_SIDE = Side.Ask;
const DENSE_CAP = 1 << 18; // most ticks kept in a flat array per side; prices outside go to a Map
const DENSE_START = 1 << 12; // the flat array starts this small (a book per run: no megabytes to zero) and doubles

/**
 * Quantity per price for one side: a flat array around the first price seen, grown (doubling, keeping what
 * it holds) when a price falls outside it, up to DENSE_CAP ticks; prices beyond that go to a Map.
 */
class LevelQty {
  private base = NaN;
  private dense = new Float64Array(DENSE_START);
  private readonly sparse = new Map<number, number>();
  // Written index range, for clear().
  private lo = DENSE_CAP;
  private hi = -1;

  get(price: number): number {
    const i = price - this.base;
    if (i >= 0 && i < this.dense.length) return this.dense[i];
    return this.sparse.get(price) ?? 0; // empty until the flat array is at DENSE_CAP
  }

  set(price: number, qty: number): void {
    if (this.base !== this.base) this.base = price - DENSE_START / 2;
    let i = price - this.base;
    if ((i < 0 || i >= this.dense.length) && this.dense.length < DENSE_CAP) {
      this.grow(price);
      i = price - this.base;
    }
    if (i >= 0 && i < this.dense.length) {
      this.dense[i] = qty;
      if (i < this.lo) this.lo = i;
      if (i > this.hi) this.hi = i;
    } else if (qty > 0) this.sparse.set(price, qty);
    else this.sparse.delete(price);
  }

  clear(): void {
    if (this.hi >= this.lo) this.dense.fill(0, this.lo, this.hi + 1);
    this.lo = DENSE_CAP;
    this.hi = -1;
    this.sparse.clear();
  }

  /** Doubles the flat array until it spans `price` too (at most DENSE_CAP), the old window centred in the new span and kept whole. */
  private grow(price: number): void {
    const old = this.dense;
    const from = Math.min(this.base, price);
    const to = Math.max(this.base + old.length, price + 1);
    let n = old.length * 2;
    while (n < to - from && n < DENSE_CAP) n *= 2;
    let base = Math.floor((from + to - n) / 2);
    if (base > this.base) base = this.base;
    if (base + n < this.base + old.length) base = this.base + old.length - n;
    const shift = this.base - base;
    this.dense = new Float64Array(n);
    this.dense.set(old, shift);
    this.base = base;
    if (this.hi >= this.lo) {
      this.lo += shift;
      this.hi += shift;
    }
  }
}

/**
 * Decoded current event plus what it changed. After apply(row):
 *  - kind, side, price, qty, flags: the event's fields (side of a trade = aggressor).
 *  - nChanges level changes (0..2): chSide/chPrice/chPrev/chNew (an L3 price move gives two).
 *  - On L3 books, ordFound says the event touched a known order: ordSide/ordPrice (its level before the
 *    event), ordStamp (its FIFO stamp: smaller = earlier), ordDelta (qty it lost at that level; negative
 *    when it grew and kept priority), ordExec (the loss was an execution).
 *  - cleared: the book was emptied (SnapshotBegin / Clear): queue positions are void.
 */
export class ReplayBook {
  readonly bookType: BookType;
  private readonly l3: boolean;
  kind = 0;
  side = 0;
  price = 0;
  qty = 0;
  flags = 0;
  nChanges = 0;
  readonly chSide = new Uint8Array(2);
  readonly chPrice = new Float64Array(2);
  readonly chPrev = new Float64Array(2);
  readonly chNew = new Float64Array(2);
  ordFound = false;
  ordSide = 0;
  ordPrice = 0;
  ordStamp = 0;
  ordDelta = 0;
  ordExec = false;
  cleared = false;
  /** Stamp the next order to join the book gets: a virtual order arriving now sits behind every stamp below it. */
  nextStamp = 1;
  /** Events naming an L3 order the book never saw (book predates the data): skipped. */
  unknownOrders = 0;

  private readonly levels: [LevelQty, LevelQty, LevelQty];
  private u8: Uint8Array = new Uint8Array(0);
  private i32: Int32Array = new Int32Array(0);
  private u16: Uint16Array = new Uint16Array(0);
  private readonly orders = new OrderTable();

  constructor(bookType: BookType) {
    this.bookType = bookType;
    this.l3 = bookType === 'L3';
    const bids = new LevelQty();
    this.levels = [bids, bids, new LevelQty()]; // indexed by Side; index 0 (no side) is never written
  }

  /** Points the book at a new batch of 64-byte events (8-byte aligned, as the log reader yields). */
  setBatch(events: Uint8Array): void {
    this.u8 = events;
    this.i32 = new Int32Array(events.buffer, events.byteOffset, events.byteLength >> 2);
    this.u16 = new Uint16Array(events.buffer, events.byteOffset, events.byteLength >> 1);
  }

  /** Level quantity (lots) resting at price on side (1 bid, 2 ask); 0 when none. */
  levelQty(side: number, price: number): number {
    return this.levels[side].get(price);
  }

  /** Decodes row `row` of the current batch and applies it. */
  apply(row: number): void {
    const w = row * 16;
    const b = row * EVENT_SIZE;
    this.kind = this.u8[b + 60];
    this.side = this.u8[b + 61];
    this.flags = this.u16[row * 32 + 31];
    this.price = this.i32[w + 5] * 4294967296 + (this.i32[w + 4] >>> 0);
    this.qty = this.i32[w + 7] * 4294967296 + (this.i32[w + 6] >>> 0);
    this.nChanges = 0;
    this.ordFound = false;
    this.cleared = false;
    const kind = this.kind;
    if (kind === K_TRADE) {
      if (this.l3 && (this.flags & EXEC_HIDDEN) === EXEC) {
        const at = this.findOrder(w);
        if (at >= 0) this.reduceOrder(at, this.qty, true);
      }
      return;
    }
    if (kind === K_SNAP || kind === K_CLEAR) {
      this.clearAll();
      return;
    }
    if (kind < K_ADD || kind > K_DELETE) return; // Bbo, Status, SnapshotEnd, None
    if (this.l3) this.applyOrder(kind, w);
    else this.applyLevel(kind);
  }

  /** Table index of the order named by the event at word offset w, or -1 (counted as unknown). */
  private findOrder(w: number): number {
    const lo = this.i32[w + 8];
    const hi = this.i32[w + 9];
    const at = this.orders.find(OrderTable.idOf(lo, hi), OrderTable.hashOf(lo, hi));
    if (at < 0) this.unknownOrders++;
    return at;
  }

  private change(side: number, price: number, prev: number, next: number): void {
    const k = this.nChanges++;
    this.chSide[k] = side;
    this.chPrice[k] = price;
    this.chPrev[k] = prev;
    this.chNew[k] = next;
    this.levels[side].set(price, next);
  }

  private applyLevel(kind: number): void {
    const side = this.side;
    if ((side !== BID_SIDE && side !== ASK_SIDE) || this.qty < 0) return; // the native book rejects these too
    const prev = this.levels[side].get(this.price);
    let next: number;
    if (kind === K_MODIFY) next = this.qty;
    else if (kind === K_DELETE) next = 0;
    else if (kind === K_CANCEL) next = prev - this.qty;
    else next = prev + this.qty; // Add
    if (next < 0) next = 0;
    if (next !== prev) this.change(side, this.price, prev, next);
  }

  private applyOrder(kind: number, w: number): void {
    if (kind === K_DELETE) return; // DeleteLevel names no order: the native L3 book ignores it, and so does this one
    const t = this.orders;
    if (kind === K_ADD) {
      if ((this.side !== BID_SIDE && this.side !== ASK_SIDE) || this.qty <= 0) return;
      const lo = this.i32[w + 8];
      const hi = this.i32[w + 9];
      const id = OrderTable.idOf(lo, hi);
      const hash = OrderTable.hashOf(lo, hi);
      const old = t.find(id, hash);
      if (old >= 0) this.removeOrder(old, false); // replaced: the old one leaves first
      this.addOrder(id, hash, this.side, this.price, this.qty);
      return;
    }
    const at = this.findOrder(w);
    if (at < 0) return;
    if (kind === K_CANCEL) {
      this.reduceOrder(at, this.qty, false);
    } else if (kind === K_MODIFY) {
      const side = t.side[at];
      const oldPrice = t.price[at];
      const oldQty = t.qty[at];
      if (this.qty <= 0) this.removeOrder(at, false);
      else if (this.price !== oldPrice) {
        const id = t.key[at];
        const hash = OrderTable.hashOf(this.i32[w + 8], this.i32[w + 9]);
        this.removeOrder(at, false); // priority lost: re-joins at the back of the new level
        this.addOrder(id, hash, side, this.price, this.qty);
      } else {
        this.noteOrder(at, oldQty - this.qty, false);
        const lv = this.levels[side].get(oldPrice);
        this.change(side, oldPrice, lv, lv - oldQty + this.qty);
        t.qty[at] = this.qty;
      }
    }
  }

  private noteOrder(at: number, delta: number, exec: boolean): void {
    const t = this.orders;
    this.ordFound = true;
    this.ordSide = t.side[at];
    this.ordPrice = t.price[at];
    this.ordStamp = t.stamp[at];
    this.ordDelta = delta;
    this.ordExec = exec;
  }

  private reduceOrder(at: number, by: number, exec: boolean): void {
    const t = this.orders;
    const q = t.qty[at];
    if (by >= q) {
      this.removeOrder(at, exec);
      return;
    }
    if (by <= 0) return;
    this.noteOrder(at, by, exec);
    const side = t.side[at];
    const price = t.price[at];
    const lv = this.levels[side].get(price);
    this.change(side, price, lv, Math.max(0, lv - by));
    t.qty[at] = q - by;
  }

  private removeOrder(at: number, exec: boolean): void {
    const t = this.orders;
    const side = t.side[at];
    const price = t.price[at];
    const q = t.qty[at];
    this.noteOrder(at, q, exec);
    const lv = this.levels[side].get(price);
    this.change(side, price, lv, Math.max(0, lv - q));
    t.remove(at);
  }

  private addOrder(id: number, hash: number, side: number, price: number, qty: number): void {
    this.orders.insert(id, hash, side, price, qty, this.nextStamp++);
    const lv = this.levels[side].get(price);
    if (this.nChanges < 2) this.change(side, price, lv, lv + qty);
    else this.levels[side].set(price, lv + qty);
  }

  private clearAll(): void {
    this.levels[1].clear();
    this.levels[2].clear();
    this.orders.clear();
    this.cleared = true;
  }
}
