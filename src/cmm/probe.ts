// The normalized fluorescent probe (../shared/design/cmm.md): for each teacher layer l, task k and regime r, a
// ridge probe from the standardised hidden state H_l to y_k fitted on regime r's train rows and scored (R²) on its
// test rows, against a baseline B(k,r) of the same probe on the raw inputs; F = (R² − B)/(max_l R² − B) in [0,1].
import { expected } from '../errors';
import { CmmDataset, sampleIndices } from './dataset-file';
import { teacherWindows } from './dataset-file';
import { DEFAULT_RIDGE_ALPHAS, GramStats, Matrix, Standardiser, accumulateGram, fitStandardiser, r2FromGram, ridgeCV } from './ridge';
import type { Teacher } from './teacher/teacher';

export const FLUORESCENCE_DEFINITION =
  'F(l,k,r) = (R2(l,k,r) - B(k,r)) / (max_l R2(l,k,r) - B(k,r)), clipped to [0,1]; F = 0 for every layer when max_l R2 <= B (degenerate).';

/** Everything the probe needs, as plain arrays over N rows. */
export interface ProbeInput {
  /** One N×d matrix per layer (layer 0 closest to the input). */
  layers: Matrix[];
  d: number;
  /** The raw inputs the baseline probe reads (N×baselineWidth). */
  baseline: Matrix;
  baselineWidth: number;
  /** N×K targets, K = tasks.length. */
  targets: Matrix;
  tasks: string[];
  /** Regime index per row (0..regimes.length − 1). */
  regime: ArrayLike<number>;
  regimes: string[];
  /** Row indices of the train and test splits; train rows in time order within each group. */
  train: ArrayLike<number>;
  test: ArrayLike<number>;
  /** Source (instrument) of each row: the λ-validation slice is the later part of each source's train rows. */
  group?: ArrayLike<number>;
}

export interface ProbeOptions {
  /** Ridge per-sample penalties tried (λ = alpha · n). */
  alphas?: number[];
  /** Later fraction of each source's train rows (per regime) used to choose λ (default 0.2). */
  validationFraction?: number;
  /** Fewer train / test rows in a cell than this gives R² = NaN (defaults 30 / 10). */
  minTrain?: number;
  minTest?: number;
}

export interface ProbeResult {
  teacher: string;
  baselineInput: string;
  definition: string;
  layers: number;
  d: number;
  tasks: string[];
  regimes: string[];
  /** Test R² of the probe on each layer: r2[l][k][r] (null in JSON when undefined). */
  r2: number[][][];
  /** Test R² of the baseline probe: baseline[k][r]. */
  baseline: number[][];
  fluorescence: number[][][];
  /** l*(k,r) = argmax_l F (= argmax_l R²); −1 when no layer has a defined R². */
  picks: number[][];
  /** max_l R² <= B(k,r): no layer adds to the inputs, F = 0 everywhere. */
  degenerate: boolean[][];
  /** Rows per cell: samples[k][r] = { train, test } (after dropping non-finite rows). */
  samples: { train: number; test: number }[][];
  /** Chosen ridge alphas: layers[l][k][r], baseline[k][r]. */
  alphas: { layers: number[][][]; baseline: number[][] };
  /** Test R² of the teacher's own heads per task and regime (NaN where it has none). */
  teacherHeadsR2?: number[][];
  notes: string[];
}

