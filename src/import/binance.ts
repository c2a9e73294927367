// Binance recordings (`<receive ns> <raw JSON>` lines, hftbacktest format) -> events: REST depth snapshot,
// depth diffs (USD-M futures with pu, spot without), bookTicker (Bbo) and trade/aggTrade.
//
// Market. A file is USD-M futures (venue "binance.usdm") when its depth diffs carry `pu`, spot
// ("binance.spot") when they do not (files without diffs: futures when trades carry X or bookTickers e).
// The REST snapshot line has no symbol: it belongs to the file's one symbol.
// Sync (Binance's own procedure). Diffs received before the snapshot line are held back; at the
// snapshot, those wholly older than it are dropped and the rest applied right after it (their tsLocal
// set to the snapshot's, flagged TsClamped, noted in the report). After a snapshot with id L:
//   futures: drop u < L; the first applied must have U <= L <= u; then pu must equal the previous u.
//   spot:    drop u <= L; the first applied must have U <= L+1 <= u; then U must be previous u + 1.
// Events: Modify with the level's absolute qty, seq = u, prev_seq = pu (futures) or U-1 (spot); the
// first diff applied after a snapshot gets prev_seq = L (its straddle was checked here), so the
// engine's continuity check holds across the snapshot. Breaks are reported as gaps and kept in
// prev_seq. The importer does not repair the data: the spot file's bid at 61820.99 that is never
// removed stays in; the engine's crossed-book detection deals with it.
// Trades: m = true means the buyer was the maker, so the aggressor is the seller (Side.Ask).
import { EventKind, Side } from '../core/event';
import {
  ImportOptions, ImportResult, InstrumentRegistry, InstrumentScale, LineParser, ParseContext, PriceLevel, ScaleScan, ScanContext, VenueImporter, runImport,
} from './common';
import { LineError, msToNs, parseJson, safeId } from './fields';
import { LineSource } from './lines';

type Market = 'usdm' | 'spot';

interface Line {
  tsLocal: bigint;
  /** The event object (combined-stream `data` unwrapped). */
  data: any;
  /** Symbol from data.s or the stream name; '' for the REST snapshot. */
  symbol: string;
  type: 'snapshot' | 'depth' | 'bookTicker' | 'trade' | 'other';
}

function decodeLine(text: string): Line | undefined {
  if (text.trim() === '') return undefined;
  const sp = text.indexOf(' ');
  const stamp = sp > 0 ? text.slice(0, sp) : '';
  if (!/^\d{1,19}$/.test(stamp)) throw new LineError('garbage line', 'expected "<receive time ns> <JSON>"');
  const o = parseJson(text.slice(sp + 1));
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new LineError('garbage line', 'expected a JSON object after the receive time');
  const tsLocal = BigInt(stamp);
  if ('lastUpdateId' in o && ('bids' in o || 'asks' in o)) return { tsLocal, data: o, symbol: '', type: 'snapshot' };
  const data = o.data !== undefined && typeof o.stream === 'string' ? o.data : o;
  if (data === null || typeof data !== 'object') throw new LineError('garbage line', 'stream message without data');
  const fromStream = typeof o.stream === 'string' ? o.stream.split('@')[0].toUpperCase() : '';
  const symbol = typeof data.s === 'string' ? data.s.toUpperCase() : fromStream;
  if (fromStream && symbol !== fromStream) throw new LineError('unknown symbol', `data for ${symbol} on stream ${o.stream}`);
  const e = data.e;
  const type =
    e === 'depthUpdate' ? 'depth'
    : e === 'bookTicker' || (e === undefined && 'b' in data && 'B' in data && 'a' in data && 'A' in data) ? 'bookTicker'
    : e === 'trade' || e === 'aggTrade' ? 'trade'
    : 'other';
  if (type !== 'other' && !symbol) throw new LineError('unknown symbol', `${type} message without a symbol`);
  return { tsLocal, data, symbol, type };
}

