// A replay tape: one instrument's events from an event log (or a buffer), with the native engine's
// per-event feature rows and event times, held in memory so that calibration, RL training and several
// strategies replay the same market without re-reading or re-computing it. tapeBatches() streams the
// same batches straight from a file instead (benchmarks: native apply included in the loop).
import { EVENT_SIZE, EventKind } from '../core/event';
import { InstrumentInfo } from '../core/instrument';
import { EngineError } from '../errors';
import { EventLogReader } from '../log/event-log';
import { Feature, MarketEngine, MarketEngineOptions, NUM_FEATURES } from '../market/market-engine';

const K_SNAPSHOT_END = EventKind.SnapshotEnd;
const K_CLEAR = EventKind.Clear;

export interface TapeBatch {
  /** 64-byte event rows of the tape's instrument (8-byte aligned). */
  events: Uint8Array;
  count: number;
  /** count × NUM_FEATURES feature rows (Feature order). */
  features: Float64Array;
  /** Event time per row, ns since the tape origin: ts_exchange (ts_local when ts_exchange is 0), never decreasing. */
  t: Float64Array;
  /**
   * 1 where the instrument's book is stale after the row: the native engine's rule (market_engine.cc),
   * mirrored per row: a sequence gap (prev_seq != 0, last seq != 0, prev_seq != last seq at a message's
   * first event) or a Clear makes it stale until the next SnapshotEnd.
   */
  stale: Uint8Array;
}

export interface TapeOptions {
  /** Instrument symbol or id (default: the only instrument, or the one with the most events). */
  instrument?: string | number;
  engine?: MarketEngineOptions;
}

/** Picks the instrument to trade; throws E_BAD_INPUT / E_UNKNOWN_SYMBOL when there is none or no match. */
export function pickInstrument(instruments: readonly InstrumentInfo[], want: string | number | undefined, counts?: number[]): InstrumentInfo {
  if (instruments.length === 0) throw new EngineError('E_BAD_INPUT', 'the event log lists no instruments: nothing to backtest');
  if (want === undefined) {
    if (instruments.length === 1 || !counts) return instruments[0];
    let best = 0;
    for (let i = 1; i < instruments.length; i++) if ((counts[i] ?? 0) > (counts[best] ?? 0)) best = i;
    return instruments[best];
  }
  const hit = instruments.find((i) => i.symbol === want || i.id === Number(want) || `${i.venue}:${i.symbol}` === want);
  if (!hit) {
    throw new EngineError('E_UNKNOWN_SYMBOL', `instrument ${JSON.stringify(want)} is not in the event log (have ${instruments.map((i) => `${i.id}:${i.symbol}`).join(', ')})`);
  }
  return hit;
}

/** Streams an instrument's slice of a log as TapeBatches (buffers are reused: consume before the next). */
export class TapeBuilder {
  readonly engine: MarketEngine;
  readonly instrument: InstrumentInfo;
  originHi = 0;
  originLo = 0;
  hasOrigin = false;
  private lastT = 0;
  private featAll: Float64Array = new Float64Array(0);
  private tAll: Float64Array = new Float64Array(0);
  private staleAll: Uint8Array = new Uint8Array(0);
  private lastSeq = 0;
  private stale = false;

  constructor(instruments: readonly InstrumentInfo[], instrument: InstrumentInfo, engineOptions: MarketEngineOptions = {}) {
    this.engine = new MarketEngine(instruments, engineOptions);
    this.instrument = instrument;
  }

