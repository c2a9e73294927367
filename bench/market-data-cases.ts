// The cases of bench/market-data.bench.ts. Each runs in its own child process over data that the parent
// prepared in a temp dir (raw 64-byte events, event logs) and returns flat metrics; the baselines a case
// compares against run in the same process, their passes interleaved with the subject's.
// Timer: manual process.hrtime.bigint() with warm-up passes (Benchmark.js re-runs a stateless function;
// a book replay is stateful and must restart on a fresh engine every pass).
import * as fs from 'fs';
import { OrderBook as NobOrderBook, Side as NobSide } from 'nodejs-order-book';
import { EVENT_SIZE, EventKind, EventFlag, Side } from '../src/core/event';
import { InstrumentInfo } from '../src/core/instrument';
import { OrderBook } from '../src/book/order-book';
import { ReferenceMarket, ReferenceL2Book, ReferenceL3Book, RefBook, decodeEvent } from '../src/features/reference';
import { readAllEvents } from '../src/log/event-log';
import { MarketEngine, NUM_FEATURES } from '../src/market/market-engine';
import { replayFile } from '../src/replay/replay';
import { BatchTimer, PassTimer, Timing, round } from './market-data-stats';
import { LeanTsBook, TOP_ROW_WIDTH, writeTopRow } from './market-data-tsbook';

export const BATCH = 4096;

/** One prepared stream: raw events for in-memory cases, the same events as an event log for replays. */
export interface StreamFiles {
  name: string;
  events: string; // raw n x 64 bytes
  log: string;
  count: number;
  instruments: InstrumentInfo[];
}
export interface Manifest {
  msft: StreamFiles;
  binance: StreamFiles;
  /** The MSFT log written `repeat` times into one file (peak memory must not follow its length). */
  long: { log: string; count: number; repeat: number };
}

export type Metrics = Record<string, number | string>;

function loadEvents(file: string): Uint8Array {
  const buf = fs.readFileSync(file);
  const bytes = new Uint8Array(new ArrayBuffer(buf.length)); // own, 8-aligned buffer
  bytes.set(buf);
  return bytes;
}

function batches(count: number, fn: (start: number, n: number) => void): void {
  for (let s = 0; s < count; s += BATCH) fn(s, Math.min(BATCH, count - s));
}

// CPU-time figures first (what the code costs), wall-clock ones beside them (what a caller waited).
const put = (m: Metrics, prefix: string, t: Timing): void => {
  m[`${prefix}.p50_ns`] = round(t.cpu.p50);
  m[`${prefix}.p99_ns`] = round(t.cpu.p99);
  m[`${prefix}.mean_ns`] = round(t.cpu.mean);
  m[`${prefix}.wall_p50_ns`] = round(t.wall.p50);
  m[`${prefix}.wall_p99_ns`] = round(t.wall.p99);
};

// Top-of-book features of the TS baseline in the native 'top' engine's compact row (NaN prices for an
// empty side).
function topOfBookTs(book: RefBook, out: Float64Array, row: number): void {
  const b = book.bids;
  const a = book.asks;
  const bp = b.size > 0 ? b.priceAt(0) : NaN;
  const ap = a.size > 0 ? a.priceAt(0) : NaN;
  const bq = b.size > 0 ? b.qtyAtLevel(0) : 0;
  const aq = a.size > 0 ? a.qtyAtLevel(0) : 0;
  writeTopRow(out, row * TOP_ROW_WIDTH, bp, ap, bq, aq);
}

/**
 * (a) + (c): the native MarketEngine with its top-of-book feature set ({ features: 'top' }: book +
 * top-of-book features, rows written: the issue-2 budget), with every feature ('all', rows written),
 * and the native book alone, one call per 4096-event batch from JS, against plain TS books with
 * top-of-book features (the reference book of src/features and a lean one, bench/market-data-tsbook.ts)
 * and the TS reference of the whole engine (ReferenceMarket: all features), on the same in-memory stream.
 */
