// CMM dataset builder (../shared/design/cmm.md, "Tasks and targets"): runs the native MarketEngine over event
// logs, samples decision times on a grid, and computes the student input, the teacher window and forward targets.
//
// Definitions (per instrument of each log = one "source"; positions count that instrument's events, 1-based):
// - Grid: at a book-consistent event (EndOfMessage) once `every` events of the instrument have passed since the
//   last grid point, or (seconds) at the first consistent event at or after each multiple of `every` s.
// - A grid point is valid when the book is not stale, both sides are present and spread > 0; its snapshot row
//   is WINDOW_FEATURES (all NaN when invalid). Decision = a valid grid point with T finite snapshots ending there.
// - Inputs use only the feature row of the decision event and earlier snapshots. Targets use only events after
//   it, up to position n + h (events) or up to time t + h inclusive (seconds):
//     mid    = last valid consistent mid at or before the horizon end − mid at t   (ticks)
//     spread = mean quoted spread after each valid consistent event in (t, t+h]   (ticks; the spread at t if none)
//     volume = log1p(total traded qty in (t, t+h])                                  (lots)
//   A decision is dropped when the book went stale inside (t, t+h] or the data ends before t + h.
// - Splits by time per source (first 60 % of its decisions, next 20 %, last 20 % by default), then an embargo:
//   a validation / test decision is dropped while its time position is inside the last target interval of the
//   previous split. Regime cut points: 33rd / 66th percentiles of realised vol on the train split only.
import { EVENT_SIZE, EventFlag, EventKind } from '../core/event';
import type { InstrumentInfo } from '../core/instrument';
import { EngineError, expected } from '../errors';
import { EventLogReader } from '../log/event-log';
import { Feature, MarketEngine, MarketEngineOptions, NUM_FEATURES } from '../market/market-engine';
import {
  CmmDataset, ColumnStats, DATASET_FORMAT, DATASET_TASKS, DATASET_VERSION, DatasetBuildOptions, DatasetHeader, DatasetSourceInfo,
  DropCounts, REGIMES, SPLITS, Split, StepUnit,
} from './dataset-file';

/**
 * The student input x_t: a fixed transform of the native feature row (src/market/market-engine.ts), in ticks,
 * lots and seconds. Signed log1p ("slog") tames the heavy tails of flow measures whose scale depends on the lot.
 */
export const STUDENT_FEATURES = [
  'spreadTicks', // spread
  'imbalance1', // (B1 − A1) / (B1 + A1)
  'imbalance5',
  'imbalance10',
  'ofiSlog', // sign(ofi)·log1p(|ofi|)
  'tradeFlowSlog', // sign(flow)·log1p(|flow|)
  'logRealisedVol', // log1p(realisedVol)
  'logIntensity', // log1p(events per second)
  'logTimeSinceTrade', // log1p(seconds); NaN before the first trade (such rows are dropped)
  'micropriceOffsetTicks', // microprice − mid
  'logTopQty', // log1p(bidQty + askQty)
] as const;
/** Teacher snapshot columns: the student features plus what happened since the previous grid point. */
export const WINDOW_FEATURES = [...STUDENT_FEATURES, 'midChangeTicks', 'logVolume'] as const;
const FX = STUDENT_FEATURES.length;
const FW = WINDOW_FEATURES.length;

const slog = (v: number): number => Math.sign(v) * Math.log1p(Math.abs(v));

/** Writes x_t (STUDENT_FEATURES) of one native feature row; the same transform must be used online. */
export function studentVector(row: ArrayLike<number>, rowOffset: number, out: Float32Array | Float64Array, outOffset = 0): void {
  const f = (k: Feature) => row[rowOffset + k];
  out[outOffset] = f(Feature.Spread);
  out[outOffset + 1] = f(Feature.Imbalance1);
  out[outOffset + 2] = f(Feature.Imbalance5);
  out[outOffset + 3] = f(Feature.Imbalance10);
  out[outOffset + 4] = slog(f(Feature.Ofi));
  out[outOffset + 5] = slog(f(Feature.TradeFlow));
  out[outOffset + 6] = Math.log1p(f(Feature.RealisedVol));
  out[outOffset + 7] = Math.log1p(f(Feature.Intensity));
  out[outOffset + 8] = Math.log1p(f(Feature.TimeSinceTrade));
  out[outOffset + 9] = f(Feature.Microprice) - f(Feature.Mid);
  out[outOffset + 10] = Math.log1p(f(Feature.BidQty) + f(Feature.AskQty));
}

