// Injects a flash crash or a trend reversal into an existing (real, replayed) event stream by shifting its
// prices along an offset path and thinning bids during the fall. A price-path transform, not a market model.
import { EVENT_SIZE, EventFlag, EventKind, Side } from '../core/event';
import type { InstrumentInfo } from '../core/instrument';
import { expected } from '../errors';
import { FlashCrash, Injector, crashOffsetFraction, crashParams, crashPhaseAt, validateInjectors } from './scenario';

/**
 * What the overlay does, per instrument, with t measured from the first event's exchange time:
 * - Keeps the SOURCE book (L2 levels, or L3 orders) from the stream itself.
 * - Computes an offset path O(t) on the price grid (`priceStepTicks`): a flash crash contributes
 *   crashOffsetFraction(t) × the instrument's price at the crash time (mid, else last trade); a reversal
 *   contributes −2·d·(t − t_r) after t_r, with d the source's average drift from the start to t_r (or
 *   `reversalDriftTicksPerSecond`), so the drift after t_r is the negative of the drift before. An estimated
 *   d is floored in magnitude at `minReversalDriftPerHour` of the price (sign kept, + when 0): a recording
 *   that went nowhere before t_r still gets a reversal to test (the LOBSTER MSFT hour drifts by less than a
 *   cent, so the plain rule shifted no price at all).
 * - O moves in whole steps of max(grid, `minOffsetStepBps` of the price): the smallest multiple of the price
 *   grid that is at least 1 basis point (default) of the source price when the first injector starts.
 * - Every price after an injector starts is shifted by O(t). When O changes (checked only between messages,
 *   and at most once per `minRekeyIntervalMs` of stream time), the book is re-keyed: one synthetic message
 *   SnapshotBegin, the whole source book shifted by the new O (L2 levels or L3 Adds), SnapshotEnd, seq = the
 *   instrument's last seq, prev_seq = 0 (no gap is reported).
 * - While a crash is falling, displayed L2 bid quantities are thinned to ceil(q × crashBidKeep) (liquidity
 *   withdrawal; not on L3, whose later Cancel quantities refer to the source orders) and each re-key adds a
 *   synthetic aggressive SELL trade print (1 lot) at the new best bid.
 * Cost: a re-key is one event per level or order plus 3, so an event adds at most R × (book size + 3) events,
 * with R, the number of re-keys, bounded whatever the tick size and the message rate:
 *   crash:    R ≤ min(depthBps·(1 + recoveryFraction) / stepBps, (dropSeconds + recoverySeconds) / interval) + 4
 *             (the offset is monotone in each phase; +2 for the thinning switching on and off, +2 for rounding)
 *   reversal: R ≤ min(|O at the end| / step, (end − t_r) / interval) + 1
 * A 3 % crash with the defaults re-keys at most 454 times; without the bounds a 3 % fall of a 60,000 USDT price
 * on a 0.1 grid is 18,000 steps, re-keyed at nearly every message of a busy feed. The book is always re-keyed
 * whole, so the consumer sees exactly the shifted source book; the bounds limit how often, not how much.
 * Limits: the replayed participants do not react (no impact, no real liquidity change besides the
 * thinning); L3 queue priority is rebuilt in arrival order at every re-key; offsets are whole ticks and are
 * capped so prices stay ≥ 1 tick; inserted trades are prints, not executions against the book.
 */
export interface OverlayOptions {
  /** Instruments to alter (ids); all by default. */
  instrumentIds?: number[];
  /** Fraction of displayed bid quantity left while a crash is falling. Default 0.3. */
  crashBidKeep?: number;
  /** Drift (ticks per second) to reverse at a reversal; default: estimated from the stream before it. */
  reversalDriftTicksPerSecond?: number;
  /**
   * Smallest magnitude of an estimated reversal drift, as a fraction of the price per hour. Default 0.02 (the
   * generator's trend drift, ±2 % an hour); 0 keeps the source's drift as it is.
   */
  minReversalDriftPerHour?: number;
  /**
   * Offsets are whole multiples of this many ticks, so shifted prices stay on the venue's price grid.
   * Default: inferred per instrument as the gcd of the prices seen before the first injector starts (e.g. 100
   * for LOBSTER prices in 1/10000 USD that trade in cents; 1 for most crypto feeds).
   */
  priceStepTicks?: number;
  /**
   * Smallest offset step, in basis points of the source price when the first injector starts; the step is the
   * smallest whole multiple of the price grid at least this large. Default 1; 0: one grid step (re-keys once
   * per tick of offset change, the unbounded behaviour).
   */
  minOffsetStepBps?: number;
  /** Least stream time between two re-keys of an instrument, milliseconds. Default 50; 0: no limit. */
  minRekeyIntervalMs?: number;
}

