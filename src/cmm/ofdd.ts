// OFDD (../shared/design/cmm.md): per cell (task k, regime r) the teacher layer(s) l*(k,r), the feature target
// z* = P_{k,r} H_{l*} (PCA of the standardised layer on regime r's train rows, orthogonal across the tasks that
// share the layer in that regime), and one student per cell trained on regime r only; packed into a StudentBank.
//
// Orthogonalisation: within a (regime, layer) group the cells are ordered by fluorescence F(l,k,r) (then task);
// each takes the first d' principal directions of what the earlier cells left (Gram–Schmidt deflation, which
// for PCA is the next d' directions), so their targets are disjoint and uncorrelated on the train rows. The
// components of z* are divided by their train std (unit variance), so α weighs every component like the target.
import { EngineError, expected } from '../errors';
import type { StudentBankSpec } from '../moe/student-bank';
import { REGIME_QUANTILES, quantileSorted, regimeOf } from './dataset';
import { CmmDataset, sampleIndices, teacherWindows } from './dataset-file';
import { fitPca, gramSchmidt } from './pca';
import type { ProbeResult } from './probe';
import { DEFAULT_STUDENT_TRAINING, StudentShape, StudentData, TrainedStudent, studentPredict, trainStudent } from './student-train';
import type { Teacher } from './teacher/teacher';

/** Teacher outputs for every dataset sample (rows not computed are NaN). */
export interface TeacherFeatures {
  /** One N×d array per layer, row = dataset sample index. */
  hidden: Float32Array[];
  d: number;
  /** N×3 heads (mid, spread, volume), NaN where the teacher has none. */
  heads: Float32Array;
}

