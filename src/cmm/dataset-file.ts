// The CMM dataset in memory and on disk ("CMMDSET1": JSON header + typed blocks), with the accessors the
// teacher, the probe and the students read it through (split rows, teacher windows, standardised inputs).
import * as fs from 'fs';
import * as os from 'os';
import type { InstrumentInfo } from '../core/instrument';
import type { MarketEngineOptions } from '../market/market-engine';
import { EngineError, expected } from '../errors';
import type { TeacherDataset } from './teacher/teacher';

export const DATASET_MAGIC = 'CMMDSET1';
export const DATASET_FORMAT = 'cmm-dataset';
export const DATASET_VERSION = 1;

/** Task order of every target row (same as the teacher's heads). */
export const DATASET_TASKS = ['mid', 'spread', 'volume'] as const;
export const REGIMES = ['low', 'medium', 'high'] as const;
export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];
export type Regime = (typeof REGIMES)[number];

/** Horizons and sampling intervals are counted in the instrument's own events, or in seconds. */
export type StepUnit = 'events' | 'seconds';

export interface ColumnStats {
  mean: number[];
  std: number[];
}

/** Why candidate decisions were not kept (counts). */
export interface DropCounts {
  /** Grid point whose book was not usable: stale, a side empty, or crossed (spread <= 0). */
  invalidBook: number;
  /** Fewer than T grid snapshots so far. */
  shortWindow: number;
  /** The student vector x_t had a NaN (e.g. no trade yet: time since trade undefined). */
  nanFeatures: number;
  /** An older snapshot of the window had a NaN (an invalid grid point inside the window). */
  nanWindow: number;
  /** The data ended before t + h. */
  horizonPastEnd: number;
  /** A sequence gap / Clear made the book stale inside (t, t + h]: the targets are not trustworthy. */
  staleInHorizon: number;
  /** Removed at the start of validation / test so no target interval overlaps the previous split's. */
  embargo: number;
}

export interface DatasetSourceInfo {
  /** Index of this source (sample `source` values). */
  id: number;
  /** Event log path (or the name given to the builder) and the instrument inside it. */
  file: string;
  instrument: InstrumentInfo;
  /** Events of this instrument that were applied, grid points taken, samples kept per split. */
  events: number;
  gridPoints: number;
  samples: Record<Split, number>;
  drops: DropCounts;
  /** Decision-time range [first, last] (ns) per split; null when the split is empty. */
  splitTimes: Record<Split, [number, number] | null>;
  /** Realised-vol cut points applied to this source (33rd / 66th percentile of its train split, or pooled). */
  regimeCuts: [number, number];
  /** Grid snapshots of this source: rows [snapshotStart, snapshotStart + snapshotCount) of `snapshots`. */
  snapshotStart: number;
  snapshotCount: number;
  /** Engine counts at the end of the log (gaps, crossed episodes, stale events, ...). */
  engine: Record<string, number>;
}

export interface DatasetBuildOptions {
  horizon: number;
  horizonUnit: StepUnit;
  every: number;
  everyUnit: StepUnit;
  window: number;
  split: [number, number, number];
  regimeScope: 'source' | 'pooled';
  engine: MarketEngineOptions;
}

export interface BlockInfo {
  name: string;
  dtype: 'f32' | 'f64' | 'u32' | 'u16' | 'u8';
  shape: number[];
  /** Byte offset from the start of the data section (8-aligned). */
  offset: number;
  bytes: number;
}

export interface DatasetHeader {
  format: typeof DATASET_FORMAT;
  version: typeof DATASET_VERSION;
  createdAt: string;
  options: DatasetBuildOptions;
  /** Columns of `x` (the student input, a documented transform of the native feature row). */
  studentFeatures: string[];
  /** Columns of each grid snapshot (teacher windows are T consecutive snapshots). */
  windowFeatures: string[];
  tasks: string[];
  regimes: string[];
  /** Sample index ranges [start, end) of each split: samples are ordered split, then source, then time. */
  splits: Record<Split, { start: number; end: number }>;
  /** Samples per split and regime ([low, medium, high]). */
  counts: Record<Split, number[]>;
  regimeCuts: { feature: 'realisedVol'; quantiles: [number, number]; scope: 'source' | 'pooled'; pooled: [number, number] | null; fittedOn: 'train' };
  /** Statistics of the training split only. */
  normalisation: { x: ColumnStats; window: ColumnStats; targets: ColumnStats; fittedOn: 'train' };
  drops: DropCounts;
  sources: DatasetSourceInfo[];
  /** Things a reader should know (fallbacks taken, truncated logs). */
  notes: string[];
  samples: number;
  snapshots: number;
  blocks: BlockInfo[];
}