/** Defaults of the bounds on re-keys (see OverlayOptions); part of the cache key of overlaid logs. */
export const OVERLAY_REKEY_DEFAULTS = { minOffsetStepBps: 1, minRekeyIntervalMs: 50 } as const;

interface L3Order {
  side: Side;
  price: bigint;
  qty: bigint;
}

interface InstrumentState {
  info: InstrumentInfo;
  bids: Map<bigint, bigint>;
  asks: Map<bigint, bigint>;
  orders: Map<bigint, L3Order>;
  lastTrade: bigint;
  lastSeq: bigint;
  offset: number;
  keep: number;
  atBoundary: boolean;
  crashRef: number[]; // per crash injector; NaN until known
  reversalDrift: number[]; // per reversal injector
  firstRef: number;
  priceGcd: bigint;
  step: number; // offset step in ticks, fixed when the first injector starts; 0 until then
  lastRekeyNs: bigint | null;
}

/** Stateful transform; feed batches in stream order, get transformed batches back. */
export class InjectorOverlay {
  private readonly crashes: Required<FlashCrash>[];
  private readonly reversals: number[];
  private readonly states = new Map<number, InstrumentState>();
  private readonly keepWhileFalling: number;
  private readonly stepBps: number;
  private readonly rekeyIntervalNs: bigint;
  private readonly firstStart: number;
  private t0: bigint | null = null;
  private out = new Uint8Array(EVENT_SIZE * 1024);
  private outView = new DataView(this.out.buffer);
  private outLen = 0;

  constructor(instruments: InstrumentInfo[], injectors: Injector[], private readonly options: OverlayOptions = {}) {
    validateInjectors(injectors, Infinity);
    const keep = options.crashBidKeep ?? 0.3;
    if (!(keep > 0 && keep <= 1)) throw expected('a fraction in (0, 1]', 'crashBidKeep', keep);
    const step = options.priceStepTicks;
    if (step !== undefined && !(Number.isSafeInteger(step) && step >= 1)) throw expected('a positive integer', 'priceStepTicks', step);
    const floor = options.minReversalDriftPerHour;
    if (floor !== undefined && !(Number.isFinite(floor) && floor >= 0)) throw expected('a non-negative fraction', 'minReversalDriftPerHour', floor);
    const bps = options.minOffsetStepBps ?? OVERLAY_REKEY_DEFAULTS.minOffsetStepBps;
    if (!(Number.isFinite(bps) && bps >= 0 && bps <= 1000)) throw expected('a number of basis points in [0, 1000]', 'minOffsetStepBps', bps);
    const ms = options.minRekeyIntervalMs ?? OVERLAY_REKEY_DEFAULTS.minRekeyIntervalMs;
    if (!(Number.isFinite(ms) && ms >= 0)) throw expected('a non-negative number of milliseconds', 'minRekeyIntervalMs', ms);
    this.stepBps = bps;
    this.rekeyIntervalNs = BigInt(Math.round(ms * 1e6));
    this.keepWhileFalling = keep;
    this.crashes = injectors.filter((i): i is FlashCrash => i.kind === 'flash-crash').map(crashParams);
    this.reversals = injectors.filter((i) => i.kind === 'reversal').map((i) => i.atSeconds).sort((a, b) => a - b);
    this.firstStart = Math.min(...injectors.map((i) => i.atSeconds));
    const ids = options.instrumentIds ?? instruments.map((i) => i.id);
    for (const info of instruments) {
      if (!ids.includes(info.id)) continue;
      this.states.set(info.id, {
        info, bids: new Map(), asks: new Map(), orders: new Map(), lastTrade: 0n, lastSeq: 0n, offset: 0, keep: 1,
        atBoundary: true, crashRef: this.crashes.map(() => NaN), reversalDrift: this.reversals.map(() => NaN), firstRef: NaN, priceGcd: 0n,
        step: 0, lastRekeyNs: null,
      });
    }
  }