function levels(v: unknown, what: string): unknown[][] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new LineError('garbage line', `expected a list of [price, qty] for ${what}`);
  for (const l of v) if (!Array.isArray(l) || l.length < 2) throw new LineError('garbage line', `expected [price, qty] in ${what}, got ${JSON.stringify(l)}`);
  return v as unknown[][];
}

interface FileFacts {
  symbols: string[];
  strongUsdm: number;
  strongSpot: number;
  weakUsdm: number;
  snapshotLines: number;
  market?: Market;
}

interface BinanceScan {
  files: Map<string, FileFacts>;
}

const SNAPSHOT_KEY = '\u0000snapshot';

export const binanceImporter: VenueImporter<BinanceScan> = {
  venue: 'binance',
  newScan: () => ({ files: new Map() }),

  scanLine(text: string, scan: BinanceScan, ctx: ScanContext): void {
    let f = scan.files.get(ctx.file);
    if (!f) scan.files.set(ctx.file, (f = { symbols: [], strongUsdm: 0, strongSpot: 0, weakUsdm: 0, snapshotLines: 0 }));
    const l = decodeLine(text);
    if (!l || l.type === 'other') return;
    const key = `${ctx.file}\u0000${l.type === 'snapshot' ? SNAPSHOT_KEY : l.symbol}`;
    const d = l.data;
    if (l.type === 'snapshot') {
      f.snapshotLines++;
      ctx.scales.observe(key);
      for (const side of [d.bids, d.asks]) for (const x of levels(side, 'levels')) ctx.scales.observe(key, String(x[0]), String(x[1]));
      return;
    }
    if (!f.symbols.includes(l.symbol)) f.symbols.push(l.symbol);
    if (!ctx.selected(l.symbol)) return;
    ctx.scales.observe(key);
    if (l.type === 'depth') {
      if ('pu' in d) f.strongUsdm++;
      else f.strongSpot++;
      for (const side of [d.b, d.a]) for (const x of levels(side, 'levels')) ctx.scales.observe(key, String(x[0]), String(x[1]));
    } else if (l.type === 'bookTicker') {
      if (d.e === 'bookTicker') f.weakUsdm++;
      ctx.scales.observe(key, String(d.b), String(d.B));
      ctx.scales.observe(key, String(d.a), String(d.A));
    } else {
      if ('X' in d) f.weakUsdm++;
      ctx.scales.observe(key, String(d.p), String(d.q));
    }
  },

  defineInstruments(scan: BinanceScan, scales: ScaleScan, registry: InstrumentRegistry): void {
    // Merge the per-file scales into per-instrument ones first (one instrument may span files).
    const merged = new Map<string, { venue: string; symbol: string; price: number; qty: number }>();
    for (const [file, f] of scan.files) {
      f.market = f.strongUsdm + f.strongSpot > 0 ? (f.strongUsdm >= f.strongSpot ? 'usdm' : 'spot') : f.weakUsdm > 0 ? 'usdm' : 'spot';
      const venue = `binance.${f.market}`;
      for (const symbol of f.symbols) {
        const keys = [`${file}\u0000${symbol}`];
        if (f.symbols.length === 1) keys.push(`${file}\u0000${SNAPSHOT_KEY}`);
        if (!scales.keys().includes(keys[0])) continue; // filtered out
        const m = merged.get(InstrumentRegistry.key(venue, symbol)) ?? { venue, symbol, price: 0, qty: 0 };
        for (const k of keys) {
          m.price = Math.max(m.price, scales.get(k).price);
          m.qty = Math.max(m.qty, scales.get(k).qty);
        }
        merged.set(InstrumentRegistry.key(venue, symbol), m);
      }
    }
    for (const m of merged.values()) registry.define(m.venue, m.symbol, 'L2', m.price, m.qty);
  },

  newParser: (scan: BinanceScan, registry: InstrumentRegistry) => new BinanceParser(scan, registry),
};

interface Diff {
  line: number;
  tsExchange: bigint;
  tsLocal: bigint;
  U: number;
  u: number;
  pu: number | undefined;
  bids: PriceLevel[];
  asks: PriceLevel[];
}

