// Shared importer machinery: the two-pass driver (scale scan, then parse), instrument registry, the
// ImportReport, a message writer that clamps out-of-order timestamps, and the merge by local time.
//
// Scales. Prices become integer ticks and sizes integer lots. The tick of an instrument is 10^-d where d
// is the largest number of significant decimals (trailing zeros ignored: "61837.63000000" has 2) seen in
// any of its prices across ALL inputs of the import; the lot likewise from its sizes. Pass 1 scans every
// source for those decimals, pass 2 converts with decimalToUnits, so a price off the tick grid cannot
// happen. The tick is the finest step the data used, which can be finer but never coarser than the
// venue's own tick.
//
// Timestamps. Every event carries the venue's time (tsExchange) and the receive time (tsLocal; the
// venue time when the recording has none). Inputs are cut into streams (one per file, or per websocket
// connection for Bybit recordings) whose tsLocal must not go back. A message that goes back is KEPT with
// tsLocal clamped to the previous one and EventFlag.TsClamped (dropping a book update would create a
// sequence gap), counted in `clamped` and listed in `errors`; --strict throws instead. tsExchange is
// left as the venue sent it. Streams are then merged by tsLocal (stable: ties keep input order), one
// whole venue message at a time.
//
// Sequence numbers. Only book events (snapshots, level updates) carry seq/prev_seq; Trade and Bbo
// events carry 0, so the engine's "last seq per instrument" is always the book's update id.
import { EventBatch, EventFlag, EventKind, Side } from '../core/event';
import type { BookType, InstrumentInfo } from '../core/instrument';
import { EngineError } from '../errors';
import { DecimalError, decimalPlaces, decimalToUnits, unitSize } from './decimal';
import { LineError } from './fields';
import { LineSource, TruncatedInput } from './lines';
import { mergeByLocalTime } from './merge';

export interface ImportOptions {
  /** Throw EngineError (E_BAD_INPUT, E_TRUNCATED, E_UNKNOWN_SYMBOL) at the first problem instead of counting it. */
  strict?: boolean;
  /** Keep only these venue symbols (case-insensitive); lines of other symbols are skipped and counted. */
  symbols?: readonly string[];
  /** How many problems to list per file in ImportReport.errors (all are counted). Default 20. */
  maxErrors?: number;
}

export interface ImportIssue {
  file: string;
  /** 1-based line; 0 when the problem is not one line's (e.g. a --symbols entry never seen). */
  line: number;
  message: string;
}

export interface ImportGap {
  file: string;
  symbol: string;
  line: number;
  /** The update id continuity required (0: no snapshot/base seen yet for this instrument). */
  expected: number;
  got: number;
}

export interface ImportReport {
  file: string;
  lines: number;
  events: number;
  /** Venue messages that produced events. */
  messages: number;
  /** Lines or messages not turned into events, by reason (ignored topics, bad input, filtered symbols). */
  skipped: Record<string, number>;
  /** The first `maxErrors` problems with file:line. */
  errors: ImportIssue[];
  /** All problems (bad lines, out-of-order timestamps, truncation), listed or not. */
  errorCount: number;
  /** Messages whose tsLocal went back and was clamped (also in errors). */
  clamped: number;
  gaps: ImportGap[];
  /** "venue:symbol" of the instruments this file produced events for. */
  instruments: string[];
  /** Facts worth knowing that are not errors (deferred messages, verification results). */
  notes: string[];
}

export interface ImportResult {
  venue: string;
  /** Every event of every input, merged by tsLocal. */
  batch: EventBatch;
  instruments: InstrumentInfo[];
  /** One report per input, in input order. */
  reports: ImportReport[];
}

/** An instrument with the decimal scales its text prices/sizes convert with. */
export interface InstrumentScale {
  info: InstrumentInfo;
  priceDecimals: number;
  qtyDecimals: number;
}

/** symbol -> index, venue, tick, lot, book type. Ids are dense, in definition order. */
export class InstrumentRegistry {
  private readonly byKey = new Map<string, InstrumentScale>();
  private readonly all: InstrumentScale[] = [];