  /**
   * Applies a batch to the engine and returns the instrument's rows. copy (default): fresh arrays that
   * outlive the call. copy false: when every row is the instrument's, views of `events` and of buffers
   * this builder reuses: valid until the next process() (streaming replays).
   */
  process(events: Uint8Array, count: number, copy = true): TapeBatch {
    if (this.featAll.length < count * NUM_FEATURES) {
      this.featAll = new Float64Array(count * NUM_FEATURES);
      this.tAll = new Float64Array(count);
      this.staleAll = new Uint8Array(count);
    }
    this.engine.apply(events, count, this.featAll);
    const u32 = new Uint32Array(events.buffer, events.byteOffset, count * 16);
    const i32 = new Int32Array(events.buffer, events.byteOffset, count * 16);
    const id = this.instrument.id;
    let n = 0;
    for (let r = 0; r < count; r++) if (u32[r * 16 + 14] === id) n++;
    const all = n === count;
    const view = all && !copy;
    const out = view ? events.subarray(0, count * EVENT_SIZE) : new Uint8Array(n * EVENT_SIZE);
    const feats = view ? this.featAll.subarray(0, count * NUM_FEATURES) : new Float64Array(n * NUM_FEATURES);
    const t = view ? this.tAll.subarray(0, count) : new Float64Array(n);
    const stale = view ? this.staleAll.subarray(0, count) : new Uint8Array(n);
    if (all && !view) {
      out.set(events.subarray(0, count * EVENT_SIZE));
      feats.set(this.featAll.subarray(0, count * NUM_FEATURES));
    }
    let k = 0;
    // The per-row state in locals (written back after the loop): no field traffic per event.
    let originHi = this.originHi;
    let originLo = this.originLo;
    let hasOrigin = this.hasOrigin;
    let lastT = this.lastT;
    let lastSeq = this.lastSeq;
    let isStale = this.stale;
    for (let r = 0; r < count; r++) {
      const w = r * 16;
      if (u32[w + 14] !== id) continue;
      if (!all) {
        out.set(events.subarray(r * EVENT_SIZE, (r + 1) * EVENT_SIZE), k * EVENT_SIZE);
        feats.set(this.featAll.subarray(r * NUM_FEATURES, (r + 1) * NUM_FEATURES), k * NUM_FEATURES);
      }
      let hi = i32[w + 1];
      let lo = u32[w];
      if (hi === 0 && lo === 0) {
        hi = i32[w + 3]; // ts_local
        lo = u32[w + 2];
      }
      if (!hasOrigin) {
        originHi = hi;
        originLo = lo;
        hasOrigin = true;
      }
      let ts = (hi - originHi) * 4294967296 + (lo - originLo);
      if (ts < lastT) ts = lastT; // clamp a backwards step: the replay clock never runs back
      lastT = ts;
      const seq = u32[w + 11] * 4294967296 + u32[w + 10];
      if (seq !== 0 && seq !== lastSeq) {
        const prev = u32[w + 13] * 4294967296 + u32[w + 12];
        if (prev !== 0 && lastSeq !== 0 && prev !== lastSeq) isStale = true;
        lastSeq = seq;
      }
      const kind = events[w * 4 + 60]; // byte 60 of row r (w * 4 = r * EVENT_SIZE)
      if (kind === K_SNAPSHOT_END) isStale = false;
      else if (kind === K_CLEAR) isStale = true;
      stale[k] = isStale ? 1 : 0;
      t[k++] = ts;
    }
    this.originHi = originHi;
    this.originLo = originLo;
    this.hasOrigin = hasOrigin;
    this.lastT = lastT;
    this.lastSeq = lastSeq;
    this.stale = isStale;
    return { events: out, count: n, features: feats, t, stale };
  }

  /** The origin (t = 0) as absolute ns. */
  originNs(): bigint {
    return (BigInt(this.originHi) << 32n) + BigInt(this.originLo);
  }
}

/** An instrument's whole replay in memory. */
export class Tape {
  readonly instrument: InstrumentInfo;
  readonly batches: TapeBatch[];
  readonly count: number;
  readonly originNs: bigint;
  /** Times of the first and last rows (ns since origin). */
  readonly firstNs: number;
  readonly lastNs: number;
  /** Rows with a two-sided book (finite mid). */
  readonly twoSidedRows: number;
  readonly source: string;
  /** The event log header's source and meta (importer, input files) when read from a log. */
  readonly provenance?: { source: string; meta: Record<string, unknown> };

