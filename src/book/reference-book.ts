// Plain TypeScript L2/L3 books on Maps with the native books' exact semantics (native/book/l2_book.h,
// l3_book.h). Tests compare the native books against these; benchmarks use them as the baseline.
// Deliberately straightforward: sorting on every read, arrays as FIFO queues.
import { EventFlag, EventKind, EventRecord, EVENT_SIZE, Side, readEvent } from '../core/event';

/** Native status codes (native/core/status.h) the books return. */
export const BookStatus = { Ok: 0, InvalidArg: 1, UnknownOrder: 5 } as const;

export interface ReferenceLevel {
  price: number;
  qty: number;
  /** Known resting orders at the level (L3); 0 on an L2 book. */
  count: number;
}

const isSide = (s: number): s is Side.Bid | Side.Ask => s === Side.Bid || s === Side.Ask;
const opposite = (s: number): Side => (s === Side.Bid ? Side.Ask : s === Side.Ask ? Side.Bid : Side.None);
/** True when price a is better than b on side s. */
const better = (s: Side, a: number, b: number): boolean => (s === Side.Bid ? a > b : a < b);

abstract class ReferenceBookBase {
  unknownOrders = 0;
  invalidEvents = 0;

  /** Applies an event other than SnapshotBegin / Clear; returns a BookStatus code. */
  protected abstract applyUpdate(e: EventRecord): number;
  /** Every level of side s with qty > 0, in any order (empty for a side that is not Bid / Ask). */
  protected abstract unsortedLevels(s: Side): ReferenceLevel[];
  abstract clear(): void;
  /** Removes the whole level at (s, price). */
  protected abstract removeLevel(s: Side, price: number): void;

  /** Applies one event; SnapshotBegin and Clear empty the book, kinds a book does not use return Ok. */
  apply(e: EventRecord): number {
    if (e.kind === EventKind.SnapshotBegin || e.kind === EventKind.Clear) {
      this.clear();
      return BookStatus.Ok;
    }
    return this.applyUpdate(e);
  }

  /** Every level of side s, best first. */
  levels(s: Side): ReferenceLevel[] {
    return this.unsortedLevels(s).sort((a, b) => (s === Side.Bid ? b.price - a.price : a.price - b.price));
  }

  /** Applies `count` 64-byte events from `bytes`; returns how many returned Ok. */
  applyBytes(bytes: Uint8Array, count = bytes.length / EVENT_SIZE): number {
    let ok = 0;
    for (let i = 0; i < count; i++) if (this.apply(readEvent(bytes, i)) === BookStatus.Ok) ok++;
    return ok;
  }

  best(s: Side): ReferenceLevel | null {
    return this.levels(s)[0] ?? null;
  }

  levelQty(s: Side, price: number): number {
    return this.levels(s).find((l) => l.price === price)?.qty ?? 0;
  }

  /** Every better level plus the level at price. */
  qtyAhead(s: Side, price: number): number {
    let total = 0;
    for (const l of this.levels(s)) {
      if (better(s, price, l.price)) break;
      total += l.qty;
    }
    return total;
  }

  crossed(): boolean {
    const b = this.best(Side.Bid);
    const a = this.best(Side.Ask);
    return b !== null && a !== null && b.price >= a.price;
  }

  /** Drops staleSide's levels at or through the other side's best; returns how many went. */
  pruneCrossed(staleSide: Side): number {
    if (!this.crossed() || !isSide(staleSide)) return 0;
    const limit = this.best(opposite(staleSide))!.price;
    let n = 0;
    for (const l of this.levels(staleSide)) {
      if (better(staleSide, limit, l.price)) break;
      this.removeLevel(staleSide, l.price);
      n++;
    }
    return n;
  }
}

/** Market-by-price reference: price -> absolute qty per side. */
export class ReferenceL2Book extends ReferenceBookBase {
  private sides = new Map<Side, Map<number, number>>([
    [Side.Bid, new Map()],
    [Side.Ask, new Map()],
  ]);