export function engineCase(stream: StreamFiles, nativePasses: number, tsPasses: number): Metrics {
  const bytes = loadEvents(stream.events);
  const count = stream.count;
  const l3 = stream.instruments[0].bookType === 'L3';
  const out = new Float64Array(BATCH * NUM_FEATURES);
  const engine = new BatchTimer();
  const engineAll = new BatchTimer();
  const bookOnly = new BatchTimer();
  const tsTop = new BatchTimer();
  const tsLean = new BatchTimer();
  const tsEngine = new BatchTimer();
  const rounds = 2 + nativePasses; // 2 warm-up rounds
  for (let r = 0; r < rounds; r++) {
    const measured = r >= 2;
    engine.pass(measured, (timed) => {
      const e = new MarketEngine(stream.instruments, { features: 'top' });
      batches(count, (s, n) => timed(n, () => e.apply(bytes.subarray(s * EVENT_SIZE, (s + n) * EVENT_SIZE), n, out)));
    });
    engineAll.pass(measured, (timed) => {
      const e = new MarketEngine(stream.instruments);
      batches(count, (s, n) => timed(n, () => e.apply(bytes.subarray(s * EVENT_SIZE, (s + n) * EVENT_SIZE), n, out)));
    });
    bookOnly.pass(measured, (timed) => {
      const b = l3 ? OrderBook.l3() : OrderBook.l2();
      batches(count, (s, n) => timed(n, () => b.apply(bytes, n, s)));
    });
    tsLean.pass(measured, (timed) => {
      const book = new LeanTsBook(l3);
      batches(count, (s, n) => timed(n, () => book.applyBatch(bytes, s, n, out)));
    });
    if (r < 1 + tsPasses) {
      const tsMeasured = r >= 1;
      tsTop.pass(tsMeasured, (timed) => {
        const book: RefBook = l3 ? new ReferenceL3Book() : new ReferenceL2Book();
        batches(count, (s, n) =>
          timed(n, () => {
            for (let i = 0; i < n; i++) {
              book.apply(decodeEvent(bytes, s + i));
              topOfBookTs(book, out, i);
            }
          }),
        );
      });
      tsEngine.pass(tsMeasured, (timed) => {
        const ref = new ReferenceMarket([stream.instruments[0].bookType]);
        batches(count, (s, n) => timed(n, () => ref.apply(bytes.subarray(s * EVENT_SIZE, (s + n) * EVENT_SIZE), n, out)));
      });
    }
  }
  const m: Metrics = { events: count, batch: BATCH, nativePasses, tsPasses };
  const ne = engine.result();
  const na = engineAll.result();
  const te = tsEngine.result();
  put(m, 'native.engine', ne);
  put(m, 'native.engineAll', na);
  put(m, 'native.bookOnly', bookOnly.result());
  put(m, 'ts.bookTop', tsTop.result());
  const lean = tsLean.result();
  put(m, 'ts.leanBookTop', lean);
  put(m, 'ts.engine', te);
  // Like for like: all features against the TS reference engine, top of book against the lean TS book.
  m['ratio_engine_vs_ts'] = round(te.cpu.p50 / na.cpu.p50, 1);
  m['ratio_engine_vs_lean_ts'] = round(lean.cpu.p50 / ne.cpu.p50, 2);
  m['ratio_book_vs_lean_ts'] = round(lean.cpu.p50 / Number(m['native.bookOnly.p50_ns']), 2);
  return m;
}

interface NobOps {
  kind: Uint8Array; // 1 limit, 2 reduce
  side: Uint8Array;
  price: Float64Array;
  qty: Float64Array;
  id: string[];
}

// LOBSTER events as nodejs-order-book calls, decoded before timing: Add -> limit order with its id;
// Cancel and executions of resting orders -> cancel (whole) or modify to the size left.
function nobOps(bytes: Uint8Array, count: number): NobOps {
  const ops: NobOps = { kind: new Uint8Array(count), side: new Uint8Array(count), price: new Float64Array(count), qty: new Float64Array(count), id: new Array<string>(count) };
  for (let i = 0; i < count; i++) {
    const e = decodeEvent(bytes, i);
    const execution = e.kind === EventKind.Trade && (e.flags & EventFlag.ExecResting) !== 0 && (e.flags & EventFlag.Hidden) === 0;
    ops.kind[i] = e.kind === EventKind.Add ? 1 : e.kind === EventKind.Cancel || execution ? 2 : 0;
    ops.side[i] = e.side;
    ops.price[i] = e.price;
    ops.qty[i] = e.qty;
    ops.id[i] = e.orderId.toString();
  }
  return ops;
}