  static key(venue: string, symbol: string): string {
    return `${venue}:${symbol}`;
  }

  define(venue: string, symbol: string, bookType: BookType, priceDecimals: number, qtyDecimals: number): InstrumentScale {
    const key = InstrumentRegistry.key(venue, symbol);
    const known = this.byKey.get(key);
    if (known) return known;
    const entry: InstrumentScale = {
      info: { id: this.all.length, symbol, venue, tickSize: unitSize(priceDecimals), lotSize: unitSize(qtyDecimals), bookType },
      priceDecimals,
      qtyDecimals,
    };
    this.byKey.set(key, entry);
    this.all.push(entry);
    return entry;
  }

  get(venue: string, symbol: string): InstrumentScale | undefined {
    return this.byKey.get(InstrumentRegistry.key(venue, symbol));
  }

  list(): InstrumentInfo[] {
    return this.all.map((e) => ({ ...e.info }));
  }
}

/** Pass 1 result: the largest significant decimals seen per key (the venue chooses the keys). */
export class ScaleScan {
  private readonly scales = new Map<string, { price: number; qty: number }>();

  observe(key: string, price?: string, qty?: string): void {
    let s = this.scales.get(key);
    if (!s) this.scales.set(key, (s = { price: 0, qty: 0 }));
    if (price !== undefined) s.price = Math.max(s.price, decimalPlaces(price));
    if (qty !== undefined) s.qty = Math.max(s.qty, decimalPlaces(qty));
  }

  /** Decimal places already counted (e.g. from JSON numbers). */
  observePlaces(key: string, price: number, qty: number): void {
    let s = this.scales.get(key);
    if (!s) this.scales.set(key, (s = { price: 0, qty: 0 }));
    s.price = Math.max(s.price, price);
    s.qty = Math.max(s.qty, qty);
  }

  /** Keys in first-seen order. */
  keys(): string[] {
    return [...this.scales.keys()];
  }

  get(key: string): { price: number; qty: number } {
    return this.scales.get(key) ?? { price: 0, qty: 0 };
  }
}

/** What a venue's scan pass sees of the driver. */
export interface ScanContext {
  readonly file: string;
  readonly line: number;
  readonly scales: ScaleScan;
  /** The --symbols filter (true when there is none). */
  selected(symbol: string): boolean;
}

export interface LineParser {
  line(text: string, ctx: ParseContext): void;
  /** End of one source in pass 2: flush what was held back, add notes. */
  endSource?(ctx: ParseContext): void;
}

/** One venue's importer, driven by runImport. S is its own scan state. */
export interface VenueImporter<S> {
  readonly venue: string;
  newScan(): S;
  /** Pass 1: observe decimals (bad lines may be ignored here: pass 2 reports them). */
  scanLine(text: string, scan: S, ctx: ScanContext): void;
  /** Between the passes: define the instruments (ids in first-seen order) from the scan. */
  defineInstruments(scan: S, scales: ScaleScan, registry: InstrumentRegistry): void;
  /** Pass 2 parser, fresh state, reading the scan's facts. */
  newParser(scan: S, registry: InstrumentRegistry): LineParser;
}

interface Stream {
  batch: EventBatch;
  lastLocal: bigint;
}

/** One price level as parsed: [price in ticks, size in lots]. */
export type PriceLevel = readonly [price: bigint, qty: bigint];

/** Pass 2 context: the message writer, skip/gap/error bookkeeping for the current line. */
export class ParseContext {
  file = '';
  line = 0;
  report!: ImportReport;
  private readonly streams = new Map<string, Stream>();
  private readonly order: Stream[] = [];
  private readonly filter?: Set<string>;
  readonly seenSymbols = new Set<string>();
  private readonly firstFiltered = new Map<string, string>();
  private readonly reportInstruments = new Set<number>();
  // The open message.
  private cur?: Stream;
  private start = 0;
  private tsLocal = 0n;
  private tsExchange = 0n;
  private clampFrom = -1n; // the unclamped tsLocal of an out-of-order message, -1 otherwise
  private clampFlag = false;
  private held = false;
  private sourceIndex = 0;

