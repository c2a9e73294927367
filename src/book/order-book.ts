// TS face of the native order books (native/book/l2_book.h, l3_book.h via native/napi/books.cc):
// validates arguments, then one native call per batch or read. Reads fill Float64Arrays, never
// one JS object per level.
import { EventBatch, EVENT_SIZE, Side } from '../core/event';
import type { BookType } from '../core/instrument';
import { EngineError, expected } from '../errors';
import { native } from '../native';

export interface BookLevel {
  /** Price in ticks. */
  price: number;
  /** Quantity in lots. */
  qty: number;
}

export interface BookStats {
  /** Events handed to apply() since construction. */
  events: number;
  /** Modify/Cancel/executions naming an order the book never saw: skipped, never fatal (L3). */
  unknownOrders: number;
  /** Events rejected as malformed (no side, negative qty, Add with qty <= 0). */
  invalid: number;
  /** Resting orders (L3; 0 on L2). */
  orders: number;
  /** Adds whose id was already resting; the old order was replaced (L3). */
  duplicateAdds: number;
  bidLevels: number;
  askLevels: number;
}

interface NativeBook {
  apply(events: Uint8Array, count: number, start: number): number;
  bestPrice(side: number): number;
  bestQty(side: number): number;
  depth(side: number, n: number, out: Float64Array): number;
  topLevels(n: number, out: Float64Array): number;
  qtyAhead(side: number, price: number): number;
  levelQty(side: number, price: number): number;
  crossed(): boolean;
  pruneCrossed(side: number): number;
  clear(): void;
  stats(): BookStats;
  queueAhead?(orderId: number | bigint): number;
  order?(orderId: number | bigint, out: Float64Array): boolean;
  setLevel?(side: number, price: number, qty: number): number;
  untrackedQty?(side: number, price: number): number;
}

function checkSide(side: unknown, what = 'side'): Side {
  if (side !== Side.Bid && side !== Side.Ask) throw expected('1 (Side.Bid) or 2 (Side.Ask)', what, side);
  return side;
}

function checkInt(v: unknown, what: string, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw expected(min === 0 ? 'a non-negative safe integer' : 'a safe integer', what, v);
  }
  return v;
}

function checkOrderId(id: unknown): number | bigint {
  if (typeof id === 'bigint') {
    if (id < 0n || id > 0xffffffffffffffffn) throw expected('a uint64', 'orderId', id);
    return id;
  }
  return checkInt(id, 'orderId', 0);
}

/**
 * A native L2 (market-by-price) or L3 (market-by-order) book. Event semantics are the engine's
 * (docs/ARCHITECTURE.md); on L3 books order_id 0 addresses a level's untracked liquidity (known from
 * a snapshot, not attributable to orders) and unknown order ids are counted, not fatal.
 */
export class OrderBook {
  private readonly book: NativeBook;
  private readonly scratch = new Float64Array(3);

  private constructor(readonly type: BookType) {
    const addon = native();
    this.book = new (type === 'L3' ? addon.L3Book : addon.L2Book)() as NativeBook;
  }

  static l2(): OrderBook {
    return new OrderBook('L2');
  }

  static l3(): OrderBook {
    return new OrderBook('L3');
  }

  static create(type: BookType): OrderBook {
    if (type !== 'L2' && type !== 'L3') throw expected("'L2' or 'L3'", 'book type', type);
    return new OrderBook(type);
  }

  /**
   * Applies `count` events starting at event index `start` (default: all of them) in one native call.
   * Returns how many applied cleanly; the rest are counted in stats() (unknownOrders, invalid).
   */
  apply(events: Uint8Array | EventBatch, count?: number, start = 0): number {
    const bytes = events instanceof EventBatch ? events.bytes() : events;
    if (!(bytes instanceof Uint8Array)) throw expected('a Uint8Array or EventBatch', 'events', events);
    if (bytes.byteLength % EVENT_SIZE !== 0) {
      throw expected(`a byte length that is a multiple of ${EVENT_SIZE}`, 'events', bytes.byteLength);
    }
    const total = bytes.byteLength / EVENT_SIZE;
    checkInt(start, 'start', 0);
    if (start > total) throw expected(`an event index 0..${total}`, 'start', start);
    const n = count === undefined ? total - start : checkInt(count, 'count', 0);
    if (start + n > total) throw expected(`at most ${total - start} events`, 'count', count);
    return this.book.apply(bytes, n, start);
  }