interface BookState {
  /** Last snapshot id; undefined before any snapshot. */
  snapshotId?: number;
  /** The first diff after the snapshot has been applied. */
  synced: boolean;
  lastU?: number;
  /** Diffs held back until the file's snapshot line. */
  pending: Diff[];
}

class BinanceParser implements LineParser {
  private readonly books = new Map<number, BookState>();
  private facts!: FileFacts;
  private market: Market = 'usdm';
  private snapshotsLeft = 0;

  constructor(private readonly scan: BinanceScan, private readonly registry: InstrumentRegistry) {}

  private book(inst: InstrumentScale): BookState {
    let b = this.books.get(inst.info.id);
    if (!b) this.books.set(inst.info.id, (b = { synced: false, pending: [] }));
    return b;
  }

  private instrument(symbol: string, ctx: ParseContext): InstrumentScale {
    const inst = this.registry.get(`binance.${this.market}`, symbol);
    if (!inst) ctx.fail('unknown symbol', `no instrument for ${symbol}`);
    return inst;
  }

  line(text: string, ctx: ParseContext): void {
    if (ctx.line === 1) {
      this.facts = this.scan.files.get(ctx.file)!;
      this.market = this.facts.market ?? 'usdm';
      this.snapshotsLeft = this.facts.snapshotLines;
    }
    const l = decodeLine(text);
    if (!l) return ctx.skip('empty line');
    if (l.type === 'other') return ctx.skip(`event ${String(l.data.e ?? 'unknown')} (ignored)`);
    if (l.type === 'snapshot') {
      this.snapshotsLeft--;
      if (this.facts.symbols.length !== 1) ctx.fail('unknown symbol', `REST snapshot in a file with ${this.facts.symbols.length} symbols: cannot tell whose`);
      if (!ctx.select(this.facts.symbols[0])) return;
      return this.snapshot(l, this.instrument(this.facts.symbols[0], ctx), ctx);
    }
    if (!ctx.select(l.symbol)) return;
    const inst = this.instrument(l.symbol, ctx);
    const d = l.data;
    if (l.type === 'depth') return this.depth(l, inst, ctx);
    if (l.type === 'bookTicker') {
      const bid = ctx.price(inst, String(d.b));
      const bidQty = ctx.qty(inst, String(d.B), true);
      const ask = ctx.price(inst, String(d.a));
      const askQty = ctx.qty(inst, String(d.A), true);
      ctx.begin('', d.T !== undefined || d.E !== undefined ? msToNs(d.T ?? d.E) : l.tsLocal, l.tsLocal);
      ctx.push(inst, EventKind.Bbo, Side.Bid, bid, bidQty);
      ctx.push(inst, EventKind.Bbo, Side.Ask, ask, askQty);
      return;
    }
    // trade / aggTrade
    if (d.X !== undefined && d.X !== 'MARKET') return ctx.skip(`trade type ${String(d.X)} (not a market trade)`);
    if (typeof d.m !== 'boolean') ctx.fail('bad side', `expected boolean m (buyer is maker), got ${JSON.stringify(d.m)}`);
    const price = ctx.price(inst, String(d.p));
    const qty = ctx.qty(inst, String(d.q), false);
    ctx.begin('', msToNs(d.T ?? d.E, 'trade time'), l.tsLocal);
    ctx.push(inst, EventKind.Trade, d.m ? Side.Ask : Side.Bid, price, qty);
  }

