// `cmm distill` end to end: teacher features → layer picks → OFDD students (α, β, d', hidden chosen on VALIDATION)
// → Hájek-MoE ℓ, τ (validation) → baselines → scores on validation and TEST → models/students/{students.onnx,
// manifest.json}. distillFromFeatures is the synchronous core (teacher features given), used by tests.
import * as fs from 'fs';
import * as path from 'path';
import { EngineError, expected } from '../errors';
import { StudentBank, StudentBankSpec } from '../moe/student-bank';
import { readStudentBankOnnxFile } from '../onnx/read-weights';
import { writeStudentBankOnnx } from '../onnx/write-mlp';
import { CmmDataset, sampleIndices } from './dataset-file';
import {
  DEFAULT_MOE_GRID, MoeChoice, MoeGrid, RegressionScore, fitRidgeBaseline, predictRidgeBaseline, routedPredictions, scoreTask, studentPredictions, tuneMoe,
} from './distill-eval';
import { ManifestFile, describeFile, writeManifest } from './models';
import {
  CellRef, FeatureTargetCell, LayerRanking, OfddStudent, StudentJob, StudentTrainingContext, TeacherFeatures, fitFeatureTargets, inputNormalisation,
  computeTeacherFeatures, packStudentBank, rankLayers, refitRegimes, trainJob, trainPrefix,
} from './ofdd';
import { ProbeResult, probeArrays } from './probe';
import type { Teacher } from './teacher/teacher';
import { DEFAULT_STUDENT_TRAINING, StudentShape, studentParamCount } from './student-train';

export const STUDENTS_MANIFEST_FORMAT = 'cmm-students';
export const STUDENTS_ONNX = 'students.onnx';

export interface DistillOptions {
  /** Grids searched on validation (one value = fixed). α per task and β per task are chosen independently. */
  alphas?: number[];
  betas?: number[];
  dPrimes?: number[];
  hiddens?: number[][];
  /** Layers per cell (experts per task = regimes × topN). Default 1. */
  topN?: number;
  seed?: number;
  /** Train on the first fraction (by time, per source) of the training split. Default 1. */
  dataFrac?: number;
  /** z* components scaled to unit variance on train (default true) or raw P·h_std (cmm.md literally). */
  unitFeatureTargets?: boolean;
  /** Also train the no-distillation and plain-KD students and fit the ridge baseline. */
  baselines?: boolean;
  training?: Partial<typeof DEFAULT_STUDENT_TRAINING>;
  moeGrid?: MoeGrid;
  log?: (line: string) => void;
}

export const DEFAULT_DISTILL = { alphas: [1, 3, 10], betas: [0, 1], dPrimes: [4], hiddens: [[32, 32]], topN: 1, seed: 1, dataFrac: 1, unitFeatureTargets: true };

export type VariantName = 'moe' | 'routed' | 'bestSingle' | 'teacher' | 'noDistill' | 'plainKd' | 'ridge';
export const VARIANT_LABELS: Record<VariantName, string> = {
  moe: '(a) Hájek-MoE', routed: '(b) regime-routed', bestSingle: '(c) best single', teacher: '(d) teacher head',
  noDistill: '(e) no-distill', plainKd: '(f) plain KD', ridge: '(g) ridge raw',
};
/** scores[variant][task] on one split; per regime: byRegime[variant][task][regime]. */
export type ScoreTable = Partial<Record<VariantName, RegressionScore[]>>;

export interface SelectionRecord {
  dPrime: number;
  hidden: number[];
  alpha: number;
  beta: number;
  /** Validation R² of the regime-routed students per task. */
  validationR2: number[];
}