  /** Best bid (price ticks, qty lots), or null when the side is empty. */
  bestBid(): BookLevel | null {
    return this.best(Side.Bid);
  }

  bestAsk(): BookLevel | null {
    return this.best(Side.Ask);
  }

  /** Best price of a side in ticks; NaN when the side is empty (no allocation). */
  bestPrice(side: Side): number {
    return this.book.bestPrice(checkSide(side));
  }

  /** Quantity at the best price; 0 when the side is empty. */
  bestQty(side: Side): number {
    return this.book.bestQty(checkSide(side));
  }

  /**
   * Fills `out` with [price, qty] pairs from the best level down (at most n levels, at most
   * out.length / 2) and returns the number of levels written.
   */
  depthInto(side: Side, n: number, out: Float64Array): number {
    checkSide(side);
    checkInt(n, 'n', 0);
    if (!(out instanceof Float64Array)) throw expected('a Float64Array', 'out', out);
    return this.book.depth(side, n, out);
  }

  /** Top n levels of a side as [price, qty, price, qty, ...] (a view of `out`, allocated when omitted). */
  depth(side: Side, n: number, out?: Float64Array): Float64Array {
    const buf = out ?? new Float64Array(2 * checkInt(n, 'n', 0));
    const k = this.depthInto(side, n, buf);
    return buf.subarray(0, 2 * k);
  }

  /**
   * Both sides in LOBSTER column order: per level ask price, ask qty, bid price, bid qty; an empty
   * level is NaN price, 0 qty. Writes min(n, out.length / 4) levels and returns that count.
   */
  topLevels(n: number, out: Float64Array): number {
    checkInt(n, 'n', 0);
    if (!(out instanceof Float64Array)) throw expected('a Float64Array', 'out', out);
    return this.book.topLevels(n, out);
  }

  /** Quantity ahead of an order joining `side` at `price` now: every better level plus that level. */
  qtyAhead(side: Side, price: number): number {
    return this.book.qtyAhead(checkSide(side), checkInt(price, 'price'));
  }

  /** Quantity resting at exactly `price` (0 when no level). */
  levelQty(side: Side, price: number): number {
    return this.book.levelQty(checkSide(side), checkInt(price, 'price'));
  }

  crossed(): boolean {
    return this.book.crossed();
  }

  /** Drops `staleSide`'s levels at or through the other side's best; returns the number removed. */
  pruneCrossed(staleSide: Side): number {
    return this.book.pruneCrossed(checkSide(staleSide, 'staleSide'));
  }

  clear(): void {
    this.book.clear();
  }

  stats(): BookStats {
    return this.book.stats();
  }

  // L3 only -----------------------------------------------------------------------------------------

  /**
   * Exact FIFO position: quantity queued before this order at its level (untracked liquidity first);
   * -1 when not resting. Derived on demand from arrival order: one scan of the book's order table
   * (the per-event path keeps no queue links), so a read costs O(resting orders), not O(1).
   */
  queueAhead(orderId: number | bigint): number {
    return this.l3('queueAhead').queueAhead!(checkOrderId(orderId));
  }

  /** A resting order, or null (tools and tests; allocates). */
  order(orderId: number | bigint): { side: Side; price: number; qty: number } | null {
    const b = this.l3('order');
    if (!b.order!(checkOrderId(orderId), this.scratch)) return null;
    return { side: this.scratch[0] as Side, price: this.scratch[1], qty: this.scratch[2] };
  }

  /**
   * Forces the level's total quantity (reconciling with an external L2 view): the untracked part
   * absorbs the difference; below the known orders' total, the oldest orders are removed first.
   * Returns how many orders were removed or reduced.
   */
  setLevel(side: Side, price: number, qty: number): number {
    return this.l3('setLevel').setLevel!(checkSide(side), checkInt(price, 'price'), checkInt(qty, 'qty', 0));
  }

  /** Untracked (anonymous) quantity at a level. */
  untrackedQty(side: Side, price: number): number {
    return this.l3('untrackedQty').untrackedQty!(checkSide(side), checkInt(price, 'price'));
  }

  private best(side: Side): BookLevel | null {
    const price = this.book.bestPrice(side);
    return Number.isNaN(price) ? null : { price, qty: this.book.bestQty(side) };
  }

  private l3(method: string): NativeBook {
    if (this.type !== 'L3') throw new EngineError('E_INVALID_ARG', `expected an L3 book for ${method}(), got an L2 book`);
    return this.book;
  }
}