/**
 * N samples over G grid snapshots. Sample i: decision time `time[i]` (ns), student input x (row i), targets
 * (row i: mid change ticks, mean spread ticks, log1p lots), realised vol `rv[i]` and its `regime[i]`, its
 * window = snapshots [snapshot[i] - T + 1, snapshot[i]], the instrument's event count at the decision `event[i]`.
 */
export interface CmmDataset {
  header: DatasetHeader;
  snapshots: Float32Array;
  x: Float32Array;
  targets: Float32Array;
  rv: Float32Array;
  time: Float64Array;
  event: Float64Array;
  snapshot: Uint32Array;
  source: Uint16Array;
  regime: Uint8Array;
}

type BlockArray = Float32Array | Float64Array | Uint32Array | Uint16Array | Uint8Array;
const BLOCKS: { name: keyof Omit<CmmDataset, 'header'>; dtype: BlockInfo['dtype'] }[] = [
  { name: 'snapshots', dtype: 'f32' }, { name: 'x', dtype: 'f32' }, { name: 'targets', dtype: 'f32' }, { name: 'rv', dtype: 'f32' },
  { name: 'time', dtype: 'f64' }, { name: 'event', dtype: 'f64' }, { name: 'snapshot', dtype: 'u32' }, { name: 'source', dtype: 'u16' },
  { name: 'regime', dtype: 'u8' },
];
const CTOR = { f32: Float32Array, f64: Float64Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array } as const;
const align8 = (n: number): number => (n + 7) & ~7;

function shapeOf(ds: CmmDataset, name: string): number[] {
  const N = ds.header.samples;
  if (name === 'snapshots') return [ds.header.snapshots, ds.header.windowFeatures.length];
  if (name === 'x') return [N, ds.header.studentFeatures.length];
  if (name === 'targets') return [N, ds.header.tasks.length];
  return [N];
}

/** Writes `ds` to `file` (little-endian). Returns the bytes written. */
export function writeDataset(file: string, ds: CmmDataset): number {
  if (os.endianness() !== 'LE') throw new EngineError('E_INTERNAL', 'dataset files are little-endian; this host is big-endian');
  let offset = 0;
  const blocks: BlockInfo[] = BLOCKS.map(({ name, dtype }) => {
    const arr = ds[name] as BlockArray;
    const shape = shapeOf(ds, name);
    const want = shape.reduce((a, b) => a * b, 1);
    if (arr.length !== want) throw expected(`${shape.join('×')} = ${want} values`, `dataset block ${name}`, arr.length);
    const info = { name, dtype, shape, offset, bytes: arr.byteLength };
    offset = align8(offset + arr.byteLength);
    return info;
  });
  const header: DatasetHeader = { ...ds.header, blocks };
  const text = new TextEncoder().encode(JSON.stringify(header));
  const H = align8(12 + text.length) - 12; // space-padded: the data starts 8-aligned
  const pre = new Uint8Array(12 + H).fill(0x20);
  pre.set(new TextEncoder().encode(DATASET_MAGIC), 0);
  new DataView(pre.buffer).setUint32(8, H, true);
  pre.set(text, 12);
  const fd = fs.openSync(file, 'w');
  let written = 0;
  try {
    written += fs.writeSync(fd, pre);
    for (const b of blocks) {
      const arr = ds[b.name as keyof Omit<CmmDataset, 'header'>] as BlockArray;
      written += fs.writeSync(fd, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
      const pad = align8(arr.byteLength) - arr.byteLength;
      if (pad > 0) written += fs.writeSync(fd, new Uint8Array(pad));
    }
  } finally {
    fs.closeSync(fd);
  }
  ds.header.blocks = blocks;
  return written;
}

/** Reads a dataset file; every problem is E_BAD_FORMAT naming the file (E_FILE_NOT_FOUND when unreadable). */
export function readDataset(file: string): CmmDataset {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new EngineError('E_FILE_NOT_FOUND', `dataset unreadable: ${(err as Error).message}`, { file });
  }
  const bad = (msg: string, offset?: number) => new EngineError('E_BAD_FORMAT', `dataset: ${msg}`, { file, offset });
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== DATASET_MAGIC) throw bad(`expected magic "${DATASET_MAGIC}" (built by cmm dataset?)`, 0);
  const H = buf.readUInt32LE(8);
  if (12 + H > buf.length) throw bad(`header length ${H} runs past the end (${buf.length} bytes)`, 8);
  let header: DatasetHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + H)) as DatasetHeader;
  } catch (err) {
    throw bad(`header is not JSON: ${(err as Error).message}`, 12);
  }
  if (header.format !== DATASET_FORMAT || header.version !== DATASET_VERSION) {
    throw bad(`expected format ${DATASET_FORMAT} version ${DATASET_VERSION}, got ${header.format} ${header.version}`, 12);
  }
  const dataStart = 12 + H;
  const out: Partial<CmmDataset> = { header };
  for (const { name, dtype } of BLOCKS) {
    const b = header.blocks?.find((x) => x.name === name);
    if (!b || b.dtype !== dtype) throw bad(`block ${name} (${dtype}) missing from the header`, 12);
    const want = shapeOf({ header } as CmmDataset, name);
    if (b.shape.length !== want.length || b.shape.some((v, i) => v !== want[i])) throw bad(`block ${name} has shape ${b.shape}, expected ${want}`, 12);
    const Ctor = CTOR[dtype];
    const count = want.reduce((a, c) => a * c, 1);
    if (b.bytes !== count * Ctor.BYTES_PER_ELEMENT || dataStart + b.offset + b.bytes > buf.length) {
      throw bad(`block ${name} (${b.bytes} bytes at ${b.offset}) does not fit the file of ${buf.length} bytes`, dataStart + b.offset);
    }
    const arr = new Ctor(count); // aligned copy: readFileSync may hand back a pooled, unaligned Buffer
    new Uint8Array(arr.buffer).set(buf.subarray(dataStart + b.offset, dataStart + b.offset + b.bytes));
    (out as Record<string, unknown>)[name] = arr;
  }
  return out as CmmDataset;
}