  protected applyUpdate(e: EventRecord): number {
    switch (e.kind) {
      case EventKind.Modify:
      case EventKind.Cancel:
      case EventKind.Add:
      case EventKind.DeleteLevel: {
        if (!isSide(e.side) || e.qty < 0n) {
          this.invalidEvents++;
          return BookStatus.InvalidArg;
        }
        const m = this.sides.get(e.side)!;
        const price = Number(e.price);
        const qty = Number(e.qty);
        const cur = m.get(price) ?? 0;
        let next: number;
        if (e.kind === EventKind.Modify) next = qty;
        else if (e.kind === EventKind.DeleteLevel) next = 0;
        else if (e.kind === EventKind.Cancel) next = cur - qty;
        else next = cur + qty;
        if (next > 0) m.set(price, next);
        else m.delete(price);
        return BookStatus.Ok;
      }
      default:
        return BookStatus.Ok;
    }
  }

  protected unsortedLevels(s: Side): ReferenceLevel[] {
    const m = this.sides.get(s);
    if (!m) return [];
    return [...m.entries()].map(([price, qty]) => ({ price, qty, count: 0 }));
  }

  clear(): void {
    for (const m of this.sides.values()) m.clear();
  }

  override levelQty(s: Side, price: number): number {
    return this.sides.get(s)?.get(price) ?? 0;
  }

  protected removeLevel(s: Side, price: number): void {
    this.sides.get(s)!.delete(price);
  }
}

interface RefOrder {
  id: bigint;
  side: Side;
  price: number;
  qty: number;
}

interface RefQueue {
  untracked: number;
  orders: RefOrder[]; // FIFO, oldest first
}

/**
 * Market-by-order reference. order_id 0 addresses a level's untracked liquidity, unknown ids are
 * counted and lower the untracked qty at their price, exactly as native/book/l3_book.h documents.
 */
export class ReferenceL3Book extends ReferenceBookBase {
  private orders = new Map<bigint, RefOrder>();
  private queues = new Map<Side, Map<number, RefQueue>>([
    [Side.Bid, new Map()],
    [Side.Ask, new Map()],
  ]);
  duplicateAdds = 0;

  get orderCount(): number {
    return this.orders.size;
  }

  protected applyUpdate(e: EventRecord): number {
    const price = Number(e.price);
    const qty = Number(e.qty);
    switch (e.kind) {
      case EventKind.Add: {
        if (!isSide(e.side) || qty <= 0) return this.invalid();
        if (e.orderId === 0n) {
          this.queue(e.side, price).untracked += qty;
          return BookStatus.Ok;
        }
        const old = this.orders.get(e.orderId);
        if (old) {
          this.duplicateAdds++;
          this.removeOrder(old);
        }
        const o: RefOrder = { id: e.orderId, side: e.side, price, qty };
        this.orders.set(o.id, o);
        this.queue(o.side, price).orders.push(o);
        return BookStatus.Ok;
      }
      case EventKind.Modify: {
        if (qty < 0) return this.invalid();
        if (e.orderId === 0n) {
          if (!isSide(e.side)) return this.invalid();
          this.queue(e.side, price).untracked = qty;
          this.dropIfEmpty(e.side, price);
          return BookStatus.Ok;
        }
        const o = this.orders.get(e.orderId);
        if (!o) return this.unknown();
        if (qty === 0) this.removeOrder(o);
        else if (price !== o.price) {
          this.unlink(o);
          o.price = price;
          o.qty = qty;
          this.queue(o.side, price).orders.push(o);
        } else o.qty = qty;
        return BookStatus.Ok;
      }
      case EventKind.Cancel: {
        if (qty <= 0) return this.invalid();
        if (e.orderId === 0n) {
          if (!isSide(e.side)) return this.invalid();
          this.reduceUntracked(e.side, price, qty);
          return BookStatus.Ok;
        }
        const o = this.orders.get(e.orderId);
        if (!o) {
          if (isSide(e.side)) this.reduceUntracked(e.side, price, qty);
          return this.unknown();
        }
        this.reduce(o, qty);
        return BookStatus.Ok;
      }
      case EventKind.Trade: {
        if (!(e.flags & EventFlag.ExecResting) || e.flags & EventFlag.Hidden) return BookStatus.Ok;
        if (qty <= 0) return this.invalid();
        const o = e.orderId !== 0n ? this.orders.get(e.orderId) : undefined;
        if (o) {
          this.reduce(o, qty);
          return BookStatus.Ok;
        }
        const resting = opposite(e.side);
        if (isSide(resting)) this.reduceUntracked(resting, price, qty);
        return e.orderId === 0n ? BookStatus.Ok : this.unknown();
      }
      case EventKind.DeleteLevel:
        if (!isSide(e.side)) return this.invalid();
        this.removeLevel(e.side, price);
        return BookStatus.Ok;
      default:
        return BookStatus.Ok;
    }
  }

