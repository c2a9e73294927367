// TS face of native/market/market_engine: per-instrument books + features + gap/stale/crossed
// detection, one native call per batch. Validates here; the native side keeps cheap guards.
import { EVENT_SIZE, Side } from '../core/event';
import { InstrumentInfo, instrumentsById } from '../core/instrument';
import { expected } from '../errors';
import { native } from '../native';

/** Feature vector order, identical to native/features/features.h (formulas documented there). */
export const FEATURE_NAMES = [
  'mid',
  'microprice',
  'spread',
  'imbalance1',
  'imbalance5',
  'imbalance10',
  'ofi',
  'tradeFlow',
  'realisedVol',
  'intensity',
  'timeSinceTrade',
  'bidPrice',
  'askPrice',
  'bidQty',
  'askQty',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/** Index of each feature in a row. Prices in ticks, quantities in lots, times in seconds. */
export enum Feature {
  Mid = 0, // (bid + ask) / 2; NaN when a side is empty
  Microprice, // (bid*askQty + ask*bidQty) / (bidQty + askQty); NaN when a side is empty
  Spread, // ask - bid (ticks); NaN when a side is empty
  Imbalance1, // (B - A) / (B + A) over the best 1 level; NaN when both sides are empty
  Imbalance5, // same over the best 5 levels
  Imbalance10, // same over the best 10 levels
  Ofi, // Cont-Kukanov-Stoikov e_n at book-consistent events, decayed sum (ofiHalfLife)
  TradeFlow, // decayed sum of aggressor-signed traded qty (tradeFlowHalfLife)
  RealisedVol, // sqrt of the decayed sum of squared mid changes in ticks (volatilityHalfLife)
  Intensity, // events per second, exponentially decayed (intensityTimeConstant)
  TimeSinceTrade, // seconds since the last trade; NaN before the first
  BidPrice, // best bid (ticks); NaN when empty
  AskPrice, // best ask (ticks); NaN when empty
  BidQty, // best bid qty (lots); 0 when empty
  AskQty, // best ask qty (lots); 0 when empty
}
export const NUM_FEATURES = FEATURE_NAMES.length;

/**
 * Which features the engine computes. 'all' (default): every column. 'top': only the top-of-book
 * columns (TOP_OF_BOOK_FEATURES, the same values as 'all'), and the other seven (imbalance5,
 * imbalance10, ofi, tradeFlow, realisedVol, intensity, timeSinceTrade) cost nothing (no decays, no
 * depth walk). A 'top' engine's per-event rows are compact: TOP_OF_BOOK_FEATURES.length columns in
 * that order (64 bytes an event instead of 120; see MarketEngine.rowWidth); its features() vector keeps
 * the full layout, with the other seven NaN.
 */
export type FeatureSetName = 'all' | 'top';
export const TOP_OF_BOOK_FEATURES: readonly Feature[] = [
  Feature.Mid, Feature.Microprice, Feature.Spread, Feature.Imbalance1, Feature.BidPrice, Feature.AskPrice, Feature.BidQty, Feature.AskQty,
];

export interface MarketEngineOptions {
  /** OFI decayed-sum half-life, seconds (default 1). */
  ofiHalfLife?: number;
  /** Signed trade flow half-life, seconds (default 1). */
  tradeFlowHalfLife?: number;
  /** Realised volatility half-life, seconds (default 10). */
  volatilityHalfLife?: number;
  /** Event intensity time constant, seconds (default 1). */
  intensityTimeConstant?: number;
  /** How many gaps gaps() keeps (the first ones; stats().gaps counts all). Default 1024. */
  maxGapRecords?: number;
  /** 'all' (default) or 'top': only the top-of-book features, the others NaN (see FeatureSetName). */
  features?: FeatureSetName;
}

export interface MarketCounts {
  events: number;
  gaps: number;
  crossedEpisodes: number;
  prunedLevels: number;
  unknownOrders: number;
  invalidEvents: number;
  staleEvents: number;
}
export interface MarketStats extends MarketCounts {
  /** Events whose instrument index had no instrument (skipped). */
  unknownInstruments: number;
}
export interface InstrumentStats extends MarketCounts {
  stale: boolean;
}

export interface SequenceGapRecord {
  instrument: number;
  /** Last seq seen for the instrument. */
  expected: bigint;
  /** The message's prev_seq. */
  got: bigint;
  /** Index of the event among all events passed to apply() since construction. */
  eventIndex: number;
}

export interface TopOfBook {
  bidPrice: number; // NaN when empty
  bidQty: number;
  askPrice: number; // NaN when empty
  askQty: number;
}

const HALF_LIFE_KEYS = ['ofiHalfLife', 'tradeFlowHalfLife', 'volatilityHalfLife', 'intensityTimeConstant'] as const;

function validateOptions(options: MarketEngineOptions): void {
  if (options === null || typeof options !== 'object') throw expected('an options object', 'MarketEngine options', options);
  for (const key of HALF_LIFE_KEYS) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw expected('a positive finite number of seconds', `options.${key}`, v);
    }
  }
  const m = options.maxGapRecords;
  if (m !== undefined && (!Number.isInteger(m) || m < 0 || m > 1e7)) throw expected('an integer 0..1e7', 'options.maxGapRecords', m);
  const f = options.features;
  if (f !== undefined && f !== 'all' && f !== 'top') throw expected("'all' or 'top'", 'options.features', f);
}