/** Sample index range [start, end) of a split. */
export function splitRange(ds: CmmDataset, split: Split): { start: number; end: number } {
  const r = ds.header.splits[split];
  if (!r) throw expected(`one of ${SPLITS.join(', ')}`, 'split', split);
  return r;
}

/** Sample indices of a split (time order within each source), optionally only one regime (0 low, 1 medium, 2 high). */
export function sampleIndices(ds: CmmDataset, split: Split, regime?: number): Uint32Array {
  const { start, end } = splitRange(ds, split);
  const out: number[] = [];
  for (let i = start; i < end; i++) if (regime === undefined || ds.regime[i] === regime) out.push(i);
  return Uint32Array.from(out);
}

/** Teacher windows (B×T×F float32, raw features, the decision time last) of the given samples. */
export function teacherWindows(ds: CmmDataset, indices: ArrayLike<number>, out?: Float32Array): Float32Array {
  const T = ds.header.options.window, F = ds.header.windowFeatures.length, per = T * F;
  const w = out ?? new Float32Array(indices.length * per);
  if (w.length < indices.length * per) throw expected(`at least ${indices.length * per} floats`, 'teacherWindows out', w.length);
  for (let b = 0; b < indices.length; b++) {
    const last = ds.snapshot[indices[b]];
    w.set(ds.snapshots.subarray((last - T + 1) * F, (last + 1) * F), b * per);
  }
  return w;
}

/**
 * One split as the teacher's TeacherDataset (windows materialised: N×T×F floats). Samples of several sources
 * are merged by decision time (stable), since TeacherDataset requires non-decreasing times.
 */
export function toTeacherDataset(ds: CmmDataset, split: Split): TeacherDataset {
  const { start, end } = splitRange(ds, split);
  const idx = Array.from({ length: end - start }, (_, i) => start + i).sort((a, b) => ds.time[a] - ds.time[b] || a - b);
  const K = ds.header.tasks.length;
  const targets = new Float32Array(idx.length * K);
  idx.forEach((i, b) => targets.set(ds.targets.subarray(i * K, (i + 1) * K), b * K));
  return {
    spec: { T: ds.header.options.window, F: ds.header.windowFeatures.length, features: [...ds.header.windowFeatures] },
    windows: teacherWindows(ds, idx),
    targets,
    times: Float64Array.from(idx, (i) => ds.time[i]),
  };
}

/** Student inputs of the given samples standardised with the stored training statistics (B×Fx float32). */
export function standardisedX(ds: CmmDataset, indices: ArrayLike<number>): Float32Array {
  const { mean, std } = ds.header.normalisation.x;
  const P = mean.length;
  const out = new Float32Array(indices.length * P);
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b];
    for (let j = 0; j < P; j++) out[b * P + j] = (ds.x[i * P + j] - mean[j]) / std[j];
  }
  return out;
}