  protected unsortedLevels(s: Side): ReferenceLevel[] {
    const m = this.queues.get(s);
    if (!m) return [];
    return [...m.entries()]
      .map(([price, q]) => ({
        price,
        qty: q.untracked + q.orders.reduce((t, o) => t + o.qty, 0),
        count: q.orders.length,
      }))
      .filter((l) => l.qty > 0);
  }

  override levelQty(s: Side, price: number): number {
    const q = this.queues.get(s)?.get(price);
    return q ? q.untracked + q.orders.reduce((t, o) => t + o.qty, 0) : 0;
  }

  /** Ids of every resting order. */
  liveOrderIds(): bigint[] {
    return [...this.orders.keys()];
  }

  /** Quantity queued before the order at its level (untracked first); -1 when not resting. */
  queueAhead(orderId: bigint): number {
    const o = this.orders.get(orderId);
    if (!o) return -1;
    const q = this.queues.get(o.side)!.get(o.price)!;
    let total = q.untracked;
    for (const other of q.orders) {
      if (other === o) break;
      total += other.qty;
    }
    return total;
  }

  order(orderId: bigint): { side: Side; price: number; qty: number } | null {
    const o = this.orders.get(orderId);
    return o ? { side: o.side, price: o.price, qty: o.qty } : null;
  }

  untrackedQty(s: Side, price: number): number {
    return this.queues.get(s)?.get(price)?.untracked ?? 0;
  }

  /** Forces the level total: untracked absorbs the difference; below the known total, oldest orders go first. */
  setLevel(s: Side, price: number, total: number): number {
    if (!isSide(s)) return 0;
    total = Math.max(0, total);
    const q = this.queue(s, price);
    const known = q.orders.reduce((t, o) => t + o.qty, 0);
    if (total >= known) {
      q.untracked = total - known;
      this.dropIfEmpty(s, price);
      return 0;
    }
    q.untracked = 0;
    let excess = known - total;
    let touched = 0;
    while (excess > 0 && q.orders.length > 0) {
      const o = q.orders[0];
      const take = Math.min(excess, o.qty);
      this.reduce(o, take);
      excess -= take;
      touched++;
    }
    this.dropIfEmpty(s, price);
    return touched;
  }

  clear(): void {
    this.orders.clear();
    for (const m of this.queues.values()) m.clear();
  }

  protected removeLevel(s: Side, price: number): void {
    const q = this.queues.get(s)!.get(price);
    if (!q) return;
    for (const o of q.orders) this.orders.delete(o.id);
    this.queues.get(s)!.delete(price);
  }

  private queue(s: Side, price: number): RefQueue {
    const m = this.queues.get(s)!;
    let q = m.get(price);
    if (!q) {
      q = { untracked: 0, orders: [] };
      m.set(price, q);
    }
    return q;
  }

  private dropIfEmpty(s: Side, price: number): void {
    const q = this.queues.get(s)!.get(price);
    if (q && q.untracked === 0 && q.orders.length === 0) this.queues.get(s)!.delete(price);
  }

  private unlink(o: RefOrder): void {
    const q = this.queues.get(o.side)!.get(o.price)!;
    q.orders.splice(q.orders.indexOf(o), 1);
    this.dropIfEmpty(o.side, o.price);
  }

  private removeOrder(o: RefOrder): void {
    this.unlink(o);
    this.orders.delete(o.id);
  }

  private reduce(o: RefOrder, by: number): void {
    if (by >= o.qty) this.removeOrder(o);
    else o.qty -= by;
  }

  private reduceUntracked(s: Side, price: number, by: number): void {
    const q = this.queues.get(s)!.get(price);
    if (!q || q.untracked <= 0) return;
    q.untracked -= Math.min(by, q.untracked);
    this.dropIfEmpty(s, price);
  }

  private invalid(): number {
    this.invalidEvents++;
    return BookStatus.InvalidArg;
  }

  private unknown(): number {
    this.unknownOrders++;
    return BookStatus.UnknownOrder;
  }
}
