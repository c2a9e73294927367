// Hand-made event streams for backtester tests: a tiny L2/L3 stream builder and a driver that feeds a
// ReplayBook + SimExchange with best prices computed here (no native engine), plus scripted strategies.
import { EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';
import { InstrumentInfo } from '../../src/core/instrument';
import { Account } from '../../src/backtest/account';
import { SimExchange } from '../../src/backtest/exchange';
import { LatencyModel } from '../../src/backtest/latency';
import { QueueModelId } from '../../src/backtest/queue';
import { ReplayBook } from '../../src/backtest/replay-book';
import { MarketView, OrderGateway, Strategy, StrategyContext } from '../../src/backtest/strategy';
import { ActionKind, ExecReport, OrderAction, ReportKind, TimeInForce } from '../../src/backtest/types';

export const L2: InstrumentInfo = { id: 0, symbol: 'TEST', venue: 'test', tickSize: 0.01, lotSize: 1, bookType: 'L2' };
export const L3: InstrumentInfo = { ...L2, bookType: 'L3' };
export const MS = 1_000_000;

/** Events with times in ms from 0; every event is its own message (EndOfMessage). */
export class Stream {
  readonly batch = new EventBatch(256);
  private seq = 1n;
  constructor(readonly instrument = 0) {}
  private push(ms: number, kind: EventKind, side: Side, price: number, qty: number, id = 0, flags = 0): this {
    const t = BigInt(Math.round(ms * MS));
    this.batch.push(t, t, this.instrument, kind, side, BigInt(price), BigInt(qty), BigInt(id), this.seq, 0n, flags | EventFlag.EndOfMessage);
    this.seq++;
    return this;
  }
  /** Any event with explicit sequencing (seq / prev_seq), e.g. to inject a gap. */
  event(ms: number, kind: EventKind, side: Side, price: number, qty: number, seq: number, prev: number, flags = EventFlag.EndOfMessage): this {
    const t = BigInt(Math.round(ms * MS));
    this.batch.push(t, t, this.instrument, kind, side, BigInt(price), BigInt(qty), 0n, BigInt(seq), BigInt(prev), flags);
    return this;
  }
  /** L2: absolute level quantity (0 removes). */
  level(ms: number, side: Side, price: number, qty: number): this {
    return this.push(ms, EventKind.Modify, side, price, qty);
  }
  /** A print; side is the aggressor. */
  trade(ms: number, aggressor: Side, price: number, qty: number, id = 0, flags = 0): this {
    return this.push(ms, EventKind.Trade, aggressor, price, qty, id, flags);
  }
  add(ms: number, id: number, side: Side, price: number, qty: number): this {
    return this.push(ms, EventKind.Add, side, price, qty, id);
  }
  cancel(ms: number, id: number, side: Side, price: number, qty: number): this {
    return this.push(ms, EventKind.Cancel, side, price, qty, id);
  }
  exec(ms: number, id: number, aggressor: Side, price: number, qty: number): this {
    return this.push(ms, EventKind.Trade, aggressor, price, qty, id, EventFlag.ExecResting);
  }
  bytes(): Uint8Array {
    return this.batch.bytes().slice();
  }
}

/** Drives a book + exchange event by event, computing the best prices from its own level map. */
export class Driver {
  readonly book: ReplayBook;
  readonly account = new Account();
  readonly exchange: SimExchange;
  private readonly bytes: Uint8Array;
  private readonly count: number;
  private row = 0;
  private nextId = 1;

  constructor(stream: Stream, bookType: 'L2' | 'L3', model: QueueModelId, opts: { makerBps?: number; takerBps?: number; power?: number; step?: number } = {}) {
    this.book = new ReplayBook(bookType);
    this.bytes = stream.bytes();
    this.count = this.bytes.byteLength / 64;
    this.book.setBatch(this.bytes);
    this.exchange = new SimExchange(this.book, this.account, { makerBps: opts.makerBps ?? 0, takerBps: opts.takerBps ?? 0 }, model, opts.power ?? 2,
      new LatencyModel({ dist: 'constant', ns: 0 }, 1, 1), opts.step ?? 1);
  }

  /** Best bid/ask from the book's own quantities (scan of a small price range; tests use prices 1..1000). */
  private best(side: Side): number {
    if (side === Side.Bid) {
      for (let p = 1000; p >= 1; p--) if (this.book.levelQty(Side.Bid, p) > 0) return p;
    } else {
      for (let p = 1; p <= 1000; p++) if (this.book.levelQty(Side.Ask, p) > 0) return p;
    }
    return NaN;
  }

  /** Applies events up to and including row `last` (default: all). */
  run(last = this.count - 1): this {
    for (; this.row <= last && this.row < this.count; this.row++) {
      this.book.apply(this.row);
      this.exchange.onEvent(this.row * MS, this.best(Side.Bid), this.best(Side.Ask), (this.book.flags & EventFlag.EndOfMessage) !== 0);
    }
    return this;
  }

  /** Sends an order now (against the book as of the last applied event). Returns its client id. */
  send(side: Side, price: number, qty: number, tif: TimeInForce, isMarket = false): number {
    const id = this.nextId++;
    this.exchange.process(new OrderAction(ActionKind.New, id, side, price, qty, tif, 0, 0, isMarket), this.row * MS);
    return id;
  }

  modify(id: number, price: number, qty: number): void {
    this.exchange.process(new OrderAction(ActionKind.Modify, id, Side.None, price, qty, TimeInForce.Gtc, 0, 0), this.row * MS);
  }

  reports(kind?: ReportKind): ExecReport[] {
    return this.exchange.outbox.filter((r) => kind === undefined || r.kind === kind);
  }

  filled(id?: number): number {
    return this.reports(ReportKind.Fill).filter((r) => id === undefined || r.clientId === id).reduce((s, r) => s + r.qty, 0);
  }
}

/** A strategy that runs a script: `at(i, gw)` is called on the i-th decision (0-based); reports are kept. */
export class ScriptedStrategy implements Strategy {
  readonly name: string;
  readonly reports: { report: ExecReport; atNs: number }[] = [];
  decisions = 0;
  view: MarketView | undefined;
  ctx: StrategyContext | undefined;
  constructor(private readonly at: (i: number, gw: OrderGateway, row: number, self: ScriptedStrategy) => void, name = 'scripted') {
    this.name = name;
  }
  beginEpisode(ctx: StrategyContext): void {
    this.ctx = ctx;
    this.decisions = 0;
  }
  onBatch(view: MarketView): void {
    this.view = view;
  }
  decide(row: number, gw: OrderGateway): void {
    this.at(this.decisions++, gw, row, this);
  }
  onReport(report: ExecReport, gw: OrderGateway): void {
    this.reports.push({ report, atNs: gw.nowNs });
  }
  endEpisode(): void {}
}