export interface DatasetOptions {
  /** Target horizon h (default 50) in `horizonUnit` (default 'events' of the instrument). */
  horizon?: number;
  horizonUnit?: StepUnit;
  /** Grid spacing (default 10) in `everyUnit` (default 'events'). */
  every?: number;
  everyUnit?: StepUnit;
  /** Snapshots per teacher window, T (default 32). */
  window?: number;
  /** Train / validation / test fractions of each source's decisions, in time order (default 0.6, 0.2, 0.2). */
  split?: [number, number, number];
  /** Regime cut points per source (default: each source's own train split) or pooled over all train samples. */
  regimeScope?: 'source' | 'pooled';
  engine?: MarketEngineOptions;
  onProgress?: (p: DatasetProgress) => void;
}

export interface DatasetProgress {
  input: string;
  inputIndex: number;
  inputs: number;
  events: number;
  /** Bytes read of this input and its size (0 when unknown). */
  bytes: number;
  totalBytes: number;
}

/** One event stream: a log file's batches, or events already in memory. */
export interface DatasetInput {
  name: string;
  instruments: InstrumentInfo[];
  batches: Iterable<Uint8Array>;
  totalBytes?: number;
  bytesRead?: () => number;
}

export function resolveDatasetOptions(o: DatasetOptions = {}): DatasetBuildOptions {
  const r: DatasetBuildOptions = {
    horizon: o.horizon ?? 50, horizonUnit: o.horizonUnit ?? 'events', every: o.every ?? 10, everyUnit: o.everyUnit ?? 'events',
    window: o.window ?? 32, split: o.split ?? [0.6, 0.2, 0.2], regimeScope: o.regimeScope ?? 'source', engine: o.engine ?? {},
  };
  for (const k of ['horizonUnit', 'everyUnit'] as const) if (r[k] !== 'events' && r[k] !== 'seconds') throw expected("'events' or 'seconds'", k, r[k]);
  for (const k of ['horizon', 'every'] as const) {
    const v = r[k];
    const ok = r[`${k}Unit`] === 'events' ? Number.isInteger(v) && v >= 1 : Number.isFinite(v) && v > 0;
    if (!ok) throw expected(r[`${k}Unit`] === 'events' ? 'a positive integer number of events' : 'a positive number of seconds', k, v);
  }
  if (!Number.isInteger(r.window) || r.window < 1 || r.window > 4096) throw expected('an integer 1..4096', 'window', r.window);
  const s = r.split;
  if (!Array.isArray(s) || s.length !== 3 || s.some((v) => !Number.isFinite(v) || v < 0) || s[0] <= 0 || Math.abs(s[0] + s[1] + s[2] - 1) > 1e-6) {
    throw expected('three non-negative fractions summing to 1 with train > 0', 'split', s);
  }
  if (r.regimeScope !== 'source' && r.regimeScope !== 'pooled') throw expected("'source' or 'pooled'", 'regimeScope', r.regimeScope);
  return r;
}

class Grow<T extends Float32Array | Float64Array | Uint32Array> {
  length = 0;
  constructor(private data: T) {}
  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = v;
  }
  pushFrom(src: ArrayLike<number>, offset: number, n: number): void {
    if (this.length + n > this.data.length) this.grow(this.length + n);
    for (let i = 0; i < n; i++) this.data[this.length + i] = src[offset + i];
    this.length += n;
  }
  at(i: number): number {
    return this.data[i];
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
  private grow(min: number): void {
    const next = new (this.data.constructor as new (n: number) => T)(Math.max(min, this.data.length * 2, 64));
    next.set(this.data);
    this.data = next;
  }
}

interface Pending {
  g: number; n: number; t: number; end: number; mid: number; spread: number; rv: number;
  cumSpread: number; cumSpreadN: number; cumVol: number; cumStale: number;
}

const emptyDrops = (): DropCounts => ({ invalidBook: 0, shortWindow: 0, nanFeatures: 0, nanWindow: 0, horizonPastEnd: 0, staleInHorizon: 0, embargo: 0 });
const TWO32 = 4294967296;