export interface DistillResult {
  spec: StudentBankSpec;
  shape: StudentShape;
  students: OfddStudent[];
  targets: FeatureTargetCell[];
  norm: { mean: Float32Array; std: Float32Array };
  /** Chosen hyper-parameters. */
  dPrime: number;
  hidden: number[];
  alpha: number[];
  beta: number[];
  topN: number;
  seed: number;
  dataFrac: number;
  moe: MoeChoice[];
  /** bestSingle[k] = the student index chosen on validation for task k. */
  bestSingle: number[];
  selection: SelectionRecord[];
  baselineInfo: { noDistill?: OfddStudent[]; plainKd?: OfddStudent[]; plainKdTarget?: FeatureTargetCell; ridgeAlphas?: number[] };
  scores: { validation: ScoreTable; test: ScoreTable; testByRegime: Partial<Record<VariantName, RegressionScore[][]>> };
  rows: { train: number[]; validation: number[]; test: number[] };
  seconds: { students: number; baselines: number; total: number };
  unitFeatureTargets: boolean;
  /** Per-source regime cut points re-fitted on the training prefix (dataFrac < 1), else null (the dataset's). */
  regimeCuts: [number, number][] | null;
  /** Student training options in effect (defaults merged with DistillOptions.training). */
  training: typeof DEFAULT_STUDENT_TRAINING;
  notes: string[];
}

/** Expert index inside a task: regime-major, then layer rank. */
const expertOf = (regime: number, rank: number, topN: number): number => regime * topN + rank;

function splitByRegime(ds: CmmDataset, rows: Uint32Array, R: number): Uint32Array[] {
  return Array.from({ length: R }, (_, r) => rows.filter((i) => ds.regime[i] === r));
}

function checkGrid(v: number[], what: string, ok: (x: number) => boolean, want: string): void {
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => !ok(x))) throw expected(`a non-empty list of ${want}`, what, v);
}

/** Native bank outputs (n×S·O float32) for raw inputs of the given rows. */
export function bankOutputs(spec: StudentBankSpec, ds: CmmDataset, rows: ArrayLike<number>): Float32Array {
  const F = spec.inputs, bank = new StudentBank({ ...spec, moe: undefined });
  const x = new Float32Array(rows.length * F);
  for (let r = 0; r < rows.length; r++) x.set(ds.x.subarray(rows[r] * F, (rows[r] + 1) * F), r * F);
  const out = new Float32Array(rows.length * bank.outSize);
  if (rows.length > 0) bank.runBatch(x, rows.length, out);
  return out;
}

/** MoE predictions (n×K) from the native bank with its MoE. */
export function moeOutputs(spec: StudentBankSpec, ds: CmmDataset, rows: ArrayLike<number>): Float32Array {
  const F = spec.inputs, bank = new StudentBank(spec), K = spec.moe!.tasks;
  const x = new Float32Array(rows.length * F);
  for (let r = 0; r < rows.length; r++) x.set(ds.x.subarray(rows[r] * F, (rows[r] + 1) * F), r * F);
  const out = new Float32Array(rows.length * bank.outSize);
  if (rows.length > 0) bank.runBatch(x, rows.length, out);
  const y = new Float32Array(rows.length * K);
  for (let r = 0; r < rows.length; r++) for (let k = 0; k < K; k++) y[r * K + k] = out[r * bank.outSize + bank.yOffset + k];
  return y;
}

