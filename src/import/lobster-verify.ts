// Rebuilds a LOBSTER day with the native L3 book and compares its top N levels with LOBSTER's
// orderbook file after every message (`cmm verify-lobster`).
//
// Why a "window" model. A LOBSTER sample pair does not hold enough information for a pure rebuild:
//  - the book at the first message already holds orders placed before it (pre-open), never added;
//  - a message file for N levels only holds the messages that touch the top N levels at that time
//    (AMZN level 1: all 27,845 adds and 27,225 cancels/executions are at or inside the best level).
//    An order added or cancelled outside the window is missing, so levels that come into the window
//    from below hold quantity no message explains, and orders cancelled outside it never go away.
// The window model (default) feeds the book exactly the information a top-N view carries, each use
// counted in the report:
//  1. seed: the first orderbook row, with the first message's own change undone, becomes untracked
//     liquidity (order id 0 events) before the first message, like an L2 snapshot at the start;
//  2. fixup: a message changes its level by exactly its size (LOBSTER gives price and side on every
//     row); when the L3 book moves the level by a different amount (an unknown order, or a known one
//     that is not what LOBSTER had), the level total is set to before +/- size;
//  3. adopt: a price that enters the window (absent from the previous row, and not the current
//     message's price) takes LOBSTER's quantity, 0 when LOBSTER's window shows it empty.
// Prices already in the previous row's window and the current message's level are never adopted: a
// mismatch there is a real reconstruction error. `model: 'pure'` skips 1-3 (the raw L3 rebuild).
import { EVENT_SIZE, EventFlag, EventKind, Side, readEvent } from '../core/event';
import { OrderBook } from '../book/order-book';
import { expected } from '../errors';
import { LobsterMessages, LobsterOrderbook } from './lobster';

export interface LobsterMismatch {
  /** 0-based data row (the same in both files) and the message's 1-based file line. */
  row: number;
  line: number;
  /** LOBSTER message type of the row. */
  type: number;
  /** First differing level (0 = best) and side. */
  level: number;
  side: 'ask' | 'bid';
  /** Both books in LOBSTER column order, prices in ticks (null: empty level). */
  expected: (number | null)[];
  actual: (number | null)[];
}

export interface LobsterVerifyReport {
  model: 'window' | 'pure';
  /** Rows compared (one per parsed message whose orderbook row parsed). */
  rows: number;
  levels: number;
  mismatches: number;
  firstMismatch: LobsterMismatch | null;
  unknownOrders: number;
  /** Window model: levels seeded from the first row, levels adopted on entering the window, fixups. */
  seededLevels: number;
  adoptions: number;
  fixups: { unknownOrder: number; knownOrder: number };
  /** Orderbook rows without a comparable message (bad message row or bad orderbook row). */
  uncompared: number;
  tickSize: number;
}

export interface LobsterVerifyOptions {
  model?: 'window' | 'pure';
}

interface LevelEffect {
  side: Side;
  price: number;
  delta: number;
}

/** The level change LOBSTER implies for event i: adds raise, cancels and visible executions lower. */
function levelEffect(bytes: Uint8Array, i: number): LevelEffect | null {
  const e = readEvent(bytes, i);
  const price = Number(e.price);
  const qty = Number(e.qty);
  if (e.kind === EventKind.Add) return { side: e.side, price, delta: qty };
  if (e.kind === EventKind.Cancel) return { side: e.side, price, delta: -qty };
  if (e.kind === EventKind.Trade && e.flags & EventFlag.ExecResting && !(e.flags & EventFlag.Hidden)) {
    return { side: e.side === Side.Bid ? Side.Ask : Side.Bid, price, delta: -qty };
  }
  return null;
}

const nullIfNaN = (v: number): number | null => (Number.isNaN(v) ? null : v);
const better = (s: Side, a: number, b: number): boolean => (s === Side.Bid ? a > b : a < b);
/** Offset of a side's price column inside one level's 4 values. */
const col = (s: Side): number => (s === Side.Ask ? 0 : 2);

