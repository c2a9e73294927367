// Bitstamp order-by-order log (`<ms> <event> <json>`, BTC/USD, 2015 websocket v1) -> L3 events.
//   order_created -> Add (order_type 0 = buy/bid, 1 = sell/ask); order_changed -> Modify to the new
//   remaining amount (and price); order_deleted -> Cancel of the remaining amount the importer tracked
//   (the message's own amount is 0 when the order was filled); trade -> Trade (a print only: the fills
//   already reached the book through order_changed/order_deleted, so no ExecResting).
// Orders resting before the recording started are unknown: their deletes are skipped (counted), a
// change of one is an Add (it rests with that amount; its queue position is lost). The feed sometimes
// delivers an order's last change after its delete: such a change is skipped, not resurrected.
// Crossed moments: an incoming order is published before the fills it causes, so the book is crossed
// for a few lines; those lines stay one message (EndOfMessage once uncrossed, see holdWhileCrossed).
// Trade side: the log has no order ids on trades. The parties are the orders filled at the trade's
// price just before the print (changed down, or deleted with amount 0, known or not); the resting one
// is the older (smaller id: Bitstamp ids grow with time), the aggressor is on the other side, and the
// trade's order_id is the resting order. No filled order at that price: Side.None (noted in the report).
// order_book lines are top-20 L2 snapshots of an L3 feed: they cannot rebuild order queues, so they are
// NOT emitted (no resync). They are a check: at each one the importer compares its own reconstruction
// level by level and reports the matches (levels holding unknown older orders come out short).
// Times: tsExchange = tsLocal = the line's ms stamp (the `datetime` field is the order's creation time).
import { EventKind, Side } from '../core/event';
import {
  ImportOptions, ImportResult, InstrumentRegistry, InstrumentScale, LineParser, ParseContext, ScaleScan, ScanContext, VenueImporter, runImport,
} from './common';
import { LineError, msToNs, parseJson } from './fields';
import { DecimalError, numberDecimalPlaces, numberToUnits } from './decimal';
import { LineSource } from './lines';

export const BITSTAMP_SYMBOL = 'BTCUSD';
const VENUE = 'bitstamp';
/** Most decimals a trade's float may add to the scale (more is float noise). */
const MAX_FLOAT_DECIMALS = 10;
const EVENTS = new Set(['order_created', 'order_changed', 'order_deleted', 'trade', 'order_book']);

interface Line {
  ms: string;
  event: string;
  data: any;
}

function decodeLine(text: string): Line | undefined {
  if (text.trim() === '') return undefined;
  const a = text.indexOf(' ');
  const b = a > 0 ? text.indexOf(' ', a + 1) : -1;
  if (b < 0) throw new LineError('garbage line', 'expected "<ms> <event> <JSON>"');
  const ms = text.slice(0, a);
  if (!/^\d{1,16}$/.test(ms)) throw new LineError('bad timestamp', `expected a ms timestamp, got ${JSON.stringify(ms.slice(0, 30))}`);
  const data = parseJson(text.slice(b + 1));
  if (data === null || typeof data !== 'object') throw new LineError('garbage line', 'expected a JSON object');
  return { ms, event: text.slice(a + 1, b), data };
}

export const bitstampImporter: VenueImporter<Record<string, never>> = {
  venue: VENUE,
  newScan: () => ({}),

  scanLine(text: string, _scan: Record<string, never>, ctx: ScanContext): void {
    if (!ctx.selected(BITSTAMP_SYMBOL)) return;
    const l = decodeLine(text);
    if (!l) return;
    ctx.scales.observe(VENUE);
    const d = l.data;
    if (l.event.startsWith('order_') && l.event !== 'order_book') ctx.scales.observe(VENUE, String(d.price), String(d.amount));
    else if (l.event === 'order_book') {
      for (const side of [d.bids, d.asks]) if (Array.isArray(side)) for (const x of side) if (Array.isArray(x)) ctx.scales.observe(VENUE, String(x[0]), String(x[1]));
    }
    else if (l.event === 'trade') {
      // Trades print floats with 17 digits ("1.7885566900000001"); the shortest form that reads back
      // the same double ("1.78855669") has the intended decimals. Longer ones are float noise: they
      // do not refine the scale and get rounded to it (counted).
      const p = numberDecimalPlaces(Number(d.price));
      const q = numberDecimalPlaces(Number(d.amount));
      ctx.scales.observePlaces(VENUE, p >= 0 && p <= MAX_FLOAT_DECIMALS ? p : 0, q >= 0 && q <= MAX_FLOAT_DECIMALS ? q : 0);
    }
  },

  defineInstruments(_scan: Record<string, never>, scales: ScaleScan, registry: InstrumentRegistry): void {
    if (!scales.keys().includes(VENUE)) return;
    const s = scales.get(VENUE);
    registry.define(VENUE, BITSTAMP_SYMBOL, 'L3', s.price, s.qty);
  },

  newParser: (_scan: Record<string, never>, registry: InstrumentRegistry) => new BitstampParser(registry.get(VENUE, BITSTAMP_SYMBOL)),
};

