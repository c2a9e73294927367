// Simulated exchange over a replayed book (no market impact): our virtual orders rest in queues estimated
// by a queue model, take liquidity when marketable, and fill when trades print at/through their price or
// the book crosses it. Liquidity we took (or were filled against by a cross) is remembered per level and
// not offered to us again until the venue's own updates remove that much from the level.
import { Side } from '../core/event';
import { Account, feeTL } from './account';
import { QueueModelId, frontAfterDepthChange } from './queue';
import { ReplayBook } from './replay-book';
import { LatencyModel } from './latency';
import { ActionKind, ExecReport, FeeSchedule, Liquidity, OrderAction, RejectReason, ReportKind, TimeInForce } from './types';

const BID = Side.Bid;
const ASK = Side.Ask;

/** Most price levels one taking order may walk (a market order's protection band bounds it first). */
const MAX_WALK_TICKS = 200000;

/** A virtual order resting at the exchange. */
export class SimOrder {
  /** Visible qty ahead of us at our level (lots). */
  front = 0;
  /** Trades at our level since the last depth update (prob models' double-count guard). */
  traded = 0;
  /** L3 FIFO: orders with a smaller stamp were there before us. */
  stamp = 0;
  /** Queue position lost (book cleared): re-estimated at the back on the next update. */
  requeue = false;
  constructor(
    public clientId: number,
    public side: Side,
    public price: number,
    public leaves: number,
    public tif: TimeInForce,
  ) {}
}

export interface ExchangeStats {
  accepted: number;
  rejected: Record<RejectReason, number>;
  cancelled: number;
  modified: number;
  makerFills: number;
  takerFills: number;
}

export class SimExchange {
  /** Live resting orders (a handful): scanned linearly per event. */
  readonly orders: SimOrder[] = [];
  /** Reports in notify order, not yet delivered to the strategy. */
  readonly outbox: ExecReport[] = [];
  outboxHead = 0;
  /** Resting order counts per side (index 1 bid, 2 ask), for quoted time. */
  readonly resting = new Int32Array(3);
  stats: ExchangeStats = SimExchange.emptyStats();
  /** Best prices after the last event (ticks; NaN when a side is empty). */
  bestBid = NaN;
  bestAsk = NaN;
  /** When set, every fill is appended here as [sign, price, qty, feeTL] (reconciliation tests). */
  fillLog: number[][] | undefined;
  private lastNotify = -Infinity;
  private readonly consumed: [Map<number, number>, Map<number, number>, Map<number, number>] = [new Map(), new Map(), new Map()];
  private readonly fifo: boolean;
  /** Some resting order lost its queue position (book cleared) and waits for a consistent book. */
  private requeuePending = false;
  /** Highest resting bid and lowest resting ask (±Infinity when none): a best price beyond them crosses nothing. */
  private bidMax = -Infinity;
  private askMin = Infinity;

  constructor(
    private readonly book: ReplayBook,
    readonly account: Account,
    private readonly fees: FeeSchedule,
    private readonly queueModel: QueueModelId,
    private readonly queuePower: number,
    private readonly responseLatency: LatencyModel,
    /** Price grid (ticks): prices off it are rejected; the book is walked in these steps. */
    private readonly priceStep = 1,
  ) {
    this.fifo = queueModel === QueueModelId.Fifo;
  }

  static emptyStats(): ExchangeStats {
    return {
      accepted: 0,
      rejected: { 'post-only-would-cross': 0, 'unknown-order': 0, 'no-liquidity': 0, 'bad-order': 0, 'modify-would-cross': 0 },
      cancelled: 0,
      modified: 0,
      makerFills: 0,
      takerFills: 0,
    };
  }

  /** Liquidity we already used at (side, price), in lots. */
  consumedAt(side: Side, price: number): number {
    return this.consumed[side].get(price) ?? 0;
  }

  /** Handles one action that reached the exchange at `nowNs`, against the book as of the last event. */
  process(a: OrderAction, nowNs: number): void {
    if (a.kind === ActionKind.New) this.newOrder(a, nowNs);
    else if (a.kind === ActionKind.Cancel) {
      const k = this.find(a.clientId);
      if (k < 0) return this.reject(a, 'unknown-order', nowNs);
      const o = this.orders[k];
      this.remove(k);
      this.stats.cancelled++;
      this.report(ReportKind.Cancelled, o.clientId, o.side, o.price, o.leaves, 0, Liquidity.None, 0, nowNs, 'requested');
    } else this.modify(a, nowNs);
  }