/** Normalised fluorescence from R² (r2[l][k][r]) and baselines (baseline[k][r]). */
export function fluorescence(r2: number[][][], baseline: number[][]): { fluorescence: number[][][]; picks: number[][]; degenerate: boolean[][] } {
  const L = r2.length, K = baseline.length, R = K > 0 ? baseline[0].length : 0;
  const F = r2.map((byTask) => byTask.map((byRegime) => byRegime.map(() => NaN)));
  const picks = baseline.map((row) => row.map(() => -1));
  const degenerate = baseline.map((row) => row.map(() => false));
  for (let k = 0; k < K; k++) {
    for (let r = 0; r < R; r++) {
      let best = -1;
      for (let l = 0; l < L; l++) if (Number.isFinite(r2[l][k][r]) && (best < 0 || r2[l][k][r] > r2[best][k][r])) best = l;
      picks[k][r] = best;
      const B = baseline[k][r];
      if (best < 0 || !Number.isFinite(B)) continue;
      const top = r2[best][k][r];
      if (top <= B) {
        degenerate[k][r] = true;
        for (let l = 0; l < L; l++) F[l][k][r] = Number.isFinite(r2[l][k][r]) ? 0 : NaN;
        continue;
      }
      for (let l = 0; l < L; l++) {
        const v = (r2[l][k][r] - B) / (top - B);
        F[l][k][r] = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : NaN;
      }
    }
  }
  return { fluorescence: F, picks, degenerate };
}

/** Train rows of one regime split into the fit part and the later λ-validation part of each group. */
function fitValRows(train: ArrayLike<number>, regimeOf: ArrayLike<number>, r: number, group: ArrayLike<number> | undefined, vf: number): { fit: number[]; val: number[] } {
  const byGroup = new Map<number, number[]>();
  for (let i = 0; i < train.length; i++) {
    const row = train[i];
    if (regimeOf[row] !== r) continue;
    const g = group ? group[row] : 0;
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(row);
  }
  const fit: number[] = [], val: number[] = [];
  for (const rows of byGroup.values()) {
    const cut = Math.round(rows.length * (1 - vf));
    fit.push(...rows.slice(0, cut));
    val.push(...rows.slice(cut));
  }
  return { fit, val };
}

/** One design matrix: test R² and chosen alpha per [task][regime], and samples per [task][regime]. */
function probeMatrix(X: Matrix, p: number, input: ProbeInput, std: Standardiser, o: Required<ProbeOptions>) {
  const K = input.tasks.length, R = input.regimes.length;
  const r2 = input.tasks.map(() => input.regimes.map(() => NaN));
  const alpha = input.tasks.map(() => input.regimes.map(() => NaN));
  const samples = input.tasks.map(() => input.regimes.map(() => ({ train: 0, test: 0 })));
  const testRows = input.regimes.map(() => [] as number[]);
  for (let i = 0; i < input.test.length; i++) testRows[input.regime[input.test[i]]]?.push(input.test[i]);
  for (let r = 0; r < R; r++) {
    const { fit, val } = fitValRows(input.train, input.regime, r, input.group, o.validationFraction);
    const gFit = accumulateGram(X, p, input.targets, K, fit, std).stats;
    const gVal = accumulateGram(X, p, input.targets, K, val, std).stats;
    const gTest = accumulateGram(X, p, input.targets, K, testRows[r], std).stats;
    for (let k = 0; k < K; k++) samples[k][r] = { train: gFit.n + gVal.n, test: gTest.n };
    if (gFit.n + gVal.n < o.minTrain || gTest.n < o.minTest || gFit.n < 2) continue;
    const cv = ridgeCV(gFit, gVal.n >= 2 ? gVal : new GramStats(p, K), o.alphas);
    for (let k = 0; k < K; k++) {
      r2[k][r] = r2FromGram(gTest, k, cv.weights.subarray(k * p, (k + 1) * p), cv.intercepts[k]);
      alpha[k][r] = cv.alphas[k];
    }
  }
  return { r2, alpha, samples };
}

function resolve(o: ProbeOptions): Required<ProbeOptions> {
  const r = { alphas: o.alphas ?? DEFAULT_RIDGE_ALPHAS, validationFraction: o.validationFraction ?? 0.2, minTrain: o.minTrain ?? 30, minTest: o.minTest ?? 10 };
  if (!(r.validationFraction > 0 && r.validationFraction < 1)) throw expected('a fraction in (0, 1)', 'validationFraction', r.validationFraction);
  for (const k of ['minTrain', 'minTest'] as const) if (!Number.isInteger(r[k]) || r[k] < 2) throw expected('an integer >= 2', k, r[k]);
  return r;
}