interface Order {
  side: Side;
  price: bigint;
  qty: bigint;
}

/** An order reduced by a fill: a candidate party of the next trade at its price. */
interface Fill {
  id: bigint;
  side: Side;
  price: bigint;
  /** Filled size not yet printed; -1 for an order never seen (deleted filled: size unknown). */
  qty: bigint;
  ms: number;
}

const FILL_WINDOW_MS = 5000;
/** Longest run of lines kept in one message while the book is crossed (then released: the engine prunes). */
const MAX_CROSSED_LINES = 64;

/** One side's aggregated levels (price in ticks as a number: exact below 2^53) with its best cached. */
class LevelSide {
  readonly qty = new Map<number, bigint>();
  best = NaN;

  constructor(private readonly bid: boolean) {}

  private better(a: number, b: number): boolean {
    return this.bid ? a > b : a < b;
  }

  add(price: number, q: bigint): void {
    this.qty.set(price, (this.qty.get(price) ?? 0n) + q);
    if (Number.isNaN(this.best) || this.better(price, this.best)) this.best = price;
  }

  sub(price: number, q: bigint): void {
    const left = (this.qty.get(price) ?? 0n) - q;
    if (left > 0n) return void this.qty.set(price, left);
    this.qty.delete(price);
    if (price !== this.best) return;
    this.best = NaN;
    for (const p of this.qty.keys()) if (Number.isNaN(this.best) || this.better(p, this.best)) this.best = p;
  }
}

class BitstampParser implements LineParser {
  private readonly orders = new Map<bigint, Order>();
  /** Ids deleted so far: the feed sometimes delivers an order's last change after its delete. */
  private readonly deleted = new Set<bigint>();
  /** Aggregated quantity per price, per side: the L2 view of the reconstruction, for the checks. */
  private readonly levels = [new LevelSide(true), new LevelSide(true), new LevelSide(false)];
  /** Lines held in the open message while the book is crossed. */
  private crossedLines = 0;
  private fills: Fill[] = [];
  private readonly counts = { unknownDelete: 0, unknownChange: 0, duplicateAdd: 0, tradeRounded: 0, snapshots: 0, sideUnknown: 0, matched: 0, levelsOk: 0, levelsShort: 0, levelsOver: 0, levelsExtra: 0, topMatched: 0, firstMatchLine: 0, crossedReleased: 0, lateChange: 0 };

  constructor(private readonly inst: InstrumentScale | undefined) {}