/** Forward pass state of one instrument: grid, snapshots, open decisions and finished samples. */
class Track {
  n = 0; t = -Infinity; stale = false; seqLo = 0; seqHi = 0;
  cumSpread = 0; cumSpreadN = 0; cumVol = 0; cumStale = 0; lastValidMid = NaN;
  lastGridN = 0; nextGridT = NaN; prevGridMid = NaN; prevGridVol = 0; lastNanSnap = -1;
  readonly snaps = new Grow(new Float32Array(1024));
  G = 0;
  private pending: Pending[] = [];
  private head = 0;
  readonly x = new Grow(new Float32Array(1024));
  readonly y = new Grow(new Float32Array(256));
  readonly rv = new Grow(new Float32Array(64));
  readonly time = new Grow(new Float64Array(64));
  readonly event = new Grow(new Float64Array(64));
  readonly snap = new Grow(new Uint32Array(64));
  readonly pos = new Grow(new Float64Array(64));
  readonly end = new Grow(new Float64Array(64));
  readonly drops = emptyDrops();
  private readonly row = new Float32Array(FW);

  constructor(readonly o: DatasetBuildOptions) {}

  /** Finishes open decisions whose horizon ends before `limit` (seconds: before the next event's time). */
  finishBefore(limit: number): void {
    while (this.head < this.pending.length && this.pending[this.head].end < limit) this.finish(this.pending[this.head++]);
    this.compact();
  }

  /** Finishes open decisions whose horizon ends at or before event position n (events). */
  finishThrough(n: number): void {
    while (this.head < this.pending.length && this.pending[this.head].end <= n) this.finish(this.pending[this.head++]);
    this.compact();
  }