  /** Transforms one batch of 64-byte events. The result is a fresh copy. */
  transform(batch: Uint8Array): Uint8Array {
    if (batch.length % EVENT_SIZE !== 0) throw expected('a whole number of 64-byte events', 'overlay batch length', batch.length);
    this.outLen = 0;
    const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    for (let off = 0; off < batch.length; off += EVENT_SIZE) {
      const ts = dv.getBigInt64(off, true);
      if (this.t0 === null) this.t0 = ts;
      const st = this.states.get(dv.getUint32(off + 56, true));
      if (!st) {
        this.copyEvent(batch, off);
        continue;
      }
      const t = Number(ts - this.t0) / 1e9;
      if (st.atBoundary) this.maybeRekey(st, t, ts);
      this.track(st, dv, off);
      const at = this.copyEvent(batch, off);
      this.shiftCopied(st, at);
      const flags = dv.getUint16(off + 62, true);
      st.atBoundary = (flags & EventFlag.EndOfMessage) !== 0;
    }
    return this.out.slice(0, this.outLen);
  }

  /** The offset (whole ticks) and bid keep fraction the instrument should show at time t. */
  private target(st: InstrumentState, t: number): { offset: number; keep: number } {
    let offset = 0;
    let keep = 1;
    this.crashes.forEach((c, k) => {
      if (t < c.atSeconds) return;
      if (Number.isNaN(st.crashRef[k])) st.crashRef[k] = this.referencePrice(st, st.offset);
      if (Number.isNaN(st.crashRef[k])) return;
      offset += crashOffsetFraction(c, t) * st.crashRef[k];
      if (crashPhaseAt(c, t) === 'drop') keep = this.keepWhileFalling;
    });
    this.reversals.forEach((tr, k) => {
      if (t < tr) return;
      if (Number.isNaN(st.reversalDrift[k])) {
        const now = this.referencePrice(st, 0); // the source's own trend, not the offsets added so far
        st.reversalDrift[k] = this.options.reversalDriftTicksPerSecond ?? this.estimatedDrift(st, now, tr);
      }
      offset += -2 * st.reversalDrift[k] * (t - tr);
    });
    if (st.step === 0 && t >= this.firstStart) st.step = this.offsetStep(st);
    const step = st.step || 1;
    let rounded = Math.round(offset / step) * step;
    const ref = st.firstRef; // cheap stand-in for the price level: keeps shifted prices ≥ 1 tick
    if (!Number.isNaN(ref) && ref + rounded < step) rounded = -Math.floor((ref - step) / step) * step;
    return { offset: rounded, keep: st.info.bookType === 'L2' ? keep : 1 };
  }

  /**
   * Offset step (ticks): the grid (`priceStepTicks`, else the gcd of the prices seen so far) times the least
   * whole number that makes it ≥ `minOffsetStepBps` of the source price now (the first price when none is known).
   */
  private offsetStep(st: InstrumentState): number {
    const grid = this.options.priceStepTicks ?? (st.priceGcd > 0n ? Number(st.priceGcd) : 1);
    const now = this.referencePrice(st, 0);
    const price = Number.isNaN(now) ? st.firstRef : now;
    if (!(price > 0) || this.stepBps === 0) return grid;
    return Math.max(1, Math.ceil((price * this.stepBps) / 1e4 / grid)) * grid;
  }

  /** The source's average drift (ticks per second) from its first price to `now` at tr, floored (see above). */
  private estimatedDrift(st: InstrumentState, now: number, tr: number): number {
    const d = tr > 0 && !Number.isNaN(st.firstRef) && !Number.isNaN(now) ? (now - st.firstRef) / tr : 0;
    const min = Number.isNaN(now) ? 0 : ((this.options.minReversalDriftPerHour ?? 0.02) * now) / 3600;
    return Math.abs(d) >= min ? d : d < 0 ? -min : min;
  }