/** Runs the teacher over the given samples (default: all) in batches. */
export async function computeTeacherFeatures(
  ds: CmmDataset, teacher: Teacher, rows?: ArrayLike<number>, opts: { batch?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<TeacherFeatures> {
  const h = ds.header, T = h.options.window, F = h.windowFeatures.length;
  if (teacher.inputSpec.T !== T || teacher.inputSpec.F !== F) throw expected(`a teacher reading ${T}×${F} windows (the dataset's)`, 'teacher', `${teacher.inputSpec.T}×${teacher.inputSpec.F}`);
  const N = h.samples, d = teacher.hiddenSize, L = teacher.layers;
  const idx = rows ?? Uint32Array.from({ length: N }, (_, i) => i);
  const hidden = Array.from({ length: L }, () => new Float32Array(N * d).fill(NaN));
  const heads = new Float32Array(N * 3).fill(NaN);
  const batch = opts.batch ?? 512, per = T * F;
  const windows = new Float32Array(batch * per);
  const sub = new Uint32Array(batch);
  for (let s = 0; s < idx.length; s += batch) {
    const B = Math.min(batch, idx.length - s);
    for (let b = 0; b < B; b++) sub[b] = idx[s + b];
    const w = teacherWindows(ds, sub.subarray(0, B), windows).subarray(0, B * per);
    const out = await teacher.run(w, B);
    for (let b = 0; b < B; b++) {
      const i = sub[b];
      out.hidden.forEach((hl, l) => hidden[l].set(hl.subarray(b * d, (b + 1) * d), i * d));
      heads.set(out.heads.subarray(b * 3, b * 3 + 3), i * 3);
    }
    opts.onProgress?.(s + B, idx.length);
  }
  return { hidden, d, heads };
}

/** Layers per cell, best first: layers[k][r]; with the fluorescence used to order tasks sharing a layer. */
export interface LayerRanking {
  layers: number[][][];
  fluorescence: number[][][];
  source: string;
  /** The probe the ranking came from, when it was computed here. */
  probe?: ProbeResult;
  /** Fallbacks taken. */
  notes?: string[];
}

/**
 * Ranks layers per (task, regime) by the probe's R² (equivalently fluorescence, which is monotone in R² where it
 * is not clipped). A cell with no defined R² on any layer (a missing probe cell, or a target constant on the
 * scoring rows) throws E_INVALID_ARG naming it, unless `fallback` is set: then it takes the ranking by the task's
 * mean R² over the regimes where it is defined (and `notes` says so).
 */
export function rankLayers(
  probe: Pick<ProbeResult, 'r2' | 'fluorescence' | 'tasks' | 'regimes'>, tasks: readonly string[], regimes: readonly string[], layers: number, source: string,
  fallback = false,
): LayerRanking {
  if (!Array.isArray(probe.r2) || probe.r2.length !== layers) throw expected(`probe R² for ${layers} teacher layers`, 'probe', Array.isArray(probe.r2) ? probe.r2.length : probe.r2);
  if (JSON.stringify(probe.tasks) !== JSON.stringify(tasks)) throw expected(`probe tasks [${tasks.join(', ')}]`, 'probe', `[${probe.tasks}]`);
  if (JSON.stringify(probe.regimes) !== JSON.stringify(regimes)) throw expected(`probe regimes [${regimes.join(', ')}]`, 'probe', `[${probe.regimes}]`);
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
  const rank = (score: number[]) => score.map((_, l) => l).filter((l) => Number.isFinite(score[l])).sort((a, b) => score[b] - score[a] || a - b);
  const out: number[][][] = [], fl: number[][][] = [], notes: string[] = [];
  tasks.forEach((task, k) => {
    out.push([]);
    fl.push([]);
    regimes.forEach((reg, r) => {
      let order = rank(Array.from({ length: layers }, (_, l) => num(probe.r2[l]?.[k]?.[r])));
      if (order.length === 0 && fallback) {
        order = rank(Array.from({ length: layers }, (_, l) => {
          const v = regimes.map((_, j) => num(probe.r2[l]?.[k]?.[j])).filter(Number.isFinite);
          return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
        }));
        if (order.length > 0) notes.push(`${task}/${reg}: no defined probe R² (constant target or too few rows); layers ranked by ${task}'s mean R² over the other regimes`);
      }
      if (order.length === 0) throw new EngineError('E_INVALID_ARG', `probe cell ${task}/${reg} has no defined R² on any layer (missing or too few rows): cannot pick l*(${task}, ${reg})`);
      out[k].push(order);
      fl[k].push(Array.from({ length: layers }, (_, l) => num(probe.fluorescence?.[l]?.[k]?.[r])));
    });
  });
  return { layers: out, fluorescence: fl, source, notes };
}

/** One OFDD cell's feature target: z* = ((P (h − mean)/std) − zMean) / zStd, P = `basis` (rows × d). */
export interface FeatureTargetCell {
  task: number;
  regime: number;
  /** 0 = the best layer of the cell, 1 = the second (top-n), ... */
  rank: number;
  layer: number;
  hMean: Float64Array;
  hStd: Float64Array;
  /** rows×d orthonormal directions (rows <= d'; missing rows give a zero target). */
  basis: Float64Array;
  rows: number;
  zMean: Float64Array;
  zStd: Float64Array;
  /** Share of the standardised layer's variance along each direction (train rows of the regime). */
  explained: number[];
  /** Cells of other tasks whose directions were removed first (same regime and layer). */
  after: { task: number; rank: number }[];
}

export interface CellRef {
  task: number;
  regime: number;
  rank: number;
  layer: number;
}

/** Standardiser (float64) of layer rows. */
function layerStats(H: Float32Array, d: number, rows: ArrayLike<number>): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(d), m2 = new Float64Array(d);
  let n = 0;
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * d;
    n++;
    for (let j = 0; j < d; j++) {
      const v = H[o + j], dv = v - mean[j];
      mean[j] += dv / n;
      m2[j] += dv * (v - mean[j]);
    }
  }
  const std = Float64Array.from(m2, (v) => {
    const s = n > 1 ? Math.sqrt(v / (n - 1)) : 0;
    return s > 1e-12 ? s : 1;
  });
  return { mean, std };
}

/**
 * Fits every cell's feature target on the train rows of its regime (trainByRegime[r] = sample indices). Within a
 * (regime, layer) group cells are ordered by fluorescence (higher first), then task, then rank. unitVariance false
 * keeps z* = P h_std as cmm.md writes it (component variance = its eigenvalue) instead of dividing by its std.
 */
