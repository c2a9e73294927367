// Replay: streams an event log into the market engine, one native call per batch (or per paced slice),
// at full speed or paced by exchange timestamps, and summarises what the engine saw.
import { EVENT_SIZE } from '../core/event';
import { InstrumentInfo } from '../core/instrument';
import { expected } from '../errors';
import { EventLogReader, FrameScanner, LogHeader, StopInfo } from '../log/event-log';
import { MarketEngine, NUM_FEATURES } from '../market/market-engine';

/** What the replay needs from an engine: src/market/market-engine.ts fits; tests may plug in others. */
export interface ReplayEngine {
  apply(events: Uint8Array, count: number, featuresOut?: Float64Array): number;
  /** Optional fused path (MarketEngine.applyFrames): verify and apply a whole read chunk natively. Used
   *  at full speed when no per-batch callback is given. */
  applyFrames?: FrameScanner;
  stats(): { gaps: number; crossedEpisodes: number; unknownOrders: number };
  instrumentStats(i: number): { events: number; gaps: number; crossedEpisodes: number; unknownOrders: number; stale: boolean };
  /** Ticks and lots; NaN price when a side is empty. */
  topOfBook(i: number): { bidPrice: number; bidQty: number; askPrice: number; askQty: number };
}

/** Wall clock in milliseconds; injectable so pacing is testable without waiting. */
export interface ReplayClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemReplayClock: ReplayClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface ReplayProgress {
  bytes: number;
  totalBytes: number;
  events: number;
  batches: number;
  elapsedSeconds: number;
}

export interface ReplayOptions {
  /** 'max' (default), '1x', '10x', any 'Nx', or N: pace by ts_exchange at N times real time. */
  speed?: string | number;
  /** Called after each applied slice. Views are valid only during the call (copy to keep). */
  onBatch?: (events: Uint8Array, count: number, features: Float64Array | undefined) => void;
  /** Compute per-event features for onBatch (default: true when onBatch is given). */
  features?: boolean;
  /** Called at most every progressIntervalMs (default 100) and once at the end. */
  onProgress?: (p: ReplayProgress) => void;
  progressIntervalMs?: number;
  /** Paced replay applies together the events due within this many ms (default 1). */
  pacingGranularityMs?: number;
  clock?: ReplayClock;
  /** Engine factory; default `new MarketEngine(instruments)`. */
  engine?: (instruments: InstrumentInfo[]) => ReplayEngine;
  /** Reader buffer (default LOG_CHUNK_BYTES, 1 MiB). */
  chunkBytes?: number;
}

/** Top of book in real units: price = ticks * tickSize, qty = lots * lotSize; null when a side is empty. */
export interface RealTopOfBook {
  bid: number | null;
  bidQty: number;
  ask: number | null;
  askQty: number;
}

export interface SymbolSummary {
  symbol: string;
  venue: string;
  bookType: 'L2' | 'L3';
  events: number;
  gaps: number;
  crossed: number;
  unknownOrders: number;
  stale: boolean;
  lastTopOfBook: RealTopOfBook;
}

export interface ReplaySummary {
  file: string;
  source: string;
  speed: string;
  events: number;
  batches: number;
  seconds: number;
  eventsPerSec: number;
  symbols: SymbolSummary[];
  gaps: number;
  /** Crossed-book episodes. */
  crossed: number;
  unknownOrders: number;
  stoppedAt: StopInfo;
}

/** 'max' -> Infinity; 'Nx' or N -> N (a positive finite number). */
export function parseReplaySpeed(speed: string | number | undefined): number {
  if (speed === undefined || speed === 'max') return Infinity;
  const n = typeof speed === 'number' ? speed : /^\d+(\.\d+)?x$/.test(speed) ? Number(speed.slice(0, -1)) : NaN;
  if (!(Number.isFinite(n) && n > 0)) throw expected("'max' or a positive multiple like '1x', '10x'", 'speed', speed);
  return n;
}

/** Rounds ticks * tickSize to the tick's decimals, so 6182099 * 0.01 prints 61820.99. */
export function unitsToReal(units: number, step: number): number {
  let d = 0;
  while (d < 12 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-9 * 10 ** d) d++;
  return Number((units * step).toFixed(d));
}

export class Replay {
  readonly file: string;
  readonly header: LogHeader;
  readonly engine: ReplayEngine;
  private readonly reader: EventLogReader;
  private readonly speed: number;
  private readonly clock: ReplayClock;
  private readonly options: ReplayOptions;
  private featuresOut: Float64Array | undefined;
  private events = 0;

  /** Opens the log and builds the engine for its instruments; throws EngineError on a bad file. */
  constructor(file: string, options: ReplayOptions = {}) {
    this.speed = parseReplaySpeed(options.speed);
    const g = options.pacingGranularityMs;
    if (g !== undefined && !(Number.isFinite(g) && g >= 0)) throw expected('a non-negative number', 'pacingGranularityMs', g);
    this.options = options;
    this.clock = options.clock ?? systemReplayClock;
    this.file = file;
    this.reader = EventLogReader.open(file, { chunkBytes: options.chunkBytes });
    this.header = this.reader.header;
    try {
      const make = options.engine ?? ((instruments: InstrumentInfo[]) => new MarketEngine(instruments));
      this.engine = make(this.header.instruments);
    } catch (err) {
      this.reader.close();
      throw err;
    }
  }