/** The synchronous core: OFDD students, MoE and baselines from precomputed teacher features and a layer ranking. */
export function distillFromFeatures(dataset: CmmDataset, tf: TeacherFeatures, ranking: LayerRanking, options: DistillOptions = {}): DistillResult {
  const t0 = Date.now();
  let ds = dataset;
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as DistillOptions;
  const o = { ...DEFAULT_DISTILL, ...defined };
  const log = options.log ?? (() => undefined);
  checkGrid(o.alphas, 'alphas', (x) => Number.isFinite(x) && x >= 0, 'numbers >= 0');
  checkGrid(o.betas, 'betas', (x) => Number.isFinite(x) && x >= 0, 'numbers >= 0');
  checkGrid(o.dPrimes, "d'", (x) => Number.isInteger(x) && x >= 1 && x <= tf.d, `integers 1..${tf.d}`);
  if (!Array.isArray(o.hiddens) || o.hiddens.length === 0 || o.hiddens.some((h) => !Array.isArray(h) || h.some((w) => !Number.isInteger(w) || w < 1))) {
    throw expected('a non-empty list of hidden-layer width lists', 'hidden', o.hiddens);
  }
  if (!Number.isInteger(o.topN) || o.topN < 1 || o.topN > tf.hidden.length) throw expected(`an integer 1..${tf.hidden.length}`, 'top-n layers', o.topN);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw expected('a non-negative integer', 'seed', o.seed);
  const h = ds.header, K = h.tasks.length, R = h.regimes.length, F = h.studentFeatures.length, M = R * o.topN;
  if (tf.heads.length !== h.samples * 3 || tf.hidden.some((x) => x.length !== h.samples * tf.d)) throw expected(`teacher features for ${h.samples} samples`, 'teacher features', tf.heads.length / 3);
  const notes: string[] = [];

  let regimeCuts: [number, number][] | null = null;
  if (o.dataFrac < 1) ({ ds, cuts: regimeCuts } = refitRegimes(ds, trainPrefix(ds, o.dataFrac)));
  const trainAll = trainPrefix(ds, o.dataFrac), valAll = sampleIndices(ds, 'validation'), testAll = sampleIndices(ds, 'test');
  const train = splitByRegime(ds, trainAll, R), val = splitByRegime(ds, valAll, R), testR = splitByRegime(ds, testAll, R);
  const trainPerRegime = train.map((x) => x.length); // before any pooled fallback
  if (trainAll.length === 0) throw new EngineError('E_INVALID_ARG', `the dataset has no training rows${o.dataFrac < 1 ? ` in the first ${o.dataFrac} of the training split` : ''}: cannot train students`);
  // A regime with no training rows (a short or quiet recording whose volatility cut points coincide, so the middle
  // band is empty) gets students trained on every training row: a pooled fallback, recorded in the notes.
  train.forEach((rows, r) => {
    if (rows.length > 0) return;
    train[r] = trainAll;
    notes.push(`regime ${h.regimes[r]} has no training rows${o.dataFrac < 1 ? ` in the first ${o.dataFrac} of the training split` : ''}: its students are trained on every training row (pooled)`);
  });
  val.forEach((rows, r) => {
    if (rows.length === 0) notes.push(`regime ${h.regimes[r]} has no validation rows: its students stop on training loss`);
  });
  if (valAll.length === 0) throw new EngineError('E_INVALID_ARG', 'the dataset has no validation rows: hyper-parameters cannot be chosen');
  const norm = inputNormalisation(ds, trainAll);
  const ctxOf = (shape: StudentShape): StudentTrainingContext => ({ ds, tf, shape, norm, train, val, trainAll, valAll, training: o.training });

  // OFDD students over the grid; α, β per task, d' and hidden shared by the bank.
  const selection: SelectionRecord[] = [];
  let chosen: { dPrime: number; hidden: number[]; students: OfddStudent[][]; targets: FeatureTargetCell[]; alpha: number[]; beta: number[]; score: number } | null = null;
  for (const hidden of o.hiddens) {
    for (const dPrime of o.dPrimes) {
      const shape: StudentShape = { inputs: F, hidden, outputs: dPrime + 1 };
      const cells: CellRef[] = [];
      for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) for (let rank = 0; rank < o.topN; rank++) {
        const layer = ranking.layers[k][r][rank];
        if (layer === undefined) throw new EngineError('E_INVALID_ARG', `probe cell ${h.tasks[k]}/${h.regimes[r]} ranks ${ranking.layers[k][r].length} layers, fewer than top-n ${o.topN}`);
        cells.push({ task: k, regime: r, rank, layer });
      }
      const targets = fitFeatureTargets(tf, cells, train, dPrime, ranking, o.unitFeatureTargets);
      const best: { students: OfddStudent[]; alpha: number; beta: number; r2: number }[] = [];
      for (const alpha of o.alphas) for (const beta of o.betas) {
        const students = cells.map((c, i) => trainJob(ctxOf(shape), {
          task: c.task, regime: c.regime, rank: c.rank, layer: c.layer, target: targets[i], alpha, beta, seed: o.seed, stream: c.task * M + expertOf(c.regime, c.rank, o.topN),
        }));
        const spec = packStudentBank(students, shape, norm);
        const out = bankOutputs(spec, ds, valAll);
        const r2 = Array.from({ length: K }, (_, k) => scoreTask(ds, valAll, k, routedPredictions(ds, valAll, out, K * M, dPrime + 1, k, (t, r) => t * M + expertOf(r, 0, o.topN))).r2);
        selection.push({ dPrime, hidden, alpha, beta, validationR2: r2 });
        log(`ofdd d'=${dPrime} hidden=${hidden.join('x')} α=${alpha} β=${beta}: validation R² ${r2.map((v) => v.toFixed(4)).join(' / ')}`);
        for (let k = 0; k < K; k++) {
          if (!best[k] || r2[k] > best[k].r2 || !Number.isFinite(best[k].r2)) best[k] = { students: students.filter((s) => s.job.task === k), alpha, beta, r2: r2[k] };
        }
      }
      const score = best.reduce((a, b) => a + (Number.isFinite(b.r2) ? b.r2 : -1e9), 0) / K;
      if (!chosen || score > chosen.score) chosen = { dPrime, hidden, students: best.map((b) => b.students), targets, alpha: best.map((b) => b.alpha), beta: best.map((b) => b.beta), score };
    }
  }
  const c = chosen!;
  const shape: StudentShape = { inputs: F, hidden: c.hidden, outputs: c.dPrime + 1 };
  const O = shape.outputs, S = K * M;
  const students = c.students.flat();
  const spec = packStudentBank(students, shape, norm);
  const tStudents = (Date.now() - t0) / 1000;

  // Hájek-MoE parameters on validation.
  const yScale = Array.from({ length: K }, (_, k) => {
    let s = 0, ss = 0;
    for (const i of trainAll) s += ds.targets[i * K + k];
    const m = s / trainAll.length;
    for (const i of trainAll) ss += (ds.targets[i * K + k] - m) ** 2;
    return Math.sqrt(ss / Math.max(1, trainAll.length - 1)) || 1;
  });
  const valOut = bankOutputs(spec, ds, valAll);
  const tuned = tuneMoe(ds, valAll, valOut, K, M, O, yScale, o.seed * 1000 + 17, o.moeGrid ?? DEFAULT_MOE_GRID);
  spec.moe = tuned.moe;
  tuned.choices.forEach((ch) => log(`moe ${h.tasks[ch.task]}: kernel ${ch.kernel} ℓ=${ch.lengthScale} τ=${ch.tau} validation R² ${ch.validation.r2.toFixed(4)}`));

  // Best single student per task, chosen on validation.
  const bestSingle = Array.from({ length: K }, (_, k) => {
    let bs = k * M, bm = Infinity;
    for (let m = 0; m < M; m++) {
      const mse = scoreTask(ds, valAll, k, studentPredictions(valOut, valAll.length, S, O, k * M + m)).mse;
      if (mse < bm) {
        bm = mse;
        bs = k * M + m;
      }
    }
    return bs;
  });

  // Baselines.
  const t1 = Date.now();
  const info: DistillResult['baselineInfo'] = {};
  const baseSpecs: { noDistill?: StudentBankSpec; plainKd?: StudentBankSpec } = {};
  let ridge: ReturnType<typeof fitRidgeBaseline> | null = null;
  if (o.baselines) {
    info.noDistill = [];
    for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) {
      info.noDistill.push(trainJob(ctxOf(shape), { task: k, regime: r, rank: 0, layer: -1, target: null, alpha: 0, beta: 0, seed: o.seed, stream: 5000 + k * R + r }));
    }
    baseSpecs.noDistill = packStudentBank(info.noDistill, shape, norm);
    log(`baseline no-distill: ${info.noDistill.length} students`);
    // Plain KD: one student per task on all train rows, z* = top-d' PCs of the final layer (no decomposition).
    const lastLayer = tf.hidden.length - 1;
    const kdTarget = fitFeatureTargets(tf, [{ task: 0, regime: 0, rank: 0, layer: lastLayer }], [trainAll], c.dPrime, undefined, o.unitFeatureTargets)[0];
    info.plainKdTarget = kdTarget;
    info.plainKd = [];
    const kdBetas = o.betas.some((b) => b > 0) ? o.betas.filter((b) => b > 0) : [1]; // plain KD always matches the heads
    for (let k = 0; k < K; k++) {
      let best: { s: OfddStudent; mse: number } | null = null;
      for (const alpha of o.alphas) for (const beta of kdBetas) {
        const s = trainJob(ctxOf(shape), { task: k, regime: -1, rank: 0, layer: lastLayer, target: kdTarget, alpha, beta, seed: o.seed, stream: 6000 + k });
        const sp = packStudentBank([s], shape, norm);
        const mse = scoreTask(ds, valAll, k, studentPredictions(bankOutputs(sp, ds, valAll), valAll.length, 1, O, 0)).mse;
        if (!best || mse < best.mse) best = { s, mse };
      }
      info.plainKd.push(best!.s);
    }
    baseSpecs.plainKd = packStudentBank(info.plainKd, shape, norm);
    log(`baseline plain KD: α ${info.plainKd.map((s) => s.job.alpha).join('/')}, β ${info.plainKd.map((s) => s.job.beta).join('/')}`);
    ridge = fitRidgeBaseline(ds, trainAll, valAll);
    info.ridgeAlphas = ridge.alphas;
  }
  const tBaselines = (Date.now() - t1) / 1000;

  // Scores.
  const score = (rows: Uint32Array): { table: ScoreTable; preds: Partial<Record<VariantName, Float64Array[]>> } => {
    const preds: Partial<Record<VariantName, Float64Array[]>> = {};
    const n = rows.length;
    const out = bankOutputs(spec, ds, rows);
    const moeY = moeOutputs(spec, ds, rows);
    preds.moe = Array.from({ length: K }, (_, k) => Float64Array.from({ length: n }, (_, r) => moeY[r * K + k]));
    preds.routed = Array.from({ length: K }, (_, k) => routedPredictions(ds, rows, out, S, O, k, (t, r) => t * M + expertOf(r, 0, o.topN)));
    preds.bestSingle = Array.from({ length: K }, (_, k) => studentPredictions(out, n, S, O, bestSingle[k]));
    preds.teacher = Array.from({ length: K }, (_, k) => Float64Array.from(rows, (i) => tf.heads[i * 3 + k]));
    if (baseSpecs.noDistill) {
      const nd = bankOutputs(baseSpecs.noDistill, ds, rows);
      preds.noDistill = Array.from({ length: K }, (_, k) => routedPredictions(ds, rows, nd, K * R, O, k, (t, r) => t * R + r));
    }
    if (baseSpecs.plainKd) {
      const kd = bankOutputs(baseSpecs.plainKd, ds, rows);
      preds.plainKd = Array.from({ length: K }, (_, k) => studentPredictions(kd, n, K, O, k));
    }
    if (ridge) preds.ridge = Array.from({ length: K }, (_, k) => predictRidgeBaseline(ds, ridge!, rows, k));
    const table: ScoreTable = {};
    for (const [name, p] of Object.entries(preds) as [VariantName, Float64Array[]][]) {
      table[name] = p.map((pk, k) => {
        const s = scoreTask(ds, rows, k, pk);
        return { n: s.n, mse: s.mse, r2: s.r2 };
      });
    }
    return { table, preds };
  };
  const validation = score(valAll).table;
  const testScored = score(testAll);
  const testByRegime: Partial<Record<VariantName, RegressionScore[][]>> = {};
  const pos = new Map<number, number>();
  testAll.forEach((i, j) => pos.set(i, j));
  for (const [name, p] of Object.entries(testScored.preds) as [VariantName, Float64Array[]][]) {
    testByRegime[name] = p.map((pk, k) => testR.map((rows) => {
      const s = scoreTask(ds, rows, k, Float64Array.from(rows, (i) => pk[pos.get(i)!]));
      return { n: s.n, mse: s.mse, r2: s.r2 };
    }));
  }
  if (ranking.source.includes('test')) notes.push(`layer picks: ${ranking.source}`);
  notes.push(...(ranking.notes ?? []));
  return {
    spec, shape, students, targets: c.targets, norm, dPrime: c.dPrime, hidden: c.hidden, alpha: c.alpha, beta: c.beta, topN: o.topN, seed: o.seed,
    dataFrac: o.dataFrac, moe: tuned.choices, bestSingle, selection, baselineInfo: info,
    scores: { validation, test: testScored.table, testByRegime },
    rows: { train: trainPerRegime, validation: val.map((x) => x.length), test: testR.map((x) => x.length) },
    seconds: { students: tStudents, baselines: tBaselines, total: (Date.now() - t0) / 1000 },
    training: { ...DEFAULT_STUDENT_TRAINING, ...o.training },
    regimeCuts,
    unitFeatureTargets: o.unitFeatureTargets,
    notes,
  };
}