/** Runs the probe on plain arrays (every layer, the baseline, fluorescence). */
export function probeArrays(input: ProbeInput, options: ProbeOptions = {}, labels: { teacher?: string; baselineInput?: string } = {}): ProbeResult {
  const o = resolve(options);
  const { d, baselineWidth: pb, tasks, regimes } = input;
  const N = input.regime.length;
  if (input.targets.length !== N * tasks.length) throw expected(`${N}×${tasks.length} targets`, 'probe targets', input.targets.length);
  if (input.baseline.length !== N * pb) throw expected(`${N}×${pb} baseline inputs`, 'probe baseline', input.baseline.length);
  input.layers.forEach((h, l) => {
    if (h.length !== N * d) throw expected(`${N}×${d} values`, `probe layer ${l}`, h.length);
  });
  const notes: string[] = [];
  const runOne = (X: Matrix, p: number) => probeMatrix(X, p, input, fitStandardiser(X, p, input.train), o);
  const perLayer = input.layers.map((h) => runOne(h, d));
  const base = runOne(input.baseline, pb);
  const r2 = perLayer.map((x) => x.r2);
  const f = fluorescence(r2, base.r2);
  tasks.forEach((task, k) => regimes.forEach((reg, r) => {
    const s = base.samples[k][r];
    if (!Number.isFinite(base.r2[k][r])) notes.push(`${task}/${reg}: too few rows (train ${s.train}, test ${s.test}; need ${o.minTrain} / ${o.minTest}) or a constant target: R² undefined`);
    else if (f.degenerate[k][r]) notes.push(`${task}/${reg}: no layer beats the baseline (max R² ${Math.max(...r2.map((x) => x[k][r]).filter(Number.isFinite)).toFixed(4)} <= B ${base.r2[k][r].toFixed(4)}): F = 0`);
  }));
  return {
    teacher: labels.teacher ?? 'teacher', baselineInput: labels.baselineInput ?? `raw inputs (${pb} columns)`, definition: FLUORESCENCE_DEFINITION,
    layers: input.layers.length, d, tasks: [...tasks], regimes: [...regimes], r2, baseline: base.r2, fluorescence: f.fluorescence, picks: f.picks,
    degenerate: f.degenerate, samples: base.samples, alphas: { layers: perLayer.map((x) => x.alpha), baseline: base.alpha }, notes,
  };
}