  /** Source mid when both sides are known, else the last trade; NaN when nothing is known yet. Plus `shift`. */
  private referencePrice(st: InstrumentState, shift: number): number {
    let bestBid = -1n;
    let bestAsk = -1n;
    if (st.info.bookType === 'L3') {
      for (const o of st.orders.values()) {
        if (o.side === Side.Bid && o.price > bestBid) bestBid = o.price;
        if (o.side === Side.Ask && (bestAsk < 0n || o.price < bestAsk)) bestAsk = o.price;
      }
    } else {
      for (const p of st.bids.keys()) if (p > bestBid) bestBid = p;
      for (const p of st.asks.keys()) if (bestAsk < 0n || p < bestAsk) bestAsk = p;
    }
    if (bestBid > 0n && bestAsk > 0n) return Number(bestBid + bestAsk) / 2 + shift;
    if (st.lastTrade > 0n) return Number(st.lastTrade) + shift;
    return NaN;
  }

  private maybeRekey(st: InstrumentState, t: number, ts: bigint): void {
    if (Number.isNaN(st.firstRef)) st.firstRef = this.referencePrice(st, 0);
    if (st.lastRekeyNs !== null && ts - st.lastRekeyNs < this.rekeyIntervalNs) return; // too soon: later message
    const { offset, keep } = this.target(st, t);
    if (offset === st.offset && keep === st.keep) return;
    st.lastRekeyNs = ts;
    const falling = keep < 1;
    st.offset = offset;
    st.keep = keep;
    const id = st.info.id;
    this.pushEvent(ts, id, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, st.lastSeq, 0);
    let bestBid = -1n;
    if (st.info.bookType === 'L3') {
      for (const [oid, o] of st.orders) {
        const q = o.side === Side.Bid ? this.thin(o.qty, keep) : o.qty;
        if (o.side === Side.Bid && o.price > bestBid) bestBid = o.price;
        this.pushEvent(ts, id, EventKind.Add, o.side, o.price + BigInt(offset), q, oid, st.lastSeq, EventFlag.Snapshot);
      }
    } else {
      for (const [p, q] of st.bids) {
        if (p > bestBid) bestBid = p;
        this.pushEvent(ts, id, EventKind.Modify, Side.Bid, p + BigInt(offset), this.thin(q, keep), 0n, st.lastSeq, EventFlag.Snapshot);
      }
      for (const [p, q] of st.asks) this.pushEvent(ts, id, EventKind.Modify, Side.Ask, p + BigInt(offset), q, 0n, st.lastSeq, EventFlag.Snapshot);
    }
    this.pushEvent(ts, id, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, st.lastSeq, 0);
    if (falling && bestBid > 0n) this.pushEvent(ts, id, EventKind.Trade, Side.Ask, bestBid + BigInt(offset), 1n, 0n, st.lastSeq, 0);
    this.markLastOut(EventFlag.EndOfMessage);
  }

  private thin(q: bigint, keep: number): bigint {
    if (keep >= 1 || q <= 0n) return q;
    const k = BigInt(Math.ceil(Number(q) * keep));
    return k > 0n ? k : 1n;
  }

  /** Applies a source event to the instrument's source book. */
  private track(st: InstrumentState, dv: DataView, off: number): void {
    const kind = dv.getUint8(off + 60);
    const side = dv.getUint8(off + 61) as Side;
    const price = dv.getBigInt64(off + 16, true);
    const qty = dv.getBigInt64(off + 24, true);
    const oid = dv.getBigUint64(off + 32, true);
    const seq = dv.getBigUint64(off + 40, true);
    const flags = dv.getUint16(off + 62, true);
    if (seq !== 0n) st.lastSeq = seq;
    if (st.offset === 0 && price > 0n && kind !== EventKind.Trade) st.priceGcd = gcd(st.priceGcd, price);
    const levels = side === Side.Bid ? st.bids : st.asks;
    switch (kind) {
      case EventKind.SnapshotBegin:
      case EventKind.Clear:
        st.bids.clear();
        st.asks.clear();
        st.orders.clear();
        break;
      case EventKind.Add:
        if (st.info.bookType === 'L3') st.orders.set(oid, { side, price, qty });
        break;
      case EventKind.Modify:
        if (st.info.bookType === 'L3') {
          const o = st.orders.get(oid);
          if (qty <= 0n) st.orders.delete(oid);
          else if (o) { o.qty = qty; if (price !== 0n) o.price = price; }
          else st.orders.set(oid, { side, price, qty });
        } else if (side === Side.Bid || side === Side.Ask) {
          if (qty <= 0n) levels.delete(price);
          else levels.set(price, qty);
        }
        break;
      case EventKind.Cancel: {
        const o = st.orders.get(oid);
        if (o) { o.qty -= qty; if (o.qty <= 0n) st.orders.delete(oid); }
        break;
      }
      case EventKind.DeleteLevel:
        if (side === Side.Bid || side === Side.Ask) levels.delete(price);
        break;
      case EventKind.Trade: {
        st.lastTrade = price;
        if (flags & EventFlag.ExecResting) {
          const o = st.orders.get(oid);
          if (o) { o.qty -= qty; if (o.qty <= 0n) st.orders.delete(oid); }
        }
        break;
      }
    }
  }