  private compact(): void {
    if (this.head > 256 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }

  private finish(d: Pending): void {
    if (this.cumStale !== d.cumStale) {
      this.drops.staleInHorizon++;
      return;
    }
    const count = this.cumSpreadN - d.cumSpreadN;
    this.y.push(this.lastValidMid - d.mid);
    this.y.push(count > 0 ? (this.cumSpread - d.cumSpread) / count : d.spread);
    this.y.push(Math.log1p(this.cumVol - d.cumVol));
    this.x.pushFrom(this.snaps.view(), d.g * FW, FX);
    this.rv.push(d.rv);
    this.time.push(d.t);
    this.event.push(d.n);
    this.snap.push(d.g);
    this.pos.push(this.o.horizonUnit === 'events' ? d.n : d.t);
    this.end.push(d.end);
  }

  /** At the end of the data: decisions still open cannot have targets. */
  close(): void {
    this.drops.horizonPastEnd += this.pending.length - this.head;
    this.pending = [];
    this.head = 0;
  }

  gridDue(t: number): boolean {
    if (this.o.everyUnit === 'events') return this.n - this.lastGridN >= this.o.every;
    return !(t < this.nextGridT); // NaN (no grid yet) is due
  }

  /** Takes the grid snapshot at the current (consistent) event and opens a decision when it qualifies. */
  gridPoint(rows: Float64Array, r: number, t: number, valid: boolean): void {
    const o = this.o;
    this.lastGridN = this.n;
    if (o.everyUnit === 'seconds') this.nextGridT = (Math.floor(t / (o.every * 1e9)) + 1) * o.every * 1e9;
    const row = this.row;
    const mid = rows[r + Feature.Mid];
    if (valid) {
      studentVector(rows, r, row, 0);
      row[FX] = mid - this.prevGridMid; // NaN when the previous grid point was invalid (or there was none)
      row[FX + 1] = Math.log1p(this.cumVol - this.prevGridVol);
    } else row.fill(NaN);
    this.prevGridMid = valid ? mid : NaN;
    this.prevGridVol = this.cumVol;
    const g = this.G++;
    this.snaps.pushFrom(row, 0, FW);
    let xNaN = false, anyNaN = false;
    for (let j = 0; j < FW; j++) {
      if (Number.isNaN(row[j])) {
        anyNaN = true;
        if (j < FX) xNaN = true;
      }
    }
    if (anyNaN) this.lastNanSnap = g;
    if (!valid) this.drops.invalidBook++;
    else if (g + 1 < o.window) this.drops.shortWindow++;
    else if (xNaN) this.drops.nanFeatures++;
    else if (this.lastNanSnap > g - o.window) this.drops.nanWindow++;
    else {
      this.pending.push({
        g, n: this.n, t, end: o.horizonUnit === 'events' ? this.n + o.horizon : t + o.horizon * 1e9, mid, spread: rows[r + Feature.Spread],
        rv: rows[r + Feature.RealisedVol], cumSpread: this.cumSpread, cumSpreadN: this.cumSpreadN, cumVol: this.cumVol, cumStale: this.cumStale,
      });
    }
  }
}

/** Runs one input through a MarketEngine, feeding every instrument's Track. */
function scanInput(input: DatasetInput, o: DatasetBuildOptions, onBatch: (events: number) => void): { tracks: Track[]; engine: MarketEngine } {
  const engine = new MarketEngine(input.instruments, o.engine);
  const tracks = input.instruments.map(() => new Track(o));
  const seconds = o.horizonUnit === 'seconds';
  let rows = new Float64Array(4096 * NUM_FEATURES);
  let total = 0;
  for (const events of input.batches) {
    const count = Math.floor(events.byteLength / EVENT_SIZE);
    if (count === 0) continue;
    if (rows.length < count * NUM_FEATURES) rows = new Float64Array(count * NUM_FEATURES);
    const bytes = events.byteOffset % 8 === 0 ? events : events.slice();
    engine.apply(bytes, count, rows);
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, count * 16);
    const i32 = new Int32Array(bytes.buffer, bytes.byteOffset, count * 16);
    for (let i = 0; i < count; i++) {
      const w = i * 16, b = i * EVENT_SIZE;
      const inst = u32[w + 14];
      if (inst >= tracks.length) continue; // unknown instrument: skipped by the engine too
      const tr = tracks[inst];
      // Event time: ts_exchange, or ts_local when it is 0 (as the feature kernels); ns as a double (~0.2 µs).
      let t = u32[w] + i32[w + 1] * TWO32;
      if (u32[w] === 0 && i32[w + 1] === 0) t = u32[w + 2] + i32[w + 3] * TWO32;
      if (t < tr.t) t = tr.t; // a clock going backwards counts as no time elapsed
      tr.t = t;
      if (seconds) tr.finishBefore(t);
      // Stale state, as native/market/market_engine.cc decides it (checked against the engine after each batch).
      const seqLo = u32[w + 10], seqHi = u32[w + 11];
      if ((seqLo | seqHi) !== 0 && (seqLo !== tr.seqLo || seqHi !== tr.seqHi)) {
        const pLo = u32[w + 12], pHi = u32[w + 13];
        if ((pLo | pHi) !== 0 && (tr.seqLo | tr.seqHi) !== 0 && (pLo !== tr.seqLo || pHi !== tr.seqHi)) tr.stale = true;
        tr.seqLo = seqLo;
        tr.seqHi = seqHi;
      }
      const kind = bytes[b + 60];
      if (kind === EventKind.SnapshotEnd) tr.stale = false;
      else if (kind === EventKind.Clear) tr.stale = true;
      if (tr.stale) tr.cumStale++;
      tr.n++;
      if (kind === EventKind.Trade) {
        const qty = u32[w + 6] + i32[w + 7] * TWO32;
        if (qty > 0) tr.cumVol += qty;
      }
      const r = i * NUM_FEATURES;
      const consistent = (bytes[b + 62] & EventFlag.EndOfMessage) !== 0;
      const mid = rows[r + Feature.Mid], spread = rows[r + Feature.Spread];
      const valid = consistent && !tr.stale && Number.isFinite(mid) && spread > 0;
      if (valid) {
        tr.cumSpread += spread;
        tr.cumSpreadN++;
        tr.lastValidMid = mid;
      }
      if (!seconds) tr.finishThrough(tr.n);
      if (consistent && tr.gridDue(t)) tr.gridPoint(rows, r, t, valid);
    }
    tracks.forEach((tr, k) => {
      if (tr.stale !== engine.isStale(k)) {
        throw new EngineError('E_INTERNAL', `dataset builder lost track of the stale state of instrument ${k} in ${input.name} (engine says ${engine.isStale(k)})`);
      }
    });
    total += count;
    onBatch(total);
  }
  tracks.forEach((tr) => tr.close());
  return { tracks, engine };
}

/** Linear-interpolated quantile (R type 7) of sorted values; NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q, lo = Math.floor(h), hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Regime index from realised vol and [q33, q66] cut points: <= q33 low (0), <= q66 medium (1), else high (2). */
export function regimeOf(rv: number, cuts: readonly [number, number]): number {
  return rv <= cuts[0] ? 0 : rv <= cuts[1] ? 1 : 2;
}

export const REGIME_QUANTILES: [number, number] = [0.33, 0.66];

function cutsOf(values: number[]): [number, number] {
  const s = Float64Array.from(values).sort();
  return [quantileSorted(s, REGIME_QUANTILES[0]), quantileSorted(s, REGIME_QUANTILES[1])];
}