  private newOrder(a: OrderAction, nowNs: number): void {
    if (!(a.qty > 0) || !Number.isInteger(a.qty) || !this.onGrid(a.price)) return this.reject(a, 'bad-order', nowNs);
    if (this.find(a.clientId) >= 0) return this.reject(a, 'bad-order', nowNs);
    const marketable = this.marketable(a.side, a.price);
    if (marketable && a.tif === TimeInForce.PostOnly) return this.reject(a, 'post-only-would-cross', nowNs);
    this.stats.accepted++;
    this.report(ReportKind.Accepted, a.clientId, a.side, a.price, a.qty, a.qty, Liquidity.None, 0, nowNs, '');
    let leaves = a.qty;
    if (marketable) leaves = this.take(a.clientId, a.side, a.price, leaves, nowNs);
    if (leaves === 0) return;
    if (a.tif === TimeInForce.Ioc) {
      this.stats.cancelled++;
      this.report(ReportKind.Cancelled, a.clientId, a.side, a.price, leaves, 0, Liquidity.None, 0, nowNs, 'ioc-remainder');
      return;
    }
    this.rest(new SimOrder(a.clientId, a.side, a.price, leaves, a.tif));
  }

  private modify(a: OrderAction, nowNs: number): void {
    const k = this.find(a.clientId);
    if (k < 0) return this.reject(a, 'unknown-order', nowNs);
    const o = this.orders[k];
    if (!(a.qty >= 0) || !Number.isInteger(a.qty) || !this.onGrid(a.price)) return this.reject(a, 'bad-order', nowNs);
    if (a.qty === 0) {
      this.remove(k);
      this.stats.cancelled++;
      this.report(ReportKind.Cancelled, o.clientId, o.side, o.price, o.leaves, 0, Liquidity.None, 0, nowNs, 'requested');
      return;
    }
    if (a.price !== o.price) {
      if (this.marketable(o.side, a.price)) {
        if (o.tif === TimeInForce.PostOnly) return this.reject(a, 'modify-would-cross', nowNs);
        // A GTC repriced through the book: takes first, the rest rests at the new price (back of the queue).
        this.remove(k);
        this.stats.modified++;
        this.report(ReportKind.Modified, o.clientId, o.side, a.price, a.qty, a.qty, Liquidity.None, 0, nowNs, '');
        const leaves = this.take(o.clientId, o.side, a.price, a.qty, nowNs);
        if (leaves > 0) this.rest(new SimOrder(o.clientId, o.side, a.price, leaves, o.tif));
        return;
      }
      this.remove(k);
      o.price = a.price;
      o.leaves = a.qty;
      this.rest(o); // priority lost
    } else if (a.qty > o.leaves) {
      this.remove(k);
      o.leaves = a.qty;
      this.rest(o); // a larger size re-joins at the back
    } else o.leaves = a.qty; // a smaller size keeps its place
    this.stats.modified++;
    this.report(ReportKind.Modified, o.clientId, o.side, o.price, o.leaves, o.leaves, Liquidity.None, 0, nowNs, '');
  }

  /** Cancels every resting order at once (episode end, risk stop): reports go out like any cancel. */
  cancelAll(nowNs: number, reason: 'episode-end' | 'requested'): void {
    while (this.orders.length > 0) {
      const o = this.orders[this.orders.length - 1];
      this.remove(this.orders.length - 1);
      this.stats.cancelled++;
      this.report(ReportKind.Cancelled, o.clientId, o.side, o.price, o.leaves, 0, Liquidity.None, 0, nowNs, reason);
    }
  }

  /**
   * The book just applied one event (book fields set) and the best prices after it are bid/ask.
   * Advances queues and fills our resting orders. `consistent`: the book is whole after this event.
   */
  onEvent(nowNs: number, bid: number, ask: number, consistent: boolean): void {
    this.bestBid = bid;
    this.bestAsk = ask;
    const book = this.book;
    if (this.consumed[1].size + this.consumed[2].size > 0 && (book.nChanges > 0 || book.cleared)) this.onLevelChanges();
    if (this.orders.length === 0) return;
    if (book.cleared) {
      for (let i = 0; i < this.orders.length; i++) this.orders[i].requeue = true;
      this.requeuePending = true;
      return;
    }
    const fifo = this.fifo;
    // Queue positions move only when the event touched a level (L2 models) or a known order (FIFO).
    if (this.requeuePending || (fifo ? book.ordFound : book.nChanges > 0)) this.advanceQueues(nowNs, consistent);
    if (book.kind === 5 /* Trade */) this.onTrade(nowNs, fifo);
    // Only a best price at or through one of our prices can fill us.
    if (consistent && (this.bestAsk <= this.bidMax || this.bestBid >= this.askMin)) this.onCross(nowNs);
  }