function runNob(ops: NobOps, from: number, to: number): void {
  const ob = new NobOrderBook();
  for (let i = from; i < to; i++) {
    const k = ops.kind[i];
    if (k === 1) {
      ob.limit({ side: ops.side[i] === Side.Bid ? NobSide.BUY : NobSide.SELL, id: ops.id[i], size: ops.qty[i], price: ops.price[i] });
    } else if (k === 2) {
      const o = ob.order(ops.id[i]);
      if (!o) continue; // resting before the file started
      if (ops.qty[i] >= o.size) ob.cancel(ops.id[i]);
      else ob.modify(ops.id[i], { size: o.size - ops.qty[i] });
    }
  }
}

/**
 * (b) + (c) + (d): replay of an event log through src/replay/replay.ts (MarketEngine: books and all
 * features, file read and checksums included) against ReferenceMarket (TS book + same features) and,
 * on an L3 stream, nodejs-order-book (book only) over the same events held in memory.
 */
export async function replayCase(stream: { name: string; log: string; count: number }, passes: number, tsPasses: number, nobPasses: number): Promise<Metrics> {
  const native = new PassTimer(stream.count);
  const ts = new PassTimer(stream.count);
  const nob = new PassTimer(stream.count);
  const { events, count, header } = tsPasses > 0 || nobPasses > 0 ? readAllEvents(stream.log) : { events: new Uint8Array(0), count: 0, header: null };
  const types = header ? header.instruments.map((i) => i.bookType) : [];
  const ops = nobPasses > 0 ? nobOps(events, count) : null;
  let replayed = 0;
  const rounds = 1 + passes;
  for (let r = 0; r < rounds; r++) {
    const measured = r >= 1;
    await native.pass(measured, async () => {
      replayed = (await replayFile(stream.log)).events;
    });
    if (r < 1 + tsPasses) {
      await ts.pass(r >= 1, () => {
        const ref = new ReferenceMarket(types);
        batches(count, (s, n) => ref.apply(events.subarray(s * EVENT_SIZE, (s + n) * EVENT_SIZE), n));
      });
    }
    if (ops && r < nobPasses) {
      // Warm-up on a prefix (the whole stream takes seconds), then whole passes.
      if (r === 0) runNob(ops, 0, Math.min(count, 20000));
      await nob.pass(true, () => runNob(ops, 0, count));
    }
  }
  if (replayed !== stream.count) throw new Error(`${stream.name}: replay applied ${replayed} events, expected ${stream.count}`);
  const d = native.result();
  const m: Metrics = { events: stream.count, passes };
  put(m, 'native.replay', d);
  m['native.replay.events_per_s'] = Math.round(1e9 / d.cpu.p50);
  m['native.replay.events_per_s_wall'] = Math.round(1e9 / d.wall.p50);
  if (tsPasses > 0) {
    const t = ts.result();
    put(m, 'ts.engine', t);
    m['ts.engine.events_per_s'] = Math.round(1e9 / t.cpu.p50);
    m['ratio_vs_ts'] = round(t.cpu.p50 / d.cpu.p50, 1);
  }
  if (ops) {
    const n = nob.result();
    put(m, 'nodejs_order_book', n);
    m['nodejs_order_book.events_per_s'] = Math.round(1e9 / n.cpu.p50);
    m['ratio_vs_nodejs_order_book'] = round(n.cpu.p50 / d.cpu.p50, 1);
  }
  return m;
}

/** (e): one replay; peak RSS (getrusage), peak heap and external memory sampled along the way. */
export async function memoryCase(log: string, events: number): Promise<Metrics> {
  const mib = (b: number): number => round(b / 1048576, 1);
  const before = process.memoryUsage();
  let peakHeap = before.heapUsed;
  let peakExternal = before.external;
  let peakRss = before.rss;
  const sample = (): void => {
    const u = process.memoryUsage();
    peakHeap = Math.max(peakHeap, u.heapUsed);
    peakExternal = Math.max(peakExternal, u.external);
    peakRss = Math.max(peakRss, u.rss);
  };
  const summary = await replayFile(log, { onProgress: sample, progressIntervalMs: 10 });
  sample();
  if (summary.events !== events) throw new Error(`${log}: replay applied ${summary.events} events, expected ${events}`);
  return {
    events,
    file_mib: mib(fs.statSync(log).size),
    rss_before_mib: mib(before.rss),
    peak_rss_mib: round(process.resourceUsage().maxRSS / 1024, 1),
    peak_rss_sampled_mib: mib(peakRss),
    peak_heap_used_mib: mib(peakHeap),
    peak_external_mib: mib(peakExternal),
  };
}