  constructor(readonly strict: boolean, symbols: readonly string[] | undefined, readonly maxErrors: number) {
    if (symbols && symbols.length > 0) this.filter = new Set(symbols.map((s) => s.toUpperCase()));
  }

  startSource(index: number, report: ImportReport): void {
    this.sourceIndex = index;
    this.report = report;
    this.file = report.file;
    this.line = 0;
    this.reportInstruments.clear();
  }

  fail(reason: string, message: string): never {
    throw new LineError(reason, message);
  }

  skip(reason: string, n = 1): void {
    this.report.skipped[reason] = (this.report.skipped[reason] ?? 0) + n;
  }

  note(message: string): void {
    this.report.notes.push(message);
  }

  gap(symbol: string, expected: number, got: number, line = this.line): void {
    this.report.gaps.push({ file: this.file, symbol, line, expected, got });
  }

  /** Records a problem at the current line (or throws in strict mode). */
  issue(reason: string, message: string, code: 'E_BAD_INPUT' | 'E_TRUNCATED' | 'E_UNKNOWN_SYMBOL' = 'E_BAD_INPUT', line = this.line): void {
    if (this.strict) throw new EngineError(code, message, { file: this.file, line });
    this.skip(reason);
    this.report.errorCount++;
    if (this.report.errors.length < this.maxErrors) this.report.errors.push({ file: this.file, line, message });
  }

  /** Symbol filter: false (and the line counted as skipped) for a symbol not in --symbols. */
  select(symbol: string): boolean {
    const up = symbol.toUpperCase();
    this.seenSymbols.add(up);
    if (!this.filter || this.filter.has(up)) return true;
    this.skip('symbol not in --symbols');
    if (!this.firstFiltered.has(up)) this.firstFiltered.set(up, `${this.file}:${this.line}`);
    return false;
  }

  /** Filter entries never seen in any input (the driver reports them). */
  unseenFilterSymbols(): string[] {
    return this.filter ? [...this.filter].filter((s) => !this.seenSymbols.has(s)) : [];
  }

  filteredNotes(): string[] {
    return [...this.firstFiltered].map(([s, at]) => `${s} skipped (not in --symbols), first at ${at}`);
  }

  /** A price in ticks: a plain decimal > 0 on the instrument's scale. */
  price(inst: InstrumentScale, text: unknown): bigint {
    const v = this.units(text, inst.priceDecimals, 'price');
    if (v <= 0n) this.fail('bad price', `expected a price > 0, got ${JSON.stringify(text)}`);
    return v;
  }

  /** A size in lots: a plain decimal >= 0 (> 0 unless allowZero). */
  qty(inst: InstrumentScale, text: unknown, allowZero: boolean): bigint {
    const v = this.units(text, inst.qtyDecimals, 'size');
    if (v < 0n) this.fail('negative size', `expected a size >= 0, got ${JSON.stringify(text)}`);
    if (v === 0n && !allowZero) this.fail('zero size', `expected a size > 0, got ${JSON.stringify(text)}`);
    return v;
  }

  private units(text: unknown, decimals: number, what: string): bigint {
    if (typeof text !== 'string') this.fail(`bad ${what}`, `expected a decimal string for ${what}, got ${JSON.stringify(text)}`);
    try {
      return decimalToUnits(text, decimals);
    } catch (err) {
      if (err instanceof DecimalError) this.fail(`bad ${what}`, `bad ${what}: ${err.message}`);
      throw err;
    }
  }