  /** Re-queues orders that lost their place (once the book is consistent), then applies the event's depth or order change. */
  private advanceQueues(nowNs: number, consistent: boolean): void {
    const book = this.book;
    const fifo = this.fifo;
    if (consistent) this.requeuePending = false; // every order is re-queued below
    for (let i = 0; i < this.orders.length; i++) {
      const o = this.orders[i];
      if (o.requeue && consistent) {
        o.front = book.levelQty(o.side, o.price);
        o.traded = 0;
        o.stamp = book.nextStamp;
        o.requeue = false;
      }
      if (!fifo) {
        // Depth changes at our level.
        for (let c = 0; c < book.nChanges; c++) {
          if (book.chSide[c] === o.side && book.chPrice[c] === o.price) {
            o.front = frontAfterDepthChange(this.queueModel, this.queuePower, o.front, book.chPrev[c], book.chNew[c], o.traded);
            o.traded = 0;
          }
        }
      } else if (book.ordFound && book.ordSide === o.side && book.ordPrice === o.price) {
        if (book.ordStamp < o.stamp) o.front = Math.max(0, o.front - book.ordDelta);
        else if (book.ordExec && book.ordDelta > 0) {
          // An order behind us traded: FIFO would have filled us first.
          if (this.fill(i, o.price, Math.min(o.leaves, book.ordDelta), nowNs)) i--;
        }
      }
    }
  }

  private onTrade(nowNs: number, fifo: boolean): void {
    const book = this.book;
    const px = book.price;
    const aggressor = book.side;
    const execOrder = (book.flags & 4) !== 0 && (book.flags & 8) === 0; // ExecResting, not Hidden
    for (let i = 0; i < this.orders.length; i++) {
      const o = this.orders[i];
      if (aggressor === o.side || o.requeue) continue; // a buy aggressor never hits our bid
      const through = o.side === BID ? px < o.price : px > o.price;
      let q = 0;
      if (through) q = Math.min(o.leaves, book.qty);
      else if (px === o.price) {
        if (fifo) {
          // Executions of known orders are handled exactly in onEvent; a bare print fills us only at the head.
          if (!execOrder && o.front <= 0) q = Math.min(o.leaves, book.qty);
        } else {
          o.front -= book.qty;
          o.traded += book.qty;
          // Whole lots only (the prob models' front is an estimate and may be fractional): a fraction
          // waits for the next print.
          const excess = Math.floor(-o.front + 1e-9);
          if (excess > 0) {
            q = Math.min(o.leaves, excess);
            o.front = 0;
          }
        }
      }
      if (q > 0 && this.fill(i, o.price, q, nowNs)) i--;
    }
  }

  /** The opposite best price sits at or through our resting price: it trades with us (we are the maker). */
  private onCross(nowNs: number): void {
    for (let i = 0; i < this.orders.length; i++) {
      const o = this.orders[i];
      const opp = o.side === BID ? ASK : BID;
      const best = o.side === BID ? this.bestAsk : this.bestBid;
      if (best !== best) continue;
      if (o.side === BID ? best > o.price : best < o.price) continue;
      const avail = this.book.levelQty(opp, best) - this.consumedAt(opp, best);
      if (avail <= 0) continue;
      const q = Math.min(o.leaves, avail);
      this.consume(opp, best, q);
      if (this.fill(i, o.price, q, nowNs)) i--;
    }
  }

  /**
   * Venue updates remove liquidity we had used first (it is the front of the level); an empty level resets
   * it, and a cleared book (snapshot) forgets it everywhere.
   */
  private onLevelChanges(): void {
    const book = this.book;
    if (book.cleared) {
      this.consumed[1].clear();
      this.consumed[2].clear();
      return;
    }
    for (let c = 0; c < book.nChanges; c++) {
      const m = this.consumed[book.chSide[c]];
      if (m.size === 0) continue;
      const p = book.chPrice[c];
      const used = m.get(p);
      if (used === undefined) continue;
      const next = book.chNew[c];
      const left = next <= 0 ? 0 : used - Math.max(0, book.chPrev[c] - next);
      if (left > 0) m.set(p, left);
      else m.delete(p);
    }
  }

  private consume(side: Side, price: number, q: number): void {
    const m = this.consumed[side];
    m.set(price, (m.get(price) ?? 0) + q);
  }

  private onGrid(price: number): boolean {
    return Number.isInteger(price) && price > 0 && price % this.priceStep === 0;
  }

  private marketable(side: Side, price: number): boolean {
    return side === BID ? this.bestAsk === this.bestAsk && price >= this.bestAsk : this.bestBid === this.bestBid && price <= this.bestBid;
  }