  constructor(instrument: InstrumentInfo, batches: TapeBatch[], originNs: bigint, source: string, provenance?: Tape['provenance']) {
    this.instrument = instrument;
    this.batches = batches.filter((b) => b.count > 0);
    this.count = this.batches.reduce((s, b) => s + b.count, 0);
    this.originNs = originNs;
    this.source = source;
    this.provenance = provenance;
    if (this.count === 0) throw new EngineError('E_BAD_INPUT', `${source}: no events for instrument ${instrument.symbol}`);
    this.firstNs = this.batches[0].t[0];
    const last = this.batches[this.batches.length - 1];
    this.lastNs = last.t[last.count - 1];
    let two = 0;
    for (const b of this.batches) for (let r = 0; r < b.count; r++) if (b.features[r * NUM_FEATURES + Feature.Mid] === b.features[r * NUM_FEATURES + Feature.Mid]) two++;
    this.twoSidedRows = two;
    if (two === 0) throw new EngineError('E_BAD_INPUT', `${source}: the book of ${instrument.symbol} is never two-sided (empty book): nothing to quote against`);
  }

  /** Reads a whole event log, runs the native engine over it and keeps the instrument's rows. */
  static fromLog(path: string, options: TapeOptions = {}): Tape {
    const reader = EventLogReader.open(path);
    try {
      const instruments = reader.header.instruments;
      const instrument = pickInstrument(instruments, options.instrument, options.instrument === undefined && instruments.length > 1 ? countPerInstrument(path, instruments.length) : undefined);
      const builder = new TapeBuilder(instruments, instrument, options.engine);
      const batches: TapeBatch[] = [];
      for (const b of reader.batches()) batches.push(builder.process(b.events, b.count));
      reader.assertComplete();
      return new Tape(instrument, batches, builder.originNs(), path, { source: reader.header.source, meta: reader.header.meta });
    } finally {
      reader.close();
    }
  }

  /** From events in memory (tests, generated markets): split into batches of `batchSize` rows. */
  static fromEvents(instruments: readonly InstrumentInfo[], events: Uint8Array, options: TapeOptions & { batchSize?: number; source?: string } = {}): Tape {
    const count = Math.floor(events.byteLength / EVENT_SIZE);
    const instrument = pickInstrument(instruments, options.instrument);
    const builder = new TapeBuilder(instruments, instrument, options.engine);
    const size = options.batchSize ?? 4096;
    const aligned = events.byteOffset % 8 === 0 ? events : events.slice();
    const batches: TapeBatch[] = [];
    for (let s = 0; s < count; s += size) {
      const n = Math.min(size, count - s);
      batches.push(builder.process(aligned.subarray(s * EVENT_SIZE, (s + n) * EVENT_SIZE), n));
    }
    return new Tape(instrument, batches, builder.originNs(), options.source ?? 'events');
  }

  /** Rows of the tape whose time lies in [fromNs, toNs): (batch, row) pairs visited in order. */
  forEachRow(fromNs: number, toNs: number, fn: (b: TapeBatch, row: number) => void): void {
    for (const b of this.batches) {
      if (b.t[b.count - 1] < fromNs) continue;
      if (b.t[0] >= toNs) break;
      for (let r = 0; r < b.count; r++) {
        const t = b.t[r];
        if (t >= fromNs && t < toNs) fn(b, r);
      }
    }
  }
}

function countPerInstrument(path: string, n: number): number[] {
  const reader = EventLogReader.open(path);
  const counts = new Array<number>(n).fill(0);
  try {
    for (const b of reader.batches()) {
      const u32 = new Uint32Array(b.events.buffer, b.events.byteOffset, b.count * 16);
      for (let r = 0; r < b.count; r++) {
        const id = u32[r * 16 + 14];
        if (id < n) counts[id]++;
      }
    }
  } finally {
    reader.close();
  }
  return counts;
}

/** Streams a log file as TapeBatches for one instrument (native apply per batch; views valid until the next batch). */
export function* tapeBatches(path: string, options: TapeOptions = {}): Generator<TapeBatch, { instrument: InstrumentInfo; originNs: bigint }> {
  const reader = EventLogReader.open(path);
  try {
    const instruments = reader.header.instruments;
    const instrument = pickInstrument(instruments, options.instrument);
    const builder = new TapeBuilder(instruments, instrument, options.engine);
    for (const b of reader.batches()) yield builder.process(b.events, b.count, false);
    reader.assertComplete();
    return { instrument, originNs: builder.originNs() };
  } finally {
    reader.close();
  }
}