  /** Opens a message on `stream` (a key within the current source). `late`: a deliberate clamp. */
  begin(stream: string, tsExchange: bigint, tsLocal: bigint, late = false): void {
    if (this.cur) this.end();
    const key = `${this.sourceIndex}\u0000${stream}`;
    let s = this.streams.get(key);
    if (!s) {
      s = { batch: new EventBatch(1024), lastLocal: -(1n << 62n) };
      this.streams.set(key, s);
      this.order.push(s);
    }
    this.cur = s;
    this.start = s.batch.length;
    this.tsExchange = tsExchange;
    this.tsLocal = tsLocal;
    this.clampFrom = -1n;
    this.held = false;
    this.clampFlag = tsLocal < s.lastLocal;
    if (this.clampFlag) {
      if (!late) this.clampFrom = tsLocal;
      this.tsLocal = s.lastLocal;
    }
  }

  push(inst: InstrumentScale, kind: EventKind, side: Side, price: bigint, qty: bigint, orderId = 0n, seq = 0n, prevSeq = 0n, flags = 0, tsExchange?: bigint): void {
    const f = this.clampFlag ? flags | EventFlag.TsClamped : flags;
    this.cur!.batch.push(tsExchange ?? this.tsExchange, this.tsLocal, inst.info.id, kind, side, price, qty, orderId, seq, prevSeq, f);
    if (!this.reportInstruments.has(inst.info.id)) {
      this.reportInstruments.add(inst.info.id);
      this.report.instruments.push(InstrumentRegistry.key(inst.info.venue, inst.info.symbol));
    }
  }

  /**
   * Writes a full book snapshot into the open message: SnapshotBegin, one Modify per level (Snapshot flag),
   * SnapshotEnd, all with sequence `seq`. Zero-size levels are not written, only counted as skipped.
   */
  pushSnapshot(inst: InstrumentScale, seq: bigint, bids: readonly PriceLevel[], asks: readonly PriceLevel[]): void {
    this.push(inst, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, seq, 0n);
    let zero = 0;
    for (const [side, list] of [[Side.Bid, bids], [Side.Ask, asks]] as const) {
      for (const [p, q] of list) {
        if (q === 0n) zero++;
        else this.push(inst, EventKind.Modify, side, p, q, 0n, seq, 0n, EventFlag.Snapshot);
      }
    }
    if (zero > 0) this.skip('zero-size snapshot level', zero);
    this.push(inst, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, seq, 0n);
  }

  /** Writes a depth update into the open message: one Modify per level (size 0 removes), all with `seq` / `prevSeq`. */
  pushLevelUpdates(inst: InstrumentScale, seq: bigint, prevSeq: bigint, bids: readonly PriceLevel[], asks: readonly PriceLevel[]): void {
    for (const [side, list] of [[Side.Bid, bids], [Side.Ask, asks]] as const) {
      for (const [p, q] of list) this.push(inst, EventKind.Modify, side, p, q, 0n, seq, prevSeq);
    }
    // An update that changes no level still advances the sequence: a Status event carries it to the engine.
    if (bids.length + asks.length === 0) this.push(inst, EventKind.Status, Side.None, 0n, 0n, 0n, seq, prevSeq);
  }

  /** Closes the message: EndOfMessage on its last event, clamp accounting. */
  end(): void {
    const s = this.cur;
    if (!s) return;
    this.cur = undefined;
    const n = s.batch.length - this.start;
    if (n === 0) return;
    if (!this.held) s.batch.markLast(EventFlag.EndOfMessage);
    if (this.clampFrom !== -1n) {
      this.report.clamped++;
      const back = this.tsLocal - this.clampFrom;
      try {
        this.issue('out-of-order timestamp', `receive time went back by ${back} ns; clamped to the previous message's`);
      } catch (err) {
        s.batch.length = this.start;
        throw err;
      }
    }
    s.lastLocal = this.tsLocal;
    this.report.events += n;
    this.report.messages++;
  }

  /**
   * The open message's last event gets no EndOfMessage: the book is not consistent yet and the next
   * message continues it (its events stay contiguous in the merge). The stream's last event always
   * gets EndOfMessage.
   */
  hold(): void {
    this.held = true;
  }

  /** Drops the open message's events (its line failed half way). */
  abort(): void {
    if (this.cur) this.cur.batch.length = this.start;
    this.cur = undefined;
  }