/** Per-instrument books and features over the native engine. Event.instrument indexes `instruments`. */
export class MarketEngine {
  readonly instruments: readonly InstrumentInfo[];
  /** The feature set this engine computes ('all' or 'top'). */
  readonly featureSet: FeatureSetName;
  /**
   * Doubles per event row of apply()'s featuresOut: NUM_FEATURES ('all', Feature order) or
   * TOP_OF_BOOK_FEATURES.length ('top', that array's order).
   */
  readonly rowWidth: number;
  private readonly handle: {
    apply(events: Uint8Array, count: number, out?: Float64Array): number;
    applyFrames(chunk: Uint8Array, nextIndex: number, out: Float64Array): number;
    features(i: number, out: Float64Array): Float64Array;
    topOfBook(i: number, out: Float64Array): Float64Array;
    depth(i: number, side: number, n: number, out: Float64Array): number;
    stats(): MarketStats;
    instrumentStats(i: number): InstrumentStats;
    gaps(): SequenceGapRecord[];
    isStale(i: number): boolean;
  };
  private readonly tob = new Float64Array(4);

  constructor(instruments: readonly InstrumentInfo[], options: MarketEngineOptions = {}) {
    this.instruments = Object.freeze(instrumentsById(instruments));
    validateOptions(options);
    this.featureSet = options.features ?? 'all';
    this.rowWidth = this.featureSet === 'top' ? TOP_OF_BOOK_FEATURES.length : NUM_FEATURES;
    const types = Uint8Array.from(this.instruments, (i) => (i.bookType === 'L3' ? 1 : 0));
    const { features, ...config } = options;
    this.handle = new (native().MarketEngine)(types, { ...config, featureSet: features === 'top' ? 1 : 0 });
  }

  /** The feature names, from the native addon (equal to FEATURE_NAMES). */
  static featureNames(): string[] {
    return native().featureNames() as string[];
  }