  /** Shifts the price (and thins bid quantities) of the event just copied to the output at byte `at`. */
  private shiftCopied(st: InstrumentState, at: number): void {
    const v = this.outView;
    const kind = v.getUint8(at + 60);
    const side = v.getUint8(at + 61);
    const hasPrice = kind === EventKind.Add || kind === EventKind.Modify || kind === EventKind.DeleteLevel || kind === EventKind.Trade || kind === EventKind.Bbo;
    if (st.offset !== 0 && hasPrice && !(kind === EventKind.Modify && st.info.bookType === 'L3' && v.getBigInt64(at + 16, true) === 0n)) {
      v.setBigInt64(at + 16, v.getBigInt64(at + 16, true) + BigInt(st.offset), true);
    }
    if (st.keep < 1 && side === Side.Bid && st.info.bookType === 'L2' && kind === EventKind.Modify) {
      v.setBigInt64(at + 24, this.thin(v.getBigInt64(at + 24, true), st.keep), true);
    }
  }

  private ensure(extra: number): void {
    if (this.outLen + extra <= this.out.length) return;
    const next = new Uint8Array(Math.max(this.out.length * 2, this.outLen + extra));
    next.set(this.out.subarray(0, this.outLen));
    this.out = next;
    this.outView = new DataView(next.buffer);
  }

  private copyEvent(src: Uint8Array, off: number): number {
    this.ensure(EVENT_SIZE);
    const at = this.outLen;
    this.out.set(src.subarray(off, off + EVENT_SIZE), at);
    this.outLen += EVENT_SIZE;
    return at;
  }

  private pushEvent(ts: bigint, instrument: number, kind: EventKind, side: Side, price: bigint, qty: bigint, orderId: bigint, seq: bigint, flags: number): void {
    this.ensure(EVENT_SIZE);
    const v = this.outView;
    const at = this.outLen;
    v.setBigInt64(at, ts, true);
    v.setBigInt64(at + 8, ts, true);
    v.setBigInt64(at + 16, price, true);
    v.setBigInt64(at + 24, qty, true);
    v.setBigUint64(at + 32, orderId, true);
    v.setBigUint64(at + 40, seq, true);
    v.setBigUint64(at + 48, 0n, true);
    v.setUint32(at + 56, instrument, true);
    v.setUint8(at + 60, kind);
    v.setUint8(at + 61, side);
    v.setUint16(at + 62, flags, true);
    this.outLen += EVENT_SIZE;
  }

  private markLastOut(flag: number): void {
    const at = this.outLen - EVENT_SIZE;
    this.outView.setUint16(at + 62, this.outView.getUint16(at + 62, true) | flag, true);
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b > 0n) [a, b] = [b, a % b];
  return a;
}

/** Streams `events` (batches of 64-byte events, in order) through an InjectorOverlay. */
export function* overlayInjectors(events: Iterable<Uint8Array>, instruments: InstrumentInfo[], injectors: Injector[], options?: OverlayOptions): Generator<Uint8Array> {
  const overlay = new InjectorOverlay(instruments, injectors, options);
  for (const batch of events) yield overlay.transform(batch);
}

/** The same for an async source (a log reader). */
export async function* overlayInjectorsAsync(events: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, instruments: InstrumentInfo[], injectors: Injector[], options?: OverlayOptions): AsyncGenerator<Uint8Array> {
  const overlay = new InjectorOverlay(instruments, injectors, options);
  for await (const batch of events) yield overlay.transform(batch);
}