  line(text: string, ctx: ParseContext): void {
    const l = decodeLine(text);
    if (!l) return ctx.skip('empty line');
    if (!EVENTS.has(l.event)) return ctx.skip(`event ${l.event} (ignored)`);
    if (!ctx.select(BITSTAMP_SYMBOL)) return;
    const inst = this.inst;
    if (!inst) return ctx.fail('garbage line', 'no instrument (no price seen in the input)');
    const ts = msToNs(l.ms);
    const ms = Number(l.ms);
    const d = l.data;
    if (l.event === 'order_book') return this.check(d, inst, ctx);
    if (l.event === 'trade') return this.trade(d, inst, ts, ms, ctx);

    const id = this.orderId(d.id, ctx);
    const side = d.order_type === 0 ? Side.Bid : d.order_type === 1 ? Side.Ask : ctx.fail('bad side', `expected order_type 0|1, got ${JSON.stringify(d.order_type)}`);
    const price = ctx.price(inst, String(d.price));
    const known = this.orders.get(id);
    ctx.begin('', ts, ts);
    if (l.event === 'order_created') {
      const qty = ctx.qty(inst, String(d.amount), false);
      if (known) {
        this.counts.duplicateAdd++;
        this.remove(id, known);
      }
      ctx.push(inst, EventKind.Add, side, price, qty, id);
      this.put(id, { side, price, qty });
    } else if (l.event === 'order_changed') {
      const qty = ctx.qty(inst, String(d.amount), true);
      if (!known && this.deleted.has(id)) {
        this.counts.lateChange++;
        return ctx.skip('order_changed after its order_deleted (late message)');
      }
      if (!known) {
        // Resting since before the recording: it exists with this remaining amount, so add it
        // (at the back of its level: its true queue position is unknown).
        this.counts.unknownChange++;
        if (qty > 0n) {
          ctx.push(inst, EventKind.Add, side, price, qty, id);
          this.put(id, { side, price, qty });
        }
        return this.holdWhileCrossed(ctx);
      }
      if (known.side !== side) ctx.fail('bad side', `order ${id} changed side`);
      if (qty < known.qty && price === known.price) this.fills.push({ id, side, price, qty: known.qty - qty, ms });
      ctx.push(inst, EventKind.Modify, side, price, qty, id);
      this.remove(id, known);
      if (qty > 0n) this.put(id, { side, price, qty });
    } else {
      const amount = ctx.qty(inst, String(d.amount), true);
      if (!known) {
        if (this.deleted.has(id)) return ctx.skip('order_deleted repeated');
        this.counts.unknownDelete++;
        // Still a party to the next trade at its price when it was filled (its size is unknown).
        if (amount === 0n) this.fills.push({ id, side, price, qty: -1n, ms });
        this.deleted.add(id);
        return ctx.skip('order_deleted of an order never seen (rested before the recording)');
      }
      if (amount === 0n) this.fills.push({ id, side: known.side, price: known.price, qty: known.qty, ms });
      ctx.push(inst, EventKind.Cancel, known.side, known.price, known.qty, id);
      this.remove(id, known);
      this.deleted.add(id);
    }
    this.holdWhileCrossed(ctx);
  }