export function fitFeatureTargets(
  tf: TeacherFeatures, cells: CellRef[], trainByRegime: ArrayLike<number>[], dPrime: number, ranking?: LayerRanking, unitVariance = true,
): FeatureTargetCell[] {
  const d = tf.d;
  if (!Number.isInteger(dPrime) || dPrime < 1 || dPrime > d) throw expected(`an integer 1..${d} (the teacher width)`, "d'", dPrime);
  const out = new Map<CellRef, FeatureTargetCell>();
  const groups = new Map<string, CellRef[]>();
  for (const c of cells) {
    if (!(c.layer >= 0 && c.layer < tf.hidden.length)) throw expected(`a layer in [0, ${tf.hidden.length})`, `layer of cell ${c.task}/${c.regime}`, c.layer);
    const key = `${c.regime}/${c.layer}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const group of groups.values()) {
    const { regime, layer } = group[0];
    const rows = trainByRegime[regime];
    if (!rows || rows.length < 2) throw new EngineError('E_INVALID_ARG', `regime ${regime} has ${rows?.length ?? 0} training rows: at least 2 are needed to fit its feature targets`);
    const H = tf.hidden[layer];
    for (let r = 0; r < rows.length; r++) if (!Number.isFinite(H[rows[r] * d])) throw new EngineError('E_INVALID_ARG', `teacher layer ${layer} has no hidden state for training sample ${rows[r]}`);
    const prio = (c: CellRef): number => ranking?.fluorescence[c.task]?.[c.regime]?.[layer] ?? 0;
    group.sort((a, b) => (Number.isFinite(prio(b)) ? prio(b) : 0) - (Number.isFinite(prio(a)) ? prio(a) : 0) || a.task - b.task || a.rank - b.rank);
    const { mean, std } = layerStats(H, d, rows);
    const Z = new Float64Array(rows.length * d);
    for (let r = 0; r < rows.length; r++) for (let j = 0; j < d; j++) Z[r * d + j] = (H[rows[r] * d + j] - mean[j]) / std[j];
    const k = Math.min(d, dPrime * group.length);
    const pca = fitPca(Z, d, k);
    const raw = group.map((_, g) => pca.components.slice(Math.min(k, g * dPrime) * d, Math.min(k, (g + 1) * dPrime) * d));
    const bases = gramSchmidt(raw, d);
    group.forEach((c, g) => {
      const basis = bases[g], nb = basis.length / d;
      const zMean = new Float64Array(dPrime), zStd = new Float64Array(dPrime).fill(1);
      const explained: number[] = [];
      for (let q = 0; q < nb; q++) {
        let s = 0, ss = 0;
        for (let r = 0; r < rows.length; r++) {
          let v = 0;
          for (let j = 0; j < d; j++) v += basis[q * d + j] * Z[r * d + j];
          s += v;
          ss += v * v;
        }
        const m = s / rows.length, varz = Math.max(0, ss / rows.length - m * m);
        zMean[q] = m;
        zStd[q] = unitVariance && varz > 1e-12 ? Math.sqrt(varz) : 1; // raw: z* = P h_std (variance = eigenvalue)
        explained.push(varz / d);
      }
      out.set(c, {
        task: c.task, regime, rank: c.rank, layer, hMean: mean, hStd: std, basis, rows: nb, zMean, zStd, explained,
        after: group.slice(0, g).map((x) => ({ task: x.task, rank: x.rank })),
      });
    });
  }
  return cells.map((c) => out.get(c)!);
}

/** z* (n×d', float32, standardised; zero beyond cell.rows) of the given samples. */
export function featureTarget(cell: FeatureTargetCell, tf: TeacherFeatures, rows: ArrayLike<number>, dPrime: number): Float32Array {
  const d = tf.d, H = tf.hidden[cell.layer];
  const out = new Float32Array(rows.length * dPrime);
  const h = new Float64Array(d);
  for (let r = 0; r < rows.length; r++) {
    for (let j = 0; j < d; j++) h[j] = (H[rows[r] * d + j] - cell.hMean[j]) / cell.hStd[j];
    for (let q = 0; q < cell.rows; q++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += cell.basis[q * d + j] * h[j];
      out[r * dPrime + q] = (v - cell.zMean[q]) / cell.zStd[q];
    }
  }
  return out;
}

/** Per-source time prefix: the first `frac` of each source's train rows (train rows are source-major, time order). */
export function trainPrefix(ds: CmmDataset, frac: number): Uint32Array {
  if (!(Number.isFinite(frac) && frac > 0 && frac <= 1)) throw expected('a fraction in (0, 1]', 'data fraction', frac);
  const all = sampleIndices(ds, 'train');
  const bySource = new Map<number, number[]>();
  for (const i of all) bySource.set(ds.source[i], [...(bySource.get(ds.source[i]) ?? []), i]);
  const out: number[] = [];
  for (const rows of bySource.values()) {
    rows.sort((a, b) => ds.time[a] - ds.time[b] || a - b);
    out.push(...rows.slice(0, Math.max(1, Math.ceil(frac * rows.length - 1e-9))));
  }
  return Uint32Array.from(out.sort((a, b) => a - b));
}

/**
 * Regimes re-cut on a subset of the training rows (for --data-frac: the cut points must come from the training data
 * actually used, else a time prefix can hold almost no rows of a regime). Per source, the 33rd/66th percentiles of
 * realised vol over that source's rows in `trainRows` (pooled over all of them for a source with none). Returns a
 * shallow copy of the dataset with the new `regime` array (every split re-labelled with the new cuts) and the cuts.
 */
export function refitRegimes(ds: CmmDataset, trainRows: ArrayLike<number>): { ds: CmmDataset; cuts: [number, number][] } {
  const S = ds.header.sources.length;
  const bySource: number[][] = Array.from({ length: S }, () => []), pooled: number[] = [];
  for (let r = 0; r < trainRows.length; r++) {
    const i = trainRows[r];
    bySource[ds.source[i]]?.push(ds.rv[i]);
    pooled.push(ds.rv[i]);
  }
  const cutsOf = (v: number[]): [number, number] => {
    const sorted = Float64Array.from(v).sort();
    return [quantileSorted(sorted, REGIME_QUANTILES[0]), quantileSorted(sorted, REGIME_QUANTILES[1])];
  };
  const all = cutsOf(pooled);
  const cuts = bySource.map((v) => (v.length > 0 ? cutsOf(v) : all));
  const regime = Uint8Array.from(ds.regime, (_, i) => regimeOf(ds.rv[i], cuts[ds.source[i]] ?? all));
  return { ds: { ...ds, regime }, cuts };
}

/** Float32-representable mean and std of the student inputs over the given rows. */
export function inputNormalisation(ds: CmmDataset, rows: ArrayLike<number>): { mean: Float32Array; std: Float32Array } {
  const F = ds.header.studentFeatures.length;
  const mean = new Float64Array(F), m2 = new Float64Array(F);
  let n = 0;
  for (let r = 0; r < rows.length; r++) {
    n++;
    for (let j = 0; j < F; j++) {
      const v = ds.x[rows[r] * F + j], dv = v - mean[j];
      mean[j] += dv / n;
      m2[j] += dv * (v - mean[j]);
    }
  }
  const std = Float32Array.from(m2, (v) => {
    const s = n > 1 ? Math.sqrt(v / (n - 1)) : 0;
    return s > 1e-9 && Number.isFinite(s) ? s : 1;
  });
  return { mean: Float32Array.from(mean), std };
}

/** Standardised inputs (float32) of the given rows with a stored normalisation (same arithmetic as the bank). */
export function normalisedInputs(ds: CmmDataset, rows: ArrayLike<number>, norm: { mean: Float32Array; std: Float32Array }): Float32Array {
  const F = norm.mean.length, out = new Float32Array(rows.length * F);
  for (let r = 0; r < rows.length; r++) for (let j = 0; j < F; j++) out[r * F + j] = (ds.x[rows[r] * F + j] - norm.mean[j]) / norm.std[j];
  return out;
}

/** What one student learns from: its task's target, optionally z* and the teacher head, standardised on train. */
export interface StudentJob {
  task: number;
  /** Regime whose rows it trains on, or −1 for all regimes (plain KD, no-regime baselines). */
  regime: number;
  rank: number;
  layer: number;
  target: FeatureTargetCell | null;
  alpha: number;
  beta: number;
  seed: number;
  stream: number;
}

export interface OfddStudent {
  job: StudentJob;
  /** Target standardisation (train rows of the job): ŷ_units = ŷ_std · yStd + yMean (folded into the export). */
  yMean: number;
  yStd: number;
  trainRows: number;
  valRows: number;
  trained: TrainedStudent;
  /** Float64 weights with the target de-standardisation folded into the last layer. */
  folded: Float64Array;
}

export interface StudentTrainingContext {
  ds: CmmDataset;
  tf: TeacherFeatures | null;
  shape: StudentShape;
  norm: { mean: Float32Array; std: Float32Array };
  /** Sample indices per regime (train: possibly a time prefix), and all regimes together. */
  train: Uint32Array[];
  val: Uint32Array[];
  trainAll: Uint32Array;
  valAll: Uint32Array;
  training?: Partial<typeof DEFAULT_STUDENT_TRAINING>;
}

/** Trains one student (a regime's rows, or all rows when job.regime = −1) and folds its target scale. */
export function trainJob(ctx: StudentTrainingContext, job: StudentJob): OfddStudent {
  const { ds, shape } = ctx, K = ds.header.tasks.length, k = job.task, Z = shape.outputs - 1;
  const trainRows = job.regime < 0 ? ctx.trainAll : ctx.train[job.regime];
  const valRows = job.regime < 0 ? ctx.valAll : ctx.val[job.regime];
  if (!trainRows || trainRows.length === 0) {
    throw new EngineError('E_INVALID_ARG', `regime ${ds.header.regimes[job.regime] ?? job.regime} has no training rows: cannot train its ${ds.header.tasks[k]} student`);
  }
  let s = 0, ss = 0;
  for (const i of trainRows) s += ds.targets[i * K + k];
  const yMean = s / trainRows.length;
  for (const i of trainRows) ss += (ds.targets[i * K + k] - yMean) ** 2;
  const sd = trainRows.length > 1 ? Math.sqrt(ss / (trainRows.length - 1)) : 0;
  const yStd = sd > 1e-9 ? sd : 1;
  const data = (rows: Uint32Array, withTeacher: boolean): StudentData => {
    const y = Float32Array.from(rows, (i) => (ds.targets[i * K + k] - yMean) / yStd);
    const d: StudentData = { n: rows.length, x: normalisedInputs(ds, rows, ctx.norm), y };
    if (withTeacher && job.alpha > 0 && job.target && ctx.tf) d.z = featureTarget(job.target, ctx.tf, rows, Z);
    if (withTeacher && job.beta > 0 && ctx.tf) d.head = Float32Array.from(rows, (i) => (ctx.tf!.heads[i * 3 + k] - yMean) / yStd);
    return d;
  };
  if ((job.alpha > 0 && !job.target) || ((job.alpha > 0 || job.beta > 0) && !ctx.tf)) {
    throw new EngineError('E_INVALID_ARG', `student ${ds.header.tasks[k]}/${job.regime}: α or β > 0 needs teacher features and a feature target`);
  }
  const trained = trainStudent(shape, data(trainRows, true), data(valRows, true), { ...ctx.training, alpha: job.alpha, beta: job.beta, seed: job.seed, stream: job.stream });
  return { job, yMean, yStd, trainRows: trainRows.length, valRows: valRows.length, trained, folded: foldTarget(shape, trained.weights, yMean, yStd) };
}

/** Copies weights, scaling the last output (ŷ) by yStd and shifting it by yMean. */
export function foldTarget(shape: StudentShape, w: Float64Array, yMean: number, yStd: number): Float64Array {
  const out = Float64Array.from(w), O = shape.outputs;
  const fin = shape.hidden.length > 0 ? shape.hidden[shape.hidden.length - 1] : shape.inputs;
  const wOff = out.length - (fin * O + O), bOff = out.length - O;
  for (let i = 0; i < fin; i++) out[wOff + i * O + O - 1] *= yStd;
  out[bOff + O - 1] = out[bOff + O - 1] * yStd + yMean;
  return out;
}

/** Packs students (task-major order as given) into one StudentBankSpec with the input normalisation. */
export function packStudentBank(students: OfddStudent[], shape: StudentShape, norm: { mean: Float32Array; std: Float32Array }): StudentBankSpec {
  const F = shape.inputs, per = students[0]?.folded.length ?? 0;
  const weights = new Float32Array(2 * F + per * students.length);
  weights.set(norm.mean, 0);
  weights.set(norm.std, F);
  students.forEach((s, i) => weights.set(s.folded, 2 * F + i * per));
  return { students: students.length, inputs: F, hidden: [...shape.hidden], outputs: shape.outputs, activation: 'tanh', normalize: true, weights };
}

/**
 * The trainer's forward pass of a packed bank on RAW inputs (n×F): float64 arithmetic on the stored float32
 * normalisation and weights. Returns n×(S·O), the layout of the ONNX output `students`.
 */
export function bankForward(spec: StudentBankSpec, x: Float32Array, n: number): Float64Array {
  const F = spec.inputs, O = spec.outputs, S = spec.students;
  const shape: StudentShape = { inputs: F, hidden: spec.hidden, outputs: O };
  const xs = new Float64Array(n * F);
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) xs[i * F + j] = (x[i * F + j] - spec.weights[j]) / spec.weights[F + j];
  const per = (spec.weights.length - 2 * F) / S;
  const out = new Float64Array(n * S * O);
  for (let s = 0; s < S; s++) {
    const y = studentPredict(shape, spec.weights.subarray(2 * F + s * per, 2 * F + (s + 1) * per), xs, n);
    for (let i = 0; i < n; i++) for (let o = 0; o < O; o++) out[i * S * O + s * O + o] = y[i * O + o];
  }
  return out;
}