/** A plain-text table: one row per variant, R² and MSE per task. */
export function formatScoreTable(table: ScoreTable, tasks: readonly string[], title: string): string {
  const lines = [title, `${'variant'.padEnd(20)}${tasks.map((t) => `${t} R²`.padStart(12) + `${t} MSE`.padStart(14)).join('')}`];
  for (const name of Object.keys(VARIANT_LABELS) as VariantName[]) {
    const row = table[name];
    if (!row) continue;
    const fmt = (v: number, w: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a').padStart(w);
    lines.push(`${VARIANT_LABELS[name].padEnd(20)}${row.map((s) => fmt(s.r2, 12, 4) + fmt(s.mse, 14, 4)).join('')}`);
  }
  return lines.join('\n');
}

export interface StudentsManifest {
  format: typeof STUDENTS_MANIFEST_FORMAT;
  version: 1;
  createdAt: string;
  files: ManifestFile[];
  [key: string]: unknown;
}

const arr = (v: ArrayLike<number>): number[] => Array.from(v);
const moeJson = (s: StudentBankSpec) => s.moe && { tasks: s.moe.tasks, tau: s.moe.tau, rff: s.moe.rff.map((x) => [x.D, x.P, arr(x.W), arr(x.b)]) };
const rowsJson = (t: ScoreTable) => JSON.parse(JSON.stringify(t, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));

/**
 * Writes dir/students.onnx (one fused graph, MoE parameters in its metadata) and dir/manifest.json; reads the
 * ONNX back and checks the weights and MoE parameters are bit-identical to `r.spec`.
 */
export function writeStudentModels(dir: string, ds: CmmDataset, r: DistillResult, extra: { dataset: string; teacher: string; layerPicks: unknown; dataDescription?: string; datasetSha256?: string; teacherFiles?: ManifestFile[] }): StudentsManifest {
  const h = ds.header;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, STUDENTS_ONNX);
  const M = h.regimes.length * r.topN;
  writeStudentBankOnnx(file, r.spec, { style: 'per-student', metadata: { tasks: h.tasks.join(','), regimes: h.regimes.join(','), experts: String(M), features: h.studentFeatures.join(',') } });
  const back = readStudentBankOnnxFile(file).spec;
  const same = back.weights.length === r.spec.weights.length && back.weights.every((v, i) => Object.is(v, r.spec.weights[i]))
    && JSON.stringify(moeJson(back)) === JSON.stringify(moeJson(r.spec));
  if (!same) throw new EngineError('E_INTERNAL', `${file}: weights read back differ from the trained bank`);
  const studentInfo = r.students.map((s, i) => ({
    index: i, task: h.tasks[s.job.task], regime: h.regimes[s.job.regime], layer: s.job.layer, layerRank: s.job.rank, alpha: s.job.alpha, beta: s.job.beta,
    seedStream: s.job.stream, targetMean: s.yMean, targetStd: s.yStd, trainRows: s.trainRows, validationRows: s.valRows,
    bestEpoch: s.trained.bestEpoch, epochs: s.trained.epochs, validationMseStandardised: s.trained.valMse, initialValidationMseStandardised: s.trained.initialValMse,
    featureTarget: r.targets[i] && {
      layer: r.targets[i].layer, directions: r.targets[i].rows, explainedVariance: r.targets[i].explained,
      orthogonalisedAfter: r.targets[i].after.map((a) => ({ task: h.tasks[a.task], rank: a.rank })),
    },
  }));
  const manifest: StudentsManifest = {
    format: STUDENTS_MANIFEST_FORMAT, version: 1, createdAt: new Date().toISOString(),
    files: [describeFile(dir, STUDENTS_ONNX, 'onnx')],
    inputs: { name: 'x', features: h.studentFeatures, layout: 'float32 [batch, F]: raw x_t (studentVector); standardised inside the graph' },
    outputs: {
      name: 'students', tasks: h.tasks, regimes: h.regimes, experts: M,
      layout: `float32 [batch, S*O], S = ${r.spec.students} students task-major (s = task*${M} + regime*${r.topN} + layerRank), O = d'+1 = ${r.shape.outputs}: [ẑ (standardised z*), ŷ (target units)]`,
      units: { mid: 'ticks (mid change over the horizon)', spread: 'ticks (mean quoted spread)', volume: 'log1p(lots)' },
    },
    normalisation: { x: { mean: arr(r.norm.mean), std: arr(r.norm.std), fittedOn: `train split${r.dataFrac < 1 ? ` (first ${r.dataFrac} by time per source)` : ''}` }, targets: 'per student, folded into the last layer (targetMean/targetStd below)' },
    regimeCuts: {
      feature: 'realisedVol', quantiles: h.regimeCuts.quantiles, scope: r.regimeCuts ? 'source' : h.regimeCuts.scope, pooled: r.regimeCuts ? null : h.regimeCuts.pooled,
      fittedOn: r.regimeCuts ? `train prefix (first ${r.dataFrac} by time per source)` : 'train',
      perSource: h.sources.map((s, i) => ({ file: s.file, instrument: s.instrument.symbol, cuts: r.regimeCuts ? r.regimeCuts[i] : s.regimeCuts })),
    },
    ofdd: {
      method: `../shared/design/cmm.md OFDD; z* per cell from the standardised layer on regime train rows, PCA d', deflated across tasks sharing the layer (fluorescence order), components ${r.unitFeatureTargets ? 'scaled to unit variance' : 'raw (P h_std)'}`,
      dPrime: r.dPrime, hidden: r.hidden, activation: 'tanh', paramsPerStudent: studentParamCount(r.shape), topN: r.topN,
      alpha: Object.fromEntries(h.tasks.map((t, k) => [t, r.alpha[k]])), beta: Object.fromEntries(h.tasks.map((t, k) => [t, r.beta[k]])),
      layerPicks: extra.layerPicks, selection: r.selection, chosenOn: 'validation (regime-routed R² per task)',
    },
    students: studentInfo,
    moe: {
      chosenOn: 'validation MSE per task', D: r.moe[0]?.D,
      tasks: Object.fromEntries(r.moe.map((m) => [h.tasks[m.task], { kernel: m.kernel, lengthScale: m.lengthScale, tau: m.tau, yScale: m.yScale, rffSeed: m.seed, validation: m.validation }])),
      where: 'students.onnx metadata cmm.moe (W, b, tau per task)',
    },
    training: {
      dataset: extra.dataset, datasetSha256: extra.datasetSha256, datasetCreatedAt: h.createdAt, teacher: extra.teacher, teacherFiles: extra.teacherFiles, description: extra.dataDescription ?? `${h.sources.map((s) => `${s.instrument.symbol} (${path.basename(s.file)})`).join(', ')}; horizon ${h.options.horizon} ${h.options.horizonUnit}, grid every ${h.options.every} ${h.options.everyUnit}`,
      dataFrac: r.dataFrac, rowsPerRegime: r.rows, seed: r.seed, seconds: r.seconds, trainer: 'plain TypeScript MLP, Adam, early stopping on validation MSE(ŷ, y)',
      options: r.training,
    },
    bestSingle: r.bestSingle.map((s) => ({ student: s, task: h.tasks[r.students[s].job.task], regime: h.regimes[r.students[s].job.regime] })),
    baselines: {
      noDistill: r.baselineInfo.noDistill ? 'same architecture, α = β = 0, one per (task, regime), regime-routed' : null,
      plainKd: r.baselineInfo.plainKd ? { what: "one student per task on all train rows; z* = top-d' PCs of the final layer (unit-variance components); α and β > 0 chosen on validation", alpha: r.baselineInfo.plainKd.map((s) => s.job.alpha), beta: r.baselineInfo.plainKd.map((s) => s.job.beta) } : null,
      ridge: r.baselineInfo.ridgeAlphas ? { what: 'ridge on standardised raw x_t, fit on train, penalty on validation', alphas: r.baselineInfo.ridgeAlphas } : null,
    },
    scores: { validation: rowsJson(r.scores.validation), test: rowsJson(r.scores.test), testByRegime: rowsJson(r.scores.testByRegime as ScoreTable) },
    notes: r.notes,
  };
  writeManifest(dir, manifest);
  return manifest;
}