  /** Walks the opposite side from its best up to `limit`, taking unconsumed liquidity. Returns leaves. */
  private take(clientId: number, side: Side, limit: number, leaves: number, nowNs: number): number {
    const opp = side === BID ? ASK : BID;
    const step = side === BID ? this.priceStep : -this.priceStep;
    let px = side === BID ? this.bestAsk : this.bestBid;
    for (let n = 0; leaves > 0 && n < MAX_WALK_TICKS && (side === BID ? px <= limit : px >= limit); n++, px += step) {
      const avail = this.book.levelQty(opp, px) - this.consumedAt(opp, px);
      if (avail <= 0) continue;
      const q = Math.min(avail, leaves);
      this.consume(opp, px, q);
      leaves -= q;
      this.fillTaker(clientId, side, px, q, leaves, nowNs);
    }
    return leaves;
  }

  private fillTaker(clientId: number, side: Side, px: number, q: number, leaves: number, nowNs: number): void {
    const fee = feeTL(px, q, this.fees.takerBps);
    this.account.applyFill(side, px, q, fee, false);
    if (this.fillLog) this.fillLog.push([side === BID ? 1 : -1, px, q, fee]);
    this.stats.takerFills++;
    this.report(ReportKind.Fill, clientId, side, px, q, leaves, Liquidity.Taker, fee, nowNs, '');
  }

  /** Maker fill of resting order i; returns true when the order is gone (fully filled). */
  private fill(i: number, px: number, q: number, nowNs: number): boolean {
    const o = this.orders[i];
    o.leaves -= q;
    const fee = feeTL(px, q, this.fees.makerBps);
    this.account.applyFill(o.side, px, q, fee, true);
    if (this.fillLog) this.fillLog.push([o.side === BID ? 1 : -1, px, q, fee]);
    this.stats.makerFills++;
    this.report(ReportKind.Fill, o.clientId, o.side, px, q, o.leaves, Liquidity.Maker, fee, nowNs, '');
    if (o.leaves > 0) return false;
    this.remove(i);
    return true;
  }

  private rest(o: SimOrder): void {
    o.front = this.book.levelQty(o.side, o.price);
    o.traded = 0;
    o.stamp = this.book.nextStamp;
    o.requeue = false;
    this.orders.push(o);
    this.resting[o.side]++;
    this.updateBounds();
  }

  private remove(k: number): void {
    const orders = this.orders;
    this.resting[orders[k].side]--;
    // Shift the later orders down (order kept) rather than splice(), which allocates the removed array.
    const last = orders.length - 1;
    for (let i = k; i < last; i++) orders[i] = orders[i + 1];
    orders.pop();
    this.updateBounds();
  }

  /** Recomputes bidMax / askMin over the resting orders (a handful; only when one rests or leaves). */
  private updateBounds(): void {
    let bidMax = -Infinity;
    let askMin = Infinity;
    for (let i = 0; i < this.orders.length; i++) {
      const o = this.orders[i];
      if (o.side === BID) bidMax = Math.max(bidMax, o.price);
      else askMin = Math.min(askMin, o.price);
    }
    this.bidMax = bidMax;
    this.askMin = askMin;
  }

  private find(clientId: number): number {
    for (let i = 0; i < this.orders.length; i++) if (this.orders[i].clientId === clientId) return i;
    return -1;
  }

  private reject(a: OrderAction, reason: RejectReason, nowNs: number): void {
    this.stats.rejected[reason]++;
    this.report(ReportKind.Rejected, a.clientId, a.side, a.price, a.qty, 0, Liquidity.None, 0, nowNs, reason);
  }

  private report(
    kind: ReportKind, clientId: number, side: Side, price: number, qty: number, leaves: number,
    liq: Liquidity, fee: number, nowNs: number, reason: ExecReport['reason'],
  ): void {
    // Reports leave in order: a later one never overtakes an earlier one (one session, one stream).
    let notify = nowNs + this.responseLatency.draw();
    if (notify < this.lastNotify) notify = this.lastNotify;
    this.lastNotify = notify;
    this.outbox.push(new ExecReport(kind, clientId, side, price, qty, leaves, liq, fee, nowNs, notify, reason));
  }

  /** Drops delivered reports from the front of the outbox (call after consuming up to outboxHead). */
  compactOutbox(): void {
    if (this.outboxHead === 0) return;
    this.outbox.splice(0, this.outboxHead);
    this.outboxHead = 0;
  }

  /** Forgets everything per episode: orders, reports, consumed liquidity, stats (the account is reset by its owner). */
  reset(): void {
    this.orders.length = 0;
    this.outbox.length = 0;
    this.outboxHead = 0;
    this.resting.fill(0);
    this.requeuePending = false;
    this.bidMax = -Infinity;
    this.askMin = Infinity;
    this.consumed[1].clear();
    this.consumed[2].clear();
    this.stats = SimExchange.emptyStats();
    this.lastNotify = -Infinity;
  }
}