  /** Replays the whole file (up to the first bad or torn batch) and returns the summary. */
  async run(): Promise<ReplaySummary> {
    const { onProgress, progressIntervalMs = 100 } = this.options;
    const granularity = this.options.pacingGranularityMs ?? 1;
    const clock = this.clock;
    const started = clock.now();
    let lastProgress = started;
    let lastYield = started;
    let batches = 0;
    let bytes = this.reader.dataOffset;
    const totalBytes = this.reader.fileBytes;
    // Pacing: event i is due at wallStart + (ts_i - tsStart) / 1e6 / speed milliseconds.
    let wallStart = NaN;
    let tsStart = 0n;
    const progress = (): void =>
      onProgress?.({ bytes, totalBytes, events: this.events, batches, elapsedSeconds: (clock.now() - started) / 1000 });
    // Called after each batch (or chunk): progress, and at full speed a turn of the event loop every 10 ms.
    const tick = async (): Promise<void> => {
      const now = clock.now();
      if (onProgress && now - lastProgress >= progressIntervalMs) {
        lastProgress = now;
        progress();
      }
      if (now - lastYield >= 10) {
        lastYield = now;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const engine = this.engine;
    // Full speed, no per-batch callback: the engine verifies and applies each read chunk in one native call.
    const fused = this.speed === Infinity && this.options.onBatch === undefined && engine.applyFrames !== undefined;
    try {
      if (fused) {
        const scan: FrameScanner = (chunk, next, out) => engine.applyFrames!(chunk, next, out);
        for (const chunk of this.reader.scanChunks(scan)) {
          batches += chunk.batches;
          this.events += chunk.events;
          bytes = chunk.offset;
          await tick();
        }
      }
      for (const batch of fused ? [] : this.reader.batches()) {
        const { events, count } = batch;
        if (this.speed === Infinity) {
          this.apply(events, 0, count);
        } else {
          const ts = new BigInt64Array(events.buffer, events.byteOffset, count * 8); // word 0 of each row
          if (Number.isNaN(wallStart) && count > 0) {
            wallStart = clock.now();
            tsStart = ts[0];
          }
          const due = (i: number): number => wallStart + Number(ts[i * 8] - tsStart) / 1e6 / this.speed;
          for (let from = 0; from < count; ) {
            const now = clock.now();
            let to = from;
            while (to < count && due(to) <= now + granularity) to++;
            if (to > from) {
              this.apply(events, from, to);
              from = to;
            } else {
              await clock.sleep(due(from) - now); // the batch's view stays valid: the reader is paused
            }
          }
        }
        batches++;
        bytes = batch.offset;
        await tick();
      }
    } finally {
      this.reader.close();
    }
    bytes = this.reader.stoppedAt!.offset;
    progress();
    return this.summary((clock.now() - started) / 1000, batches);
  }

  private apply(events: Uint8Array, from: number, to: number): void {
    const count = to - from;
    const slice = from === 0 && to * EVENT_SIZE === events.length ? events : events.subarray(from * EVENT_SIZE, to * EVENT_SIZE);
    const onBatch = this.options.onBatch;
    const wantFeatures = onBatch !== undefined && (this.options.features ?? true);
    let features: Float64Array | undefined;
    if (wantFeatures) {
      if (!this.featuresOut || this.featuresOut.length < count * NUM_FEATURES) this.featuresOut = new Float64Array(Math.max(count, 4096) * NUM_FEATURES);
      features = this.featuresOut.subarray(0, count * NUM_FEATURES);
    }
    this.engine.apply(slice, count, features);
    this.events += count;
    onBatch?.(slice, count, features);
  }

  private summary(seconds: number, batches: number): ReplaySummary {
    const stats = this.engine.stats();
    const symbols = this.header.instruments.map((inst, i): SymbolSummary => {
      const s = this.engine.instrumentStats(i);
      const t = this.engine.topOfBook(i);
      return {
        symbol: inst.symbol,
        venue: inst.venue,
        bookType: inst.bookType,
        events: s.events,
        gaps: s.gaps,
        crossed: s.crossedEpisodes,
        unknownOrders: s.unknownOrders,
        stale: s.stale,
        lastTopOfBook: {
          bid: Number.isNaN(t.bidPrice) ? null : unitsToReal(t.bidPrice, inst.tickSize),
          bidQty: unitsToReal(t.bidQty, inst.lotSize),
          ask: Number.isNaN(t.askPrice) ? null : unitsToReal(t.askPrice, inst.tickSize),
          askQty: unitsToReal(t.askQty, inst.lotSize),
        },
      };
    });
    return {
      file: this.file,
      source: this.header.source,
      speed: this.speed === Infinity ? 'max' : `${this.speed}x`,
      events: this.events,
      batches,
      seconds,
      eventsPerSec: seconds > 0 ? Math.round(this.events / seconds) : 0,
      symbols,
      gaps: stats.gaps,
      crossed: stats.crossedEpisodes,
      unknownOrders: stats.unknownOrders,
      stoppedAt: this.reader.stoppedAt!,
    };
  }
}

/** Opens, replays and summarises `file` in one call. */
export function replayFile(file: string, options: ReplayOptions = {}): Promise<ReplaySummary> {
  return new Replay(file, options).run();
}