/** Layer ranking from a probe fitted on the train rows and scored on the VALIDATION rows (no test data). */
export function validationRanking(ds: CmmDataset, tf: TeacherFeatures, trainRows: ArrayLike<number>): LayerRanking {
  const h = ds.header, valRows = sampleIndices(ds, 'validation');
  const probe = probeArrays({
    layers: tf.hidden, d: tf.d, baseline: ds.x, baselineWidth: h.studentFeatures.length, targets: ds.targets, tasks: h.tasks,
    regime: ds.regime, regimes: h.regimes, train: trainRows, test: valRows, group: ds.source,
  }, {}, { teacher: 'teacher', baselineInput: 'student vector x_t' });
  return { ...rankLayers(probe, h.tasks, h.regimes, tf.hidden.length, 'probe refitted on train, scored on validation', true), probe };
}

/** Layer ranking from a probe.json written by `cmm probe` (its R² are test-split scores, as cmm.md defines them). */
export function rankingFromProbeFile(file: string, ds: CmmDataset, layers: number): LayerRanking {
  let probe: ProbeResult;
  try {
    probe = JSON.parse(fs.readFileSync(file, 'utf8')) as ProbeResult;
  } catch (err) {
    throw new EngineError('E_BAD_FORMAT', `probe file unreadable or not JSON: ${(err as Error).message}`, { file });
  }
  if (!probe || typeof probe !== 'object' || !Array.isArray(probe.r2)) throw new EngineError('E_BAD_FORMAT', 'probe file has no r2 table (written by cmm probe?)', { file });
  try {
    return rankLayers(probe, ds.header.tasks, ds.header.regimes, layers, `${file} (cmm probe: R² scored on the test split, so these picks saw test data)`);
  } catch (err) {
    if (err instanceof EngineError && err.code === 'E_INVALID_ARG') throw new EngineError('E_INVALID_ARG', `${err.message}; omit --probe to rank layers on the validation split`, { file });
    throw err;
  }
}

export interface RunDistillOptions extends DistillOptions {
  probeFile?: string;
  onTeacherProgress?: (done: number, total: number) => void;
}

/** Teacher features for every sample, the layer ranking (probe file or validation probe), then distillFromFeatures. */
export async function runDistill(ds: CmmDataset, teacher: Teacher, o: RunDistillOptions = {}): Promise<{ result: DistillResult; ranking: LayerRanking; features: TeacherFeatures; teacherSeconds: number }> {
  const t0 = Date.now();
  const features = await computeTeacherFeatures(ds, teacher, undefined, { onProgress: o.onTeacherProgress });
  const teacherSeconds = (Date.now() - t0) / 1000;
  const frac = o.dataFrac ?? 1, prefix = trainPrefix(ds, frac);
  const ranked = frac < 1 ? refitRegimes(ds, prefix).ds : ds; // the regimes distillFromFeatures will use
  const ranking = o.probeFile ? rankingFromProbeFile(o.probeFile, ds, teacher.layers) : validationRanking(ranked, features, prefix);
  const result = distillFromFeatures(ds, features, ranking, o);
  return { result, ranking, features, teacherSeconds };
}