  /**
   * Applies `count` events (64-byte rows, default: all in `events`) in one native call. With
   * `featuresOut` (at least count * rowWidth doubles) each event's feature row is written there;
   * rows of unknown instruments are NaN. `featuresOut` must not overlap `events`. Returns the events
   * applied (unknown instruments skipped).
   */
  apply(events: Uint8Array, count = Math.floor(events?.byteLength / EVENT_SIZE), featuresOut?: Float64Array): number {
    if (!(events instanceof Uint8Array)) throw expected('a Uint8Array of 64-byte events', 'events', events);
    if (!Number.isInteger(count) || count < 0 || count * EVENT_SIZE > events.byteLength) {
      throw expected(`an integer 0..${Math.floor(events.byteLength / EVENT_SIZE)}`, 'count', count);
    }
    if (events.byteOffset % 8 !== 0) throw expected('an 8-byte aligned byteOffset', 'events', events.byteOffset);
    if (featuresOut !== undefined) {
      if (!(featuresOut instanceof Float64Array)) throw expected('a Float64Array', 'featuresOut', featuresOut);
      if (featuresOut.length < count * this.rowWidth) {
        throw expected(`at least ${count * this.rowWidth} elements`, 'featuresOut', featuresOut.length);
      }
      // Rows are written while the events are read (and read back: the history of the best levels).
      const rowsEnd = featuresOut.byteOffset + count * this.rowWidth * 8;
      const eventsEnd = events.byteOffset + count * EVENT_SIZE;
      if (count > 0 && featuresOut.buffer === events.buffer && featuresOut.byteOffset < eventsEnd && events.byteOffset < rowsEnd) {
        throw expected('a buffer that does not overlap the events', 'featuresOut', `bytes ${featuresOut.byteOffset}..${rowsEnd}`);
      }
    }
    return this.handle.apply(events, count, featuresOut);
  }

  /**
   * Verifies the event-log Batch frames in `chunk` (8-aligned; the first must carry batch_index
   * `nextBatchIndex`) and applies each to the engine as soon as it is verified, without feature rows:
   * the replay's inner loop, one native call per read chunk (EventLogReader.scanChunks). `scanOut`
   * (at least 8 doubles) receives the scan head of the reader's layout (status, error, consumed,
   * needed, expected, found, frames) and, in scanOut[7], the events applied. Returns the frames applied.
   */
  applyFrames(chunk: Uint8Array, nextBatchIndex: number, scanOut: Float64Array): number {
    return this.handle.applyFrames(chunk, nextBatchIndex, scanOut);
  }

  /** Latest feature vector of `instrument` (written into `out`, NUM_FEATURES doubles). */
  features(instrument: number, out: Float64Array = new Float64Array(NUM_FEATURES)): Float64Array {
    this.checkInstrument(instrument);
    if (!(out instanceof Float64Array) || out.length < NUM_FEATURES) throw expected(`a Float64Array(${NUM_FEATURES})`, 'out', out);
    return this.handle.features(instrument, out);
  }

  topOfBook(instrument: number): TopOfBook {
    this.checkInstrument(instrument);
    const t = this.handle.topOfBook(instrument, this.tob);
    return { bidPrice: t[0], bidQty: t[1], askPrice: t[2], askQty: t[3] };
  }

  /**
   * Best `levels` levels of one side as [price, qty] pairs (ticks, lots), best first, written into
   * `out` (2 * levels doubles); returns the filled part (fewer pairs when the side is shorter).
   */
  depth(instrument: number, side: Side.Bid | Side.Ask, levels: number, out: Float64Array = new Float64Array(2 * levels)): Float64Array {
    this.checkInstrument(instrument);
    if (side !== Side.Bid && side !== Side.Ask) throw expected('Side.Bid (1) or Side.Ask (2)', 'side', side);
    if (!Number.isInteger(levels) || levels < 0) throw expected('a non-negative integer', 'levels', levels);
    if (!(out instanceof Float64Array) || out.length < 2 * levels) throw expected(`a Float64Array(${2 * levels})`, 'out', out);
    const n = this.handle.depth(instrument, side, levels, out);
    return out.subarray(0, 2 * n);
  }

  stats(): MarketStats {
    return this.handle.stats();
  }

  instrumentStats(instrument: number): InstrumentStats {
    this.checkInstrument(instrument);
    return this.handle.instrumentStats(instrument);
  }

  /** Recorded sequence gaps (bounded by options.maxGapRecords). */
  gaps(): SequenceGapRecord[] {
    return this.handle.gaps();
  }

  /** True from a sequence gap (or Clear) until the next SnapshotEnd. */
  isStale(instrument: number): boolean {
    this.checkInstrument(instrument);
    return this.handle.isStale(instrument);
  }

  private checkInstrument(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.instruments.length) {
      throw expected(`an instrument index 0..${this.instruments.length - 1}`, 'instrument', i);
    }
  }
}