function columnStats(data: Float32Array, width: number, rows: number[], col0 = 0): ColumnStats {
  const mean: number[] = [], std: number[] = [];
  for (let j = 0; j < width; j++) {
    let m = 0, s = 0, k = 0;
    for (const i of rows) {
      const v = data[i + col0 + j];
      k++;
      const d = v - m;
      m += d / k;
      s += d * (v - m);
    }
    const sd = k > 1 ? Math.sqrt(s / (k - 1)) : 0;
    mean.push(k > 0 ? m : 0);
    std.push(sd > 1e-12 && Number.isFinite(sd) ? sd : 1); // constant column: leave its scale alone
  }
  return { mean, std };
}

/** Builds the dataset from event streams in memory or from logs (see buildDataset). */
export function buildDatasetFromInputs(inputs: DatasetInput[], options: DatasetOptions = {}): CmmDataset {
  const o = resolveDatasetOptions(options);
  if (!Array.isArray(inputs) || inputs.length === 0) throw expected('at least one event log', 'dataset inputs', inputs?.length ?? inputs);
  const notes: string[] = [];
  const sources: { info: DatasetSourceInfo; tr: Track; ranges: Record<Split, [number, number]> }[] = [];
  inputs.forEach((input, k) => {
    const { tracks, engine } = scanInput(input, o, (events) =>
      options.onProgress?.({ input: input.name, inputIndex: k, inputs: inputs.length, events, bytes: input.bytesRead?.() ?? 0, totalBytes: input.totalBytes ?? 0 }));
    tracks.forEach((tr, i) => {
      const stats = engine.instrumentStats(i) as unknown as Record<string, number | boolean>;
      const engineCounts: Record<string, number> = {};
      for (const [key, v] of Object.entries(stats)) if (typeof v === 'number') engineCounts[key] = v;
      sources.push({
        tr, ranges: { train: [0, 0], validation: [0, 0], test: [0, 0] },
        info: {
          id: sources.length, file: input.name, instrument: input.instruments[i], events: tr.n, gridPoints: tr.G,
          samples: { train: 0, validation: 0, test: 0 }, drops: tr.drops, splitTimes: { train: null, validation: null, test: null },
          regimeCuts: [NaN, NaN], snapshotStart: 0, snapshotCount: tr.G, engine: engineCounts,
        },
      });
    });
  });
  if (sources.length > 65535) throw expected('at most 65535 instruments in all', 'dataset inputs', sources.length);

  // Time split per source, with the embargo at each boundary.
  for (const s of sources) {
    const S = s.tr.time.length, pos = s.tr.pos.view(), end = s.tr.end.view();
    const a = Math.round(o.split[0] * S), b = Math.round((o.split[0] + o.split[1]) * S);
    let lastEnd = a > 0 ? end[a - 1] : -Infinity;
    let vStart = a;
    while (vStart < b && pos[vStart] <= lastEnd) vStart++;
    if (vStart < b) lastEnd = end[b - 1];
    let tStart = b;
    while (tStart < S && pos[tStart] <= lastEnd) tStart++;
    s.tr.drops.embargo += vStart - a + (tStart - b);
    s.ranges = { train: [0, a], validation: [vStart, b], test: [tStart, S] };
    for (const split of SPLITS) {
      const [from, to] = s.ranges[split];
      s.info.samples[split] = to - from;
      s.info.splitTimes[split] = to > from ? [s.tr.time.at(from), s.tr.time.at(to - 1)] : null;
    }
  }

  // Regime cut points from the train split only.
  const pooledTrain: number[] = [];
  for (const s of sources) for (let i = s.ranges.train[0]; i < s.ranges.train[1]; i++) pooledTrain.push(s.tr.rv.at(i));
  const pooled = pooledTrain.length > 0 ? cutsOf(pooledTrain) : null;
  for (const s of sources) {
    const own: number[] = [];
    for (let i = s.ranges.train[0]; i < s.ranges.train[1]; i++) own.push(s.tr.rv.at(i));
    if (o.regimeScope === 'pooled' || own.length === 0) {
      if (o.regimeScope === 'source' && s.tr.time.length > 0) notes.push(`${s.info.file} ${s.info.instrument.symbol}: no train samples, pooled regime cut points used`);
      s.info.regimeCuts = pooled ?? [NaN, NaN];
    } else s.info.regimeCuts = cutsOf(own);
  }

  // Assemble: split-major, then source, then time.
  let N = 0, G = 0;
  for (const s of sources) {
    s.info.snapshotStart = G;
    G += s.tr.G;
    for (const split of SPLITS) N += s.info.samples[split];
  }
  const K = DATASET_TASKS.length;
  const ds: Omit<CmmDataset, 'header'> = {
    snapshots: new Float32Array(G * FW), x: new Float32Array(N * FX), targets: new Float32Array(N * K), rv: new Float32Array(N),
    time: new Float64Array(N), event: new Float64Array(N), snapshot: new Uint32Array(N), source: new Uint16Array(N), regime: new Uint8Array(N),
  };
  for (const s of sources) ds.snapshots.set(s.tr.snaps.view(), s.info.snapshotStart * FW);
  const splits = {} as DatasetHeader['splits'];
  const counts = {} as DatasetHeader['counts'];
  let at = 0;
  for (const split of SPLITS) {
    const start = at;
    counts[split] = [0, 0, 0];
    for (const s of sources) {
      const [from, to] = s.ranges[split];
      const tr = s.tr;
      for (let i = from; i < to; i++, at++) {
        ds.x.set(tr.x.view().subarray(i * FX, (i + 1) * FX), at * FX);
        ds.targets.set(tr.y.view().subarray(i * K, (i + 1) * K), at * K);
        ds.rv[at] = tr.rv.at(i);
        ds.time[at] = tr.time.at(i);
        ds.event[at] = tr.event.at(i);
        ds.snapshot[at] = s.info.snapshotStart + tr.snap.at(i);
        ds.source[at] = s.info.id;
        ds.regime[at] = regimeOf(tr.rv.at(i), s.info.regimeCuts);
        counts[split][ds.regime[at]]++;
      }
    }
    splits[split] = { start, end: at };
  }

  // Normalisation statistics: train split only.
  const trainRows = Array.from({ length: splits.train.end - splits.train.start }, (_, i) => splits.train.start + i);
  const drops = emptyDrops();
  for (const s of sources) for (const k of Object.keys(drops) as (keyof DropCounts)[]) drops[k] += s.info.drops[k];
  if (N === 0) notes.push('no samples: every candidate decision was dropped (see drops)');
  const header: DatasetHeader = {
    format: DATASET_FORMAT, version: DATASET_VERSION, createdAt: new Date().toISOString(), options: o,
    studentFeatures: [...STUDENT_FEATURES], windowFeatures: [...WINDOW_FEATURES], tasks: [...DATASET_TASKS], regimes: [...REGIMES],
    splits, counts,
    regimeCuts: { feature: 'realisedVol', quantiles: REGIME_QUANTILES, scope: o.regimeScope, pooled, fittedOn: 'train' },
    normalisation: {
      x: columnStats(ds.x, FX, trainRows.map((i) => i * FX)),
      window: columnStats(ds.snapshots, FW, trainRows.map((i) => ds.snapshot[i] * FW)),
      targets: columnStats(ds.targets, K, trainRows.map((i) => i * K)),
      fittedOn: 'train',
    },
    drops, sources: sources.map((s) => s.info), samples: N, snapshots: G, blocks: [], notes,
  };
  return { header, ...ds };
}

/** Builds the dataset from event log files (each log's instruments are separate sources). */
export function buildDataset(files: string[], options: DatasetOptions = {}): CmmDataset {
  if (!Array.isArray(files) || files.length === 0) throw expected('at least one event log file', 'buildDataset', files);
  const readers = files.map((f) => EventLogReader.open(f));
  try {
    const inputs: DatasetInput[] = readers.map((reader) => {
      let bytes = 0;
      return {
        name: reader.path, instruments: reader.header.instruments, totalBytes: reader.fileBytes, bytesRead: () => bytes,
        batches: (function* () {
          for (const batch of reader.batches()) {
            bytes = batch.offset + 48 + batch.events.byteLength;
            yield batch.events;
          }
          if (reader.stoppedAt && reader.stoppedAt.reason !== 'eof' && reader.stoppedAt.reason !== 'truncated') reader.assertComplete();
        })(),
      };
    });
    const ds = buildDatasetFromInputs(inputs, options);
    readers.forEach((r) => {
      if (r.stoppedAt?.reason === 'truncated') ds.header.notes.push(`${r.path}: ${r.stoppedAt.message} (events before it were used)`);
    });
    return ds;
  } finally {
    readers.forEach((r) => r.close());
  }
}