export interface ProbeTeacherOptions extends ProbeOptions {
  /**
   * What the baseline reads: 'window' (default) = the flattened teacher window (T×F raw snapshot features, the
   * teacher's whole input, which contains x_t as its last row); 'student' = the student vector x_t only.
   */
  baseline?: 'window' | 'student';
  /** At most this many rows per split (evenly spaced in time order); default all. */
  maxPerSplit?: number;
  /** Windows per teacher call (default 256). */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

function thin(idx: Uint32Array, max: number | undefined): Uint32Array {
  if (max === undefined || idx.length <= max) return idx;
  return Uint32Array.from({ length: max }, (_, i) => idx[Math.floor((i * idx.length) / max)]);
}

/** Runs `teacher` over the dataset's train and test samples and probes every layer, task and regime. */
export async function probeTeacher(ds: CmmDataset, teacher: Teacher, options: ProbeTeacherOptions = {}): Promise<ProbeResult> {
  const h = ds.header, T = h.options.window, F = h.windowFeatures.length;
  const spec = teacher.inputSpec;
  if (spec.T !== T || spec.F !== F) throw expected(`a teacher reading ${T}×${F} windows (the dataset's)`, 'probe teacher', `${spec.T}×${spec.F}`);
  if (spec.features.some((name, j) => name !== h.windowFeatures[j])) {
    throw expected(`teacher features [${h.windowFeatures.join(', ')}]`, 'probe teacher', `[${spec.features.join(', ')}]`);
  }
  const baselineKind = options.baseline ?? 'window';
  if (baselineKind !== 'window' && baselineKind !== 'student') throw expected("'window' or 'student'", 'baseline', baselineKind);
  if (options.maxPerSplit !== undefined && (!Number.isInteger(options.maxPerSplit) || options.maxPerSplit < 1)) throw expected('a positive integer', 'maxPerSplit', options.maxPerSplit);
  const trainIdx = thin(sampleIndices(ds, 'train'), options.maxPerSplit);
  const testIdx = thin(sampleIndices(ds, 'test'), options.maxPerSplit);
  const rows = new Uint32Array(trainIdx.length + testIdx.length);
  rows.set(trainIdx);
  rows.set(testIdx, trainIdx.length);
  const N = rows.length, L = teacher.layers, d = teacher.hiddenSize, K = h.tasks.length, per = T * F;
  const layers = Array.from({ length: L }, () => new Float32Array(N * d));
  const heads = new Float32Array(N * 3);
  const pb = baselineKind === 'window' ? per : h.studentFeatures.length;
  const baseline = new Float32Array(N * pb);
  const batch = options.batch ?? 256;
  const windows = new Float32Array(batch * per);
  for (let s = 0; s < N; s += batch) {
    const e = Math.min(N, s + batch), B = e - s;
    const w = teacherWindows(ds, rows.subarray(s, e), windows).subarray(0, B * per);
    if (baselineKind === 'window') baseline.set(w, s * per);
    const out = await teacher.run(w, B);
    out.hidden.forEach((hl, l) => layers[l].set(hl.subarray(0, B * d), s * d));
    heads.set(out.heads.subarray(0, B * 3), s * 3);
    options.onProgress?.(e, N);
  }
  const targets = new Float32Array(N * K), regime = new Uint8Array(N), group = new Uint16Array(N);
  rows.forEach((i, j) => {
    targets.set(ds.targets.subarray(i * K, (i + 1) * K), j * K);
    regime[j] = ds.regime[i];
    group[j] = ds.source[i];
    if (baselineKind === 'student') baseline.set(ds.x.subarray(i * pb, (i + 1) * pb), j * pb);
  });
  const train = Uint32Array.from({ length: trainIdx.length }, (_, i) => i);
  const test = Uint32Array.from({ length: testIdx.length }, (_, i) => trainIdx.length + i);
  const result = probeArrays(
    { layers, d, baseline, baselineWidth: pb, targets, tasks: h.tasks, regime, regimes: h.regimes, train, test, group },
    options,
    {
      teacher: teacher.name,
      baselineInput: baselineKind === 'window' ? `flattened teacher window (${T}×${F} raw snapshot features, x_t included)` : `student vector x_t (${pb} features)`,
    },
  );
  result.teacherHeadsR2 = h.tasks.map((_, k) => h.regimes.map((_, r) => headR2(heads, targets, regime, test, k, r, K)));
  if (options.maxPerSplit !== undefined) result.notes.push(`at most ${options.maxPerSplit} rows per split (evenly spaced): train ${trainIdx.length}, test ${testIdx.length}`);
  return result;
}

function headR2(heads: Float32Array, targets: Float32Array, regime: Uint8Array, test: Uint32Array, k: number, r: number, K: number): number {
  let n = 0, sy = 0, syy = 0, sse = 0;
  for (const j of test) {
    if (regime[j] !== r) continue;
    const y = targets[j * K + k], p = heads[j * 3 + k];
    if (!Number.isFinite(y) || !Number.isFinite(p)) continue;
    n++; sy += y; syy += y * y; sse += (y - p) ** 2;
  }
  const sst = syy - (sy * sy) / Math.max(1, n);
  return n >= 2 && sst > 0 ? 1 - sse / sst : NaN;
}