  private snapshot(l: Line, inst: InstrumentScale, ctx: ParseContext): void {
    const d = l.data;
    const id = safeId(d.lastUpdateId, 'lastUpdateId');
    const bids = levels(d.bids, 'bids').map((x) => [ctx.price(inst, String(x[0])), ctx.qty(inst, String(x[1]), true)] as const);
    const asks = levels(d.asks, 'asks').map((x) => [ctx.price(inst, String(x[0])), ctx.qty(inst, String(x[1]), true)] as const);
    const seq = BigInt(id);
    ctx.begin('', d.T !== undefined || d.E !== undefined ? msToNs(d.T ?? d.E) : l.tsLocal, l.tsLocal);
    ctx.pushSnapshot(inst, seq, bids, asks);
    ctx.end();
    const b = this.book(inst);
    b.snapshotId = id;
    b.synced = false;
    b.lastU = id;
    const held = b.pending;
    b.pending = [];
    let applied = 0;
    for (const diff of held) if (this.apply(diff, inst, b, ctx, true)) applied++;
    if (held.length > 0) {
      ctx.note(`${inst.info.symbol}: ${held.length} depth diffs received before the REST snapshot (line ${ctx.line}): ` +
        `${held.length - applied} older than it dropped, ${applied} applied right after it, at its receive time (TsClamped)`);
    }
  }

  private depth(l: Line, inst: InstrumentScale, ctx: ParseContext): void {
    const d = l.data;
    const U = safeId(d.U, 'U');
    const u = safeId(d.u, 'u');
    const pu = this.market === 'usdm' ? safeId(d.pu, 'pu') : undefined;
    if (U > u) ctx.fail('bad sequence', `U ${U} > u ${u}`);
    const diff: Diff = {
      line: ctx.line, tsExchange: msToNs(d.T ?? d.E, 'event time'), tsLocal: l.tsLocal, U, u, pu,
      bids: levels(d.b, 'b').map((x) => [ctx.price(inst, String(x[0])), ctx.qty(inst, String(x[1]), true)] as const),
      asks: levels(d.a, 'a').map((x) => [ctx.price(inst, String(x[0])), ctx.qty(inst, String(x[1]), true)] as const),
    };
    const b = this.book(inst);
    if (b.snapshotId === undefined && this.snapshotsLeft > 0) {
      b.pending.push(diff);
      return;
    }
    this.apply(diff, inst, b, ctx, false);
  }

  /** Applies one diff per the sync rules; false when it was dropped as older than the snapshot. */
  private apply(diff: Diff, inst: InstrumentScale, b: BookState, ctx: ParseContext, late: boolean): boolean {
    const spot = this.market === 'spot';
    const sym = inst.info.symbol;
    let prev: number;
    if (b.snapshotId !== undefined && !b.synced) {
      const L = b.snapshotId;
      if (spot ? diff.u <= L : diff.u < L) {
        ctx.skip('depth diff older than the snapshot');
        return false;
      }
      const first = spot ? L + 1 : L;
      if (diff.U > first) ctx.gap(sym, first, diff.U, diff.line);
      prev = diff.U <= first ? L : spot ? diff.U - 1 : diff.pu!;
      b.synced = true;
    } else {
      prev = spot ? diff.U - 1 : diff.pu!;
      if (b.lastU === undefined) ctx.gap(sym, 0, spot ? diff.U : diff.pu!, diff.line); // no snapshot: base unknown
      else if (spot ? diff.U !== b.lastU + 1 : diff.pu !== b.lastU) ctx.gap(sym, spot ? b.lastU + 1 : b.lastU, spot ? diff.U : diff.pu!, diff.line);
    }
    b.lastU = diff.u;
    const seq = BigInt(diff.u);
    const prevSeq = BigInt(prev);
    ctx.begin('', diff.tsExchange, diff.tsLocal, late);
    ctx.pushLevelUpdates(inst, seq, prevSeq, diff.bids, diff.asks);
    ctx.end();
    return true;
  }

  endSource(ctx: ParseContext): void {
    for (const [id, b] of this.books) {
      if (b.pending.length === 0) continue;
      ctx.skip('depth diff never applied (snapshot line unusable)', b.pending.length);
      ctx.note(`instrument ${id}: ${b.pending.length} depth diffs waited for a snapshot that never applied`);
      b.pending = [];
    }
  }
}

/** Imports Binance recordings (spot and USD-M futures) into one merged event batch. */
export function importBinance(sources: readonly LineSource[], opts?: ImportOptions): Promise<ImportResult> {
  return runImport(binanceImporter, sources, opts);
}