  private orderId(v: unknown, ctx: ParseContext): bigint {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) ctx.fail('bad order id', `expected a positive order id, got ${JSON.stringify(v)}`);
    return BigInt(v);
  }

  private put(id: bigint, o: Order): void {
    this.orders.set(id, o);
    this.levels[o.side].add(Number(o.price), o.qty);
  }

  private remove(id: bigint, o: Order): void {
    this.orders.delete(id);
    this.levels[o.side].sub(Number(o.price), o.qty);
  }

  /**
   * Bitstamp publishes an incoming order before the fills it causes, so the book is crossed for a few
   * lines (buy created at 236.47 while the 236.47 ask it will take still rests). Those lines stay one
   * message, EndOfMessage only once the book is uncrossed: the engine judges crossing at EndOfMessage
   * and would otherwise prune the resting orders that are about to trade.
   */
  private holdWhileCrossed(ctx: ParseContext): void {
    const bid = this.levels[Side.Bid].best;
    const ask = this.levels[Side.Ask].best;
    if (!(bid >= ask)) {
      this.crossedLines = 0;
      return;
    }
    if (++this.crossedLines > MAX_CROSSED_LINES) {
      this.counts.crossedReleased++;
      this.crossedLines = 0;
      return;
    }
    ctx.hold();
  }

  private units(v: unknown, decimals: number, what: string, ctx: ParseContext): bigint {
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !(n > 0)) ctx.fail(`bad ${what}`, `expected a ${what} > 0, got ${JSON.stringify(v)}`);
    try {
      const r = numberToUnits(n, decimals);
      if (r.rounded) this.counts.tradeRounded++;
      if (r.units <= 0n) ctx.fail(`bad ${what}`, `${what} ${n} rounds to 0 at ${decimals} decimals`);
      return r.units;
    } catch (err) {
      if (err instanceof DecimalError) ctx.fail(`bad ${what}`, err.message);
      throw err;
    }
  }

  private trade(d: any, inst: InstrumentScale, ts: bigint, ms: number, ctx: ParseContext): void {
    const price = this.units(d.price, inst.priceDecimals, 'price', ctx);
    const qty = this.units(d.amount, inst.qtyDecimals, 'size', ctx);
    this.fills = this.fills.filter((f) => ms - f.ms <= FILL_WINDOW_MS);
    // The parties: unconsumed fills at this price. Resting = the oldest order among them.
    let resting: Fill | undefined;
    for (const f of this.fills) {
      if (f.price !== price) continue;
      if (!resting || f.id < resting.id) resting = f;
    }
    let side = Side.None;
    let orderId = 0n;
    if (resting) {
      side = resting.side === Side.Bid ? Side.Ask : Side.Bid;
      orderId = resting.id;
      // The resting order's fill is used up by this print (a sweep prints once per resting order).
      resting.qty -= qty;
      if (resting.qty <= 0n) this.fills = this.fills.filter((f) => f !== resting); // unknown size (-1): one print
    } else {
      this.counts.sideUnknown++;
    }
    ctx.begin('', ts, ts);
    ctx.push(inst, EventKind.Trade, side, price, qty, orderId);
    this.holdWhileCrossed(ctx); // a print in the middle of a sweep does not end it
  }

  private check(d: any, inst: InstrumentScale, ctx: ParseContext): void {
    const c = this.counts;
    c.snapshots++;
    let all = true;
    let top = true;
    for (const [side, list] of [[Side.Bid, d.bids], [Side.Ask, d.asks]] as const) {
      if (!Array.isArray(list)) ctx.fail('garbage line', 'order_book without bids/asks lists');
      const ours = this.levels[side].qty;
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < list.length; i++) {
        const x = list[i];
        if (!Array.isArray(x)) ctx.fail('garbage line', `expected [price, amount] in order_book, got ${JSON.stringify(x)}`);
        const p = Number(ctx.price(inst, String(x[0])));
        const q = ctx.qty(inst, String(x[1]), false);
        if (i === 0 || p < lo) lo = p;
        if (i === 0 || p > hi) hi = p;
        const have = ours.get(p) ?? 0n;
        if (have === q) c.levelsOk++;
        else {
          if (have < q) c.levelsShort++;
          else c.levelsOver++;
          all = false;
          if (i === 0) top = false;
        }
      }
      // Levels we hold inside the snapshot's range that it does not list.
      const listed = list.length;
      let inside = 0;
      for (const p of ours.keys()) if (p >= lo && p <= hi) inside++;
      // Best level: the snapshot's first entry is our best price (its quantity was compared above).
      const best = this.levels[side].best;
      if (listed > 0 && best !== Number(ctx.price(inst, String(list[0][0])))) top = false;
      if (inside > listed) {
        c.levelsExtra += inside - listed;
        all = false;
      }
      if (listed === 0 && !Number.isNaN(best)) top = false;
    }
    if (all) {
      c.matched++;
      if (c.firstMatchLine === 0) c.firstMatchLine = ctx.line;
    }
    if (top) c.topMatched++;
    ctx.skip('order_book (L2 top-20 snapshot of an L3 feed: verification only)');
  }

  endSource(ctx: ParseContext): void {
    const c = this.counts;
    ctx.note(`order_book check: ${c.matched}/${c.snapshots} snapshots match the L3 reconstruction on all 20 levels` +
      (c.firstMatchLine ? ` (first at line ${c.firstMatchLine})` : '') + `, ${c.topMatched}/${c.snapshots} on the best bid and ask; ` +
      `levels: ${c.levelsOk} equal, ${c.levelsShort} short (orders resting before the recording are unknown), ` +
      `${c.levelsOver} larger, ${c.levelsExtra} not listed`);
    ctx.note(`orders resting before the recording: ${c.unknownDelete} deletes skipped, ${c.unknownChange} changes turned into Adds; ` +
      `${c.lateChange} changes arrived after their order's delete (skipped)`);
    if (c.duplicateAdd) ctx.note(`${c.duplicateAdd} order_created reused a live id (old order replaced)`);
    if (c.tradeRounded) ctx.note(`${c.tradeRounded} trade prices/amounts were not on the tick/lot grid and were rounded`);
    if (c.crossedReleased) ctx.note(`${c.crossedReleased} times the book stayed crossed for ${MAX_CROSSED_LINES} lines: released (the engine prunes)`);
    if (c.sideUnknown) ctx.note(`${c.sideUnknown} trades without an inferable aggressor (Side.None)`);
  }
}

/** Imports a Bitstamp order-by-order log (BTCUSD, L3). */
export function importBitstamp(sources: readonly LineSource[], opts?: ImportOptions): Promise<ImportResult> {
  return runImport(bitstampImporter, sources, opts);
}
