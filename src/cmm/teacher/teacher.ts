// The teacher interface of CMM (docs: ../shared/design/cmm.md, "Teacher"): anything that maps a market
// window to L layers of hidden states (last position) plus three task heads. Also the dataset shape it trains on.
import { EngineError, expected } from '../../errors';

/** Task heads, in this order, in every `heads` array (B×3). */
export const TEACHER_TASKS = ['mid', 'spread', 'volume'] as const;
export type TeacherTask = (typeof TEACHER_TASKS)[number];

/** What a teacher reads: windows of T snapshots × F features, raw (each teacher normalises itself). */
export interface TeacherInputSpec {
  /** Snapshots per window (the last one is the decision time). */
  T: number;
  /** Features per snapshot. */
  F: number;
  /** F feature names, in column order. */
  features: string[];
}

export interface TeacherOutput {
  /** One B×d_l array per layer (hidden state at the last position), layer 0 = closest to the input. */
  hidden: Float32Array[];
  /** B×3, row-major: mid change (ticks), mean spread (ticks), log1p volume. NaN where a teacher has no head. */
  heads: Float32Array;
}

export interface Teacher {
  readonly name: string;
  readonly layers: number;
  /** d of every hidden state (all layers share it). */
  readonly hiddenSize: number;
  readonly inputSpec: TeacherInputSpec;
  /** Runs B windows (B×T×F, row-major, raw features). */
  run(windows: Float32Array, B: number): Promise<TeacherOutput>;
  /** Releases sessions or tensors; the teacher is unusable afterwards. */
  dispose?(): Promise<void> | void;
}

/**
 * Training data as plain typed arrays, in time order (the dataset builder produces this).
 * windows: N×T×F raw features; targets: N×3 (mid, spread, volume, as TEACHER_TASKS); times: N decision
 * times (any monotone unit, ns or s), used for the later-time-slice validation split.
 */
export interface TeacherDataset {
  spec: TeacherInputSpec;
  windows: Float32Array;
  targets: Float32Array;
  times: Float64Array;
}

/** Number of windows in a dataset, after checking every array's length against the spec. */
export function checkDataset(ds: TeacherDataset, what = 'teacher dataset'): number {
  checkSpec(ds.spec);
  const N = ds.times.length;
  const per = ds.spec.T * ds.spec.F;
  if (ds.windows.length !== N * per) throw expected(`windows of ${N}×${ds.spec.T}×${ds.spec.F} = ${N * per} floats`, what, ds.windows.length);
  if (ds.targets.length !== N * 3) throw expected(`targets of ${N}×3 = ${N * 3} floats`, what, ds.targets.length);
  for (let i = 1; i < N; i++) {
    if (!(ds.times[i] >= ds.times[i - 1])) throw expected('non-decreasing times', what, `times[${i}] = ${ds.times[i]} after ${ds.times[i - 1]}`);
  }
  return N;
}

export function checkSpec(spec: TeacherInputSpec): void {
  if (!Number.isInteger(spec.T) || spec.T < 1) throw expected('a positive integer', 'spec.T', spec.T);
  if (!Number.isInteger(spec.F) || spec.F < 1) throw expected('a positive integer', 'spec.F', spec.F);
  if (spec.features.length !== spec.F) throw expected(`${spec.F} feature names`, 'spec.features', spec.features.length);
}

/** Checks a run() call's windows against a teacher's spec. */
export function checkWindows(spec: TeacherInputSpec, windows: Float32Array, B: number): void {
  if (!Number.isInteger(B) || B < 0) throw expected('a non-negative integer', 'B', B);
  if (windows.length !== B * spec.T * spec.F) {
    throw expected(`${B}×${spec.T}×${spec.F} = ${B * spec.T * spec.F} floats`, 'windows', windows.length);
  }
}

/** Rows [start, end) of a dataset, sharing memory with it. */
export function sliceDataset(ds: TeacherDataset, start: number, end: number): TeacherDataset {
  const per = ds.spec.T * ds.spec.F;
  return {
    spec: ds.spec,
    windows: ds.windows.subarray(start * per, end * per),
    targets: ds.targets.subarray(start * 3, end * 3),
    times: ds.times.subarray(start, end),
  };
}

/** Per-task mean squared error and R² of predicted heads against targets (N×3 each); NaN rows skipped. */
export interface TeacherScores {
  n: number;
  mse: Record<TeacherTask, number>;
  r2: Record<TeacherTask, number>;
}

export function scoreHeads(heads: Float32Array, targets: Float32Array): TeacherScores {
  if (heads.length !== targets.length || heads.length % 3 !== 0) {
    throw new EngineError('E_INVALID_ARG', `expected heads and targets of equal N×3 length, got ${heads.length} and ${targets.length}`);
  }
  const N = targets.length / 3;
  const mse = {} as Record<TeacherTask, number>;
  const r2 = {} as Record<TeacherTask, number>;
  let used = 0;
  TEACHER_TASKS.forEach((task, k) => {
    let n = 0, sum = 0, sumSq = 0, err = 0;
    for (let i = 0; i < N; i++) {
      const y = targets[i * 3 + k], p = heads[i * 3 + k];
      if (!Number.isFinite(y) || !Number.isFinite(p)) continue;
      n++; sum += y; sumSq += y * y; err += (p - y) * (p - y);
    }
    const variance = n > 0 ? sumSq / n - (sum / n) ** 2 : NaN;
    mse[task] = n > 0 ? err / n : NaN;
    r2[task] = n > 0 && variance > 0 ? 1 - err / n / variance : NaN;
    used = Math.max(used, n);
  });
  return { n: used, mse, r2 };
}

/** Runs a teacher over N windows in chunks of `batch`, concatenating outputs. */
export async function runInChunks(teacher: Teacher, windows: Float32Array, N: number, batch = 256): Promise<TeacherOutput> {
  checkWindows(teacher.inputSpec, windows, N);
  const per = teacher.inputSpec.T * teacher.inputSpec.F;
  const d = teacher.hiddenSize;
  const hidden = Array.from({ length: teacher.layers }, () => new Float32Array(N * d));
  const heads = new Float32Array(N * 3);
  for (let s = 0; s < N; s += batch) {
    const e = Math.min(N, s + batch);
    const out = await teacher.run(windows.subarray(s * per, e * per), e - s);
    out.hidden.forEach((h, l) => hidden[l].set(h, s * d));
    heads.set(out.heads, s * 3);
  }
  return { hidden, heads };
}