export function verifyLobster(msgs: LobsterMessages, book: LobsterOrderbook, opts: LobsterVerifyOptions = {}): LobsterVerifyReport {
  const model = opts.model ?? 'window';
  if (model !== 'window' && model !== 'pure') throw expected("'window' or 'pure'", 'model', model);
  const N = book.levels;
  const width = 4 * N;
  const bytes = msgs.batch.bytes();
  const n = msgs.batch.length;
  const l3 = OrderBook.l3();
  const cur = new Float64Array(width);
  const side = new Float64Array(2 * N);
  const report: LobsterVerifyReport = {
    model, rows: 0, levels: N, mismatches: 0, firstMismatch: null, unknownOrders: 0, seededLevels: 0, adoptions: 0,
    fixups: { unknownOrder: 0, knownOrder: 0 }, uncompared: 0, tickSize: msgs.instrument.tickSize,
  };
  const window = model === 'window';
  // LOBSTER's window before the current row: the prices it showed per side.
  const prevWindow = new Map<Side, Set<number>>([[Side.Ask, new Set()], [Side.Bid, new Set()]]);
  const rowLevels = (r: number, s: Side): Map<number, number> => {
    const m = new Map<number, number>();
    for (let k = 0; k < N; k++) {
      const q = book.data[r * width + 4 * k + col(s) + 1];
      if (q > 0) m.set(book.data[r * width + 4 * k + col(s)], q);
    }
    return m;
  };

  if (window && n > 0 && !book.bad[msgs.dataRow[0]]) report.seededLevels = seed(l3, bytes, rowLevels(msgs.dataRow[0], Side.Ask), rowLevels(msgs.dataRow[0], Side.Bid), prevWindow);

  for (let i = 0; i < n; i++) {
    const r = msgs.dataRow[i];
    const eff = window ? levelEffect(bytes, i) : null;
    const before = eff ? l3.levelQty(eff.side, eff.price) : 0;
    const applied = l3.apply(bytes, 1, i);
    if (eff) {
      const want = Math.max(0, before + eff.delta);
      if (l3.levelQty(eff.side, eff.price) !== want) {
        l3.setLevel(eff.side, eff.price, want);
        if (applied === 0) report.fixups.unknownOrder++;
        else report.fixups.knownOrder++;
      }
    }
    if (r >= book.rows || book.bad[r]) continue;
    if (window) {
      for (const s of [Side.Ask, Side.Bid]) {
        report.adoptions += adopt(l3, s, rowLevels(r, s), prevWindow.get(s)!, N, eff, side);
        prevWindow.set(s, new Set(rowLevels(r, s).keys()));
      }
    }
    report.rows++;
    l3.topLevels(N, cur);
    const diff = firstDiff(cur, book.data, r * width, N);
    if (diff !== null) {
      report.mismatches++;
      if (report.firstMismatch === null) {
        report.firstMismatch = {
          row: r, line: msgs.line[i], type: msgs.type[i], level: diff.level, side: diff.side,
          expected: Array.from(book.data.subarray(r * width, (r + 1) * width), nullIfNaN),
          actual: Array.from(cur, nullIfNaN),
        };
      }
    }
  }
  report.uncompared = book.rows - report.rows;
  report.unknownOrders = l3.stats().unknownOrders;
  return report;
}

/** Seeds the book with LOBSTER's first row minus the first message's change, as untracked liquidity. */
function seed(l3: OrderBook, bytes: Uint8Array, asks: Map<number, number>, bids: Map<number, number>, prevWindow: Map<Side, Set<number>>): number {
  const eff = levelEffect(bytes, 0);
  const sides = new Map<Side, Map<number, number>>([[Side.Ask, asks], [Side.Bid, bids]]);
  if (eff) {
    const m = sides.get(eff.side)!;
    const q = (m.get(eff.price) ?? 0) - eff.delta;
    if (q > 0) m.set(eff.price, q);
    else m.delete(eff.price);
  }
  // SnapshotBegin, untracked levels (order id 0), SnapshotEnd: the engine's snapshot sequence.
  const ev = new Uint8Array(EVENT_SIZE * (2 + asks.size + bids.size));
  const dv = new DataView(ev.buffer);
  let k = 0;
  const put = (kind: EventKind, s: Side, price: number, qty: number, flags: number): void => {
    dv.setBigInt64(k * EVENT_SIZE + 16, BigInt(price), true);
    dv.setBigInt64(k * EVENT_SIZE + 24, BigInt(qty), true);
    dv.setUint8(k * EVENT_SIZE + 60, kind);
    dv.setUint8(k * EVENT_SIZE + 61, s);
    dv.setUint16(k * EVENT_SIZE + 62, flags, true);
    k++;
  };
  put(EventKind.SnapshotBegin, Side.None, 0, 0, EventFlag.Snapshot);
  for (const [s, m] of sides) {
    for (const [price, qty] of m) put(EventKind.Modify, s, price, qty, EventFlag.Snapshot);
    prevWindow.set(s, new Set(m.keys()));
  }
  put(EventKind.SnapshotEnd, Side.None, 0, 0, EventFlag.Snapshot | EventFlag.EndOfMessage);
  l3.apply(ev);
  return asks.size + bids.size;
}

/**
 * Window model step 3 for one side: every price in our top N or LOBSTER's that was not in LOBSTER's
 * previous window (and is not the message's own level) takes LOBSTER's quantity; 0 when LOBSTER's
 * window covers the price and shows nothing; untouched when the price lies beyond LOBSTER's window.
 * Repeats while our top N changes (each round can uncover one more stale level of ours). Returns how
 * many levels were changed.
 */
function adopt(l3: OrderBook, s: Side, lob: Map<number, number>, prev: Set<number>, N: number, eff: LevelEffect | null, buf: Float64Array): number {
  let worst = NaN;
  for (const p of lob.keys()) if (Number.isNaN(worst) || better(s, worst, p)) worst = p;
  const full = lob.size === N;
  let changed = 0;
  for (let round = 0; round < 100000; round++) {
    const k = l3.depthInto(s, N, buf);
    const candidates = new Set(lob.keys());
    for (let j = 0; j < k; j++) candidates.add(buf[2 * j]);
    let any = false;
    for (const p of candidates) {
      if (prev.has(p) || (eff && eff.side === s && eff.price === p)) continue;
      let want = lob.get(p);
      if (want === undefined) {
        if (full && !better(s, p, worst)) continue; // beyond LOBSTER's window: nothing known
        want = 0;
      }
      if (l3.levelQty(s, p) !== want) {
        l3.setLevel(s, p, want);
        changed++;
        any = true;
      }
    }
    if (!any) break;
  }
  return changed;
}

function firstDiff(cur: Float64Array, data: Float64Array, off: number, N: number): { level: number; side: 'ask' | 'bid' } | null {
  for (let k = 0; k < N; k++) {
    for (const s of [Side.Ask, Side.Bid]) {
      const c = 4 * k + col(s);
      const q = data[off + c + 1];
      if (cur[c + 1] !== q || (q > 0 && cur[c] !== data[off + c])) return { level: k, side: s === Side.Ask ? 'ask' : 'bid' };
    }
  }
  return null;
}