  /** The per-stream batches in creation order (each monotonic in tsLocal). */
  streamBatches(): EventBatch[] {
    for (const s of this.order) s.batch.markLast(EventFlag.EndOfMessage);
    return this.order.map((s) => s.batch);
  }
}

function newReport(file: string): ImportReport {
  return { file, lines: 0, events: 0, messages: 0, skipped: {}, errors: [], errorCount: 0, clamped: 0, gaps: [], instruments: [], notes: [] };
}

/** Runs both passes of `venue` over `sources` (in order) and merges the streams by local time. */
export async function runImport<S>(venue: VenueImporter<S>, sources: readonly LineSource[], opts: ImportOptions = {}): Promise<ImportResult> {
  const filter = opts.symbols && opts.symbols.length > 0 ? new Set(opts.symbols.map((s) => s.toUpperCase())) : undefined;
  // Pass 1: scales. Problems are ignored here; pass 2 meets the same lines and reports them.
  const scan = venue.newScan();
  const scales = new ScaleScan();
  for (const src of sources) {
    const sctx = { file: src.name, line: 0, scales, selected: (sym: string) => !filter || filter.has(sym.toUpperCase()) };
    try {
      for await (const text of src.lines()) {
        sctx.line++;
        try {
          venue.scanLine(text, scan, sctx);
        } catch (err) {
          if (!(err instanceof LineError || err instanceof DecimalError)) throw err;
        }
      }
    } catch (err) {
      if (!(err instanceof TruncatedInput)) throw err;
    }
  }
  const registry = new InstrumentRegistry();
  venue.defineInstruments(scan, scales, registry);

  // Pass 2: events.
  const ctx = new ParseContext(opts.strict ?? false, opts.symbols, opts.maxErrors ?? 20);
  const parser = venue.newParser(scan, registry);
  const reports: ImportReport[] = [];
  for (let i = 0; i < sources.length; i++) {
    const report = newReport(sources[i].name);
    reports.push(report);
    ctx.startSource(i, report);
    try {
      for await (const text of sources[i].lines()) {
        ctx.line++;
        report.lines++;
        try {
          parser.line(text, ctx);
          ctx.end();
        } catch (err) {
          ctx.abort();
          if (err instanceof LineError) ctx.issue(err.reason, err.message);
          else if (err instanceof DecimalError) ctx.issue('bad number', err.message);
          else throw err;
        }
      }
    } catch (err) {
      if (!(err instanceof TruncatedInput)) throw err;
      ctx.issue('truncated input', `${err.message}; ${report.lines} complete lines read`, 'E_TRUNCATED', report.lines + 1);
    }
    parser.endSource?.(ctx);
    ctx.end();
  }
  const missing = ctx.unseenFilterSymbols();
  if (missing.length > 0 && reports.length > 0) {
    ctx.startSource(0, reports[0]);
    for (const sym of missing) ctx.issue('unknown symbol', `symbol ${sym} from --symbols never appears in the input`, 'E_UNKNOWN_SYMBOL', 0);
  }
  for (const n of ctx.filteredNotes()) reports[0]?.notes.push(n);
  return { venue: venue.venue, batch: mergeByLocalTime(ctx.streamBatches()), instruments: registry.list(), reports };
}

/** The sum of several reports (the command's totals line). */
export function totalReport(reports: readonly ImportReport[]): Omit<ImportReport, 'file' | 'errors' | 'notes'> & { files: number } {
  const t = { files: reports.length, lines: 0, events: 0, messages: 0, skipped: {} as Record<string, number>, errorCount: 0, clamped: 0, gaps: [] as ImportGap[], instruments: [] as string[] };
  for (const r of reports) {
    t.lines += r.lines;
    t.events += r.events;
    t.messages += r.messages;
    t.errorCount += r.errorCount;
    t.clamped += r.clamped;
    t.gaps.push(...r.gaps);
    for (const [k, v] of Object.entries(r.skipped)) t.skipped[k] = (t.skipped[k] ?? 0) + v;
    for (const i of r.instruments) if (!t.instruments.includes(i)) t.instruments.push(i);
  }
  return t;
}
