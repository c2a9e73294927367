// What the CMM experiments need per market, all from its TRAINING data only: the CMM dataset (cached), the time
// split shared by the students and the backtest (the dataset's test split = the backtest's test episodes), the
// teacher's features, the students (distilled here from the teacher on the market's train split, or the bundled
// models/students), the teacher's scheduled heads, and the CMM strategies with γ and the size fraction chosen on
// the validation period (after the students' training data, before the test split).
import * as fs from 'fs';
import * as path from 'path';
import { EngineError, expected } from '../errors';
import { replay } from '../backtest/backtest';
import { meanStd } from '../backtest/metrics';
import { ReplayBook } from '../backtest/replay-book';
import { ExtraStrategy, ExtraStrategyContext } from '../backtest/run';
import { Simulation } from '../backtest/simulation';
import { episodeWindows } from '../backtest/split';
import { Tape } from '../backtest/tape';
import { makeRff } from '../moe/rff';
import { StudentBankSpec, randomStudentBank } from '../moe/student-bank';
import { readStudentBankOnnxFile } from '../onnx/read-weights';
import { writeStudentBankOnnx } from '../onnx/write-mlp';
import { InProcessRunner } from './inference/in-process-runner';
import {
  BankPredictions, CmmParams, CmmStrategy, CmmVariant, MemoPredictions, PredictionSource, RunnerPredictions, ScheduledPredictions,
} from '../strategies/cmm';
import { CmmDataset, DatasetSourceInfo, readDataset, writeDataset } from './dataset-file';
import { DatasetOptions, buildDataset, resolveDatasetOptions } from './dataset';
import { DistillOptions, distillFromFeatures, validationRanking } from './distill-run';
import { ModelManifestBase, readManifest, sha256File } from './models';
import { LayerRanking, TeacherFeatures, computeTeacherFeatures, packStudentBank, rankLayers, trainPrefix } from './ofdd';
import { probeArrays } from './probe';
import type { Teacher } from './teacher/teacher';
import { MarketSpec, marketLog } from './experiment-data';

export interface PreparedMarket {
  spec: MarketSpec;
  log: string;
  tape: Tape;
  ds: CmmDataset;
  /** The traded instrument's dataset source. */
  source: DatasetSourceInfo;
  /** Realised-vol cut points of that source (its train split). */
  cuts: [number, number];
  /** Tape ns: the validation period [validationStartNs, testStartNs) and the test split [testStartNs, lastNs]. */
  validationStartNs: number;
  testStartNs: number;
  /** runBacktest's trainFrac that puts its test split at testStartNs. */
  trainFrac: number;
  /** τ_h: the target horizon in seconds (events / the training split's event rate when counted in events). */
  horizonSeconds: number;
}

const stampOf = (file: string): string => {
  const s = fs.statSync(file);
  return `${s.size}:${Math.floor(s.mtimeMs)}`;
};

/** Dataset of a log, cached beside it (keyed by the log's size/mtime and the dataset options). */
export function cachedDataset(log: string, options: DatasetOptions, cacheDir: string, name: string): CmmDataset {
  const o = resolveDatasetOptions(options);
  const tag = `h${o.horizon}${o.horizonUnit[0]}-e${o.every}${o.everyUnit[0]}-w${o.window}-s${o.split.join('_')}`;
  const file = path.join(cacheDir, `${name}.${tag}.ds`);
  const key = `${file}.key`;
  const want = `${path.resolve(log)}@${stampOf(log)} ${JSON.stringify(o)}`;
  if (fs.existsSync(file) && fs.existsSync(key) && fs.readFileSync(key, 'utf8') === want) return readDataset(file);
  const ds = buildDataset([log], options);
  writeDataset(file + '.tmp', ds);
  fs.renameSync(file + '.tmp', file);
  fs.writeFileSync(key, want);
  return ds;
}

/** Converts an absolute dataset time (ns since the epoch, a double) to tape time (ns since the tape origin). */
export function tapeTime(tape: Tape, absNs: number): number {
  return Number(BigInt(Math.round(absNs)) - tape.originNs);
}

/** Imports / generates the market, builds its dataset and aligns the backtest split with the dataset's test split. */
export function prepareMarket(spec: MarketSpec, cacheDir: string, dsOptions: DatasetOptions, log: (line: string) => void = () => undefined): PreparedMarket {
  const file = marketLog(spec, cacheDir, log);
  const tape = Tape.fromLog(file, { instrument: spec.instrument });
  log(`${spec.name}: ${tape.count} events of ${tape.instrument.venue}:${tape.instrument.symbol} over ${((tape.lastNs - tape.firstNs) / 1e9).toFixed(1)} s; building the CMM dataset`);
  const ds = cachedDataset(file, dsOptions, cacheDir, spec.name);
  const source = ds.header.sources.find((s) => s.instrument.id === tape.instrument.id && s.instrument.symbol === tape.instrument.symbol);
  if (!source) throw new EngineError('E_INTERNAL', `${spec.name}: the dataset has no source for ${tape.instrument.symbol}`);
  const st = source.splitTimes;
  if (!st.train || !st.validation || !st.test || source.samples.test < 10 || source.samples.validation < 10) {
    throw new EngineError('E_BAD_INPUT', `${spec.name}: too little data for train/validation/test decisions (${source.samples.train}/${source.samples.validation}/${source.samples.test} samples)`);
  }
  const validationStartNs = tapeTime(tape, st.validation[0]);
  const testStartNs = tapeTime(tape, st.test[0]);
  const span = tape.lastNs - tape.firstNs;
  const trainFrac = Math.min(0.999, (testStartNs - tape.firstNs + 1) / span);
  const o = resolveDatasetOptions(dsOptions);
  let horizonSeconds = o.horizon;
  if (o.horizonUnit === 'events') {
    let rows = 0;
    tape.forEachRow(tape.firstNs, validationStartNs, () => rows++);
    const secs = (validationStartNs - tape.firstNs) / 1e9;
    horizonSeconds = rows > 0 && secs > 0 ? (o.horizon * secs) / rows : 1;
  }
  return { spec, log: file, tape, ds, source, cuts: [source.regimeCuts[0], source.regimeCuts[1]], validationStartNs, testStartNs, trainFrac, horizonSeconds };
}

// ---- students ----------------------------------------------------------------------------------------

export interface StudentSet {
  /** The distilled students + Hájek-MoE (the CMM variant). */
  moe: StudentBankSpec;
  /** No-distillation students (α = β = 0, one per (task, regime)) and plain-KD students (one per task). */
  noDistill?: StudentBankSpec;
  plainKd?: StudentBankSpec;
  /** Where they come from, and their test-split prediction scores when distilled here. */
  origin: string;
  dataFrac: number;
  scores?: unknown;
  notes: string[];
}

/** Per-market distillation from teacher features, cached as ONNX files (keyed by dataset, teacher and options). */
export function distillMarket(pm: PreparedMarket, tf: TeacherFeatures, teacherKey: string, cacheDir: string, options: DistillOptions, log?: (line: string) => void): StudentSet {
  const frac = options.dataFrac ?? 1;
  const opts = { ...options, baselines: true, log: undefined };
  const dir = path.join(cacheDir, `${pm.spec.name}.students`, `frac${frac}`);
  const key = path.join(dir, 'key.json');
  const want = JSON.stringify({ ds: pm.ds.header.createdAt, samples: pm.ds.header.samples, teacher: teacherKey, opts: { ...opts, log: undefined } });
  const files = { moe: path.join(dir, 'moe.onnx'), noDistill: path.join(dir, 'no-distill.onnx'), plainKd: path.join(dir, 'plain-kd.onnx'), info: path.join(dir, 'info.json') };
  if (fs.existsSync(key) && fs.readFileSync(key, 'utf8') === want && Object.values(files).every((f) => fs.existsSync(f))) {
    const info = JSON.parse(fs.readFileSync(files.info, 'utf8')) as { scores: unknown; notes: string[] };
    return {
      moe: readStudentBankOnnxFile(files.moe).spec, noDistill: readStudentBankOnnxFile(files.noDistill).spec, plainKd: readStudentBankOnnxFile(files.plainKd).spec,
      origin: `distilled on ${pm.spec.name} train split (cached)`, dataFrac: frac, scores: info.scores, notes: info.notes,
    };
  }
  const rankNotes: string[] = [];
  const ranking = layerRanking(pm.ds, tf, trainPrefix(pm.ds, frac), rankNotes);
  const r = distillFromFeatures(pm.ds, tf, ranking, { ...options, baselines: true, log: log && ((l) => log(`${pm.spec.name}: ${l}`)) });
  r.notes.push(...rankNotes);
  const info = r.baselineInfo;
  const shape = r.shape;
  const noDistill = info.noDistill ? packStudentBank(info.noDistill, shape, r.norm) : undefined;
  const plainKd = info.plainKd ? packStudentBank(info.plainKd, shape, r.norm) : undefined;
  fs.mkdirSync(dir, { recursive: true });
  writeStudentBankOnnx(files.moe, r.spec);
  if (noDistill) writeStudentBankOnnx(files.noDistill, noDistill);
  if (plainKd) writeStudentBankOnnx(files.plainKd, plainKd);
  const scores = JSON.parse(JSON.stringify(r.scores.test, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
  fs.writeFileSync(files.info, JSON.stringify({ scores, notes: r.notes, seconds: r.seconds, alpha: r.alpha, beta: r.beta, dPrime: r.dPrime, hidden: r.hidden }));
  fs.writeFileSync(key, want);
  return { moe: r.spec, noDistill, plainKd, origin: `distilled on ${pm.spec.name} train split`, dataFrac: frac, scores, notes: r.notes };
}

/**
 * Layer picks l*(k, r) from training data only: the distillation's own probe (fit on train, scored on validation);
 * when the validation split lacks a regime (a short or trending market), a probe fitted on 3/4 of the training rows
 * and scored on every 4th one; a cell still without R² takes its task's mean R² over the other regimes.
 */
export function layerRanking(ds: CmmDataset, tf: TeacherFeatures, trainRows: Uint32Array, notes: string[]): LayerRanking {
  try {
    return validationRanking(ds, tf, trainRows);
  } catch (err) {
    if (!(err instanceof EngineError) || err.code !== 'E_INVALID_ARG') throw err;
    notes.push(`layer picks: ${err.message}; probe refitted on 3/4 of the training rows and scored on every 4th training row instead`);
  }
  const sorted = Array.from(trainRows).sort((a, b) => ds.time[a] - ds.time[b] || a - b);
  const fit = sorted.filter((_, i) => i % 4 !== 3), held = sorted.filter((_, i) => i % 4 === 3);
  const h = ds.header;
  const probe = probeArrays({
    layers: tf.hidden, d: tf.d, baseline: ds.x, baselineWidth: h.studentFeatures.length, targets: ds.targets, tasks: h.tasks,
    regime: ds.regime, regimes: h.regimes, train: Uint32Array.from(fit), test: Uint32Array.from(held), group: ds.source,
  }, {}, { teacher: 'teacher', baselineInput: 'student vector x_t' });
  const L = tf.hidden.length, K = h.tasks.length, R = h.regimes.length;
  for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) {
    if (probe.r2.some((l) => Number.isFinite(l[k][r]))) continue;
    for (let l = 0; l < L; l++) {
      const other = probe.r2[l][k].filter((v, j) => j !== r && Number.isFinite(v));
      probe.r2[l][k][r] = other.length ? other.reduce((a, b) => a + b, 0) / other.length : 0;
    }
    notes.push(`layer picks: ${h.tasks[k]}/${h.regimes[r]} has too few rows for a probe: its task's mean R² over the other regimes is used`);
  }
  return { ...rankLayers(probe, h.tasks, h.regimes, L, 'probe fitted on 3/4 of the train split, scored on every 4th train row'), probe };
}

/**
 * The bundled students (models/students: students.onnx + manifest.json), plus baseline banks when the manifest
 * lists files with roles 'no-distill' / 'plain-kd'. Returns null when the folder has no student model.
 */
export function bundledStudents(dir: string): StudentSet | null {
  const manifestFile = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) return null;
  const m = readManifest<ModelManifestBase & { training?: { description?: string } }>(dir);
  const byRole = (re: RegExp): string | undefined => m.files.find((f) => f.role !== undefined && re.test(f.role))?.path;
  const main = byRole(/^onnx$/) ?? 'students.onnx';
  if (!fs.existsSync(path.join(dir, main))) return null;
  const load = (rel: string | undefined): StudentBankSpec | undefined => (rel && fs.existsSync(path.join(dir, rel)) ? readStudentBankOnnxFile(path.join(dir, rel)).spec : undefined);
  return {
    moe: readStudentBankOnnxFile(path.join(dir, main)).spec,
    noDistill: load(byRole(/no.?distill/i)),
    plainKd: load(byRole(/plain.?kd/i)),
    origin: `bundled ${dir}${m.training?.description ? ` (trained on ${m.training.description})` : ''}`,
    dataFrac: 1,
    notes: [],
  };
}

/** A random bank of the production shape (tests and smoke runs only: labelled as random wherever it is used). */
export function randomStudentSet(seed = 1, hidden = [8]): StudentSet {
  const shape = { inputs: 11, hidden, outputs: 5, activation: 'tanh' as const, normalize: true };
  const moe = randomStudentBank({ ...shape, students: 9 }, seed);
  moe.moe = { tasks: 3, rff: [0, 1, 2].map((k) => makeRff({ D: 16, P: 5, lengthScale: 1.5, seed: seed * 10 + k })), tau: [3, 3, 3] };
  return {
    moe, noDistill: randomStudentBank({ ...shape, students: 9 }, seed + 1), plainKd: randomStudentBank({ ...shape, students: 3 }, seed + 2),
    origin: `RANDOM weights (seed ${seed}): a smoke test, not a model`, dataFrac: 1, notes: [],
  };
}

// ---- teacher --------------------------------------------------------------------------------------------

export interface LatencyStats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

export function latencyStats(us: ArrayLike<number>): LatencyStats {
  const s = Float64Array.from(us).sort();
  const n = s.length;
  if (n === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, mean: NaN, max: NaN };
  const at = (q: number): number => s[Math.min(n - 1, Math.floor(q * n))];
  let sum = 0;
  for (const v of s) sum += v;
  return { n, p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: sum / n, max: s[n - 1] };
}

/** Per-decision teacher latency (µs): one window per run() call, as the teacher-driven strategy decides. */
export async function teacherLatency(teacher: Teacher, windows: Float32Array, n: number, warmup = 20): Promise<LatencyStats> {
  const per = teacher.inputSpec.T * teacher.inputSpec.F;
  const count = Math.floor(windows.length / per);
  if (count === 0) throw expected('at least one window', 'teacher latency windows', 0);
  const us: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const w = windows.subarray((i % count) * per, (i % count + 1) * per);
    const t0 = process.hrtime.bigint();
    await teacher.run(w, 1);
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    if (i >= warmup) us.push(dt);
  }
  return latencyStats(us);
}

/**
 * The teacher-driven strategy's schedule: the traded source's samples from the validation start on, in time
 * order; the teacher takes a new window at a sample at least `every` grid points after its previous decision
 * and not before it has finished that one (decision time + latency); its heads are usable from then on.
 */
export function teacherSchedule(pm: PreparedMarket, heads: Float32Array, latencyNs: number, every: number, maxAgeNs: number): { source: ScheduledPredictions; decisions: number; candidates: number } {
  if (!(Number.isInteger(every) && every >= 1)) throw expected('a positive integer', 'teacher every (grid points)', every);
  const ds = pm.ds, id = pm.source.id;
  const rows: number[] = [];
  for (let i = 0; i < ds.header.samples; i++) if (ds.source[i] === id && tapeTime(pm.tape, ds.time[i]) >= pm.validationStartNs) rows.push(i);
  rows.sort((a, b) => ds.time[a] - ds.time[b] || a - b);
  const decided: number[] = [], avail: number[] = [], h: number[] = [];
  let lastG = -Infinity, busyUntil = -Infinity;
  for (const i of rows) {
    const t = tapeTime(pm.tape, ds.time[i]);
    const g = ds.snapshot[i];
    if (g - lastG < every || t < busyUntil) continue;
    const y = [heads[3 * i], heads[3 * i + 1], heads[3 * i + 2]];
    if (!y.every(Number.isFinite)) continue;
    decided.push(t);
    avail.push(t + latencyNs);
    h.push(...y);
    lastG = g;
    busyUntil = t + latencyNs;
  }
  return { source: new ScheduledPredictions(Float64Array.from(decided), Float64Array.from(avail), Float32Array.from(h), maxAgeNs), decisions: decided.length, candidates: rows.length };
}

/** Teacher features of every sample (NaN rows are those not computed). */
export async function teacherFeaturesFor(pm: PreparedMarket, teacher: Teacher, onProgress?: (done: number, total: number) => void): Promise<TeacherFeatures> {
  return computeTeacherFeatures(pm.ds, teacher, undefined, { onProgress });
}

export function teacherKey(dir: string): string {
  const f = path.join(dir, 'manifest.json');
  return fs.existsSync(f) ? sha256File(f) : 'none';
}

// ---- CMM strategies ---------------------------------------------------------------------------------------

/** A prediction source per variant; null when the variant has no model (say why in `missing`). */
export function variantSources(students: StudentSet | null, teacher: ScheduledPredictions | null): { sources: Partial<Record<CmmVariant, PredictionSource>>; missing: Partial<Record<CmmVariant, string>> } {
  const sources: Partial<Record<CmmVariant, PredictionSource>> = {};
  const missing: Partial<Record<CmmVariant, string>> = {};
  if (students) {
    sources.cmm = new RunnerPredictions(InProcessRunner.create('native', { spec: students.moe }));
    if (students.noDistill) sources.student = new BankPredictions(students.noDistill, 'routed');
    else missing.student = 'no no-distillation students (the student model folder lists none)';
    if (students.plainKd) sources.kd = new BankPredictions(students.plainKd, 'perTask');
    else missing.kd = 'no plain-KD students (the student model folder lists none)';
  } else {
    missing.cmm = missing.student = missing.kd = 'no student models';
  }
  if (teacher) sources.teacher = teacher;
  else missing.teacher = 'no teacher model';
  return { sources, missing };
}

export interface CmmCalibration {
  gamma: number;
  sizeFraction: number;
  kappa: number;
  sigma: number;
  /** Grid searched on the validation period: inventory skew per clip (price steps), size multiple, mean EPnL. */
  grid: { skew: number; sizeMult: number; gamma: number; sizeFraction: number; meanEpnl: number }[];
  windows: number;
}

export interface CmmBuildOptions {
  /** Inventory skews per clip searched (price steps; default 0.25 … 8 as the AS baseline). */
  skews?: number[];
  /** Multiples of the base size fraction searched (default [1]). */
  sizeMults?: number[];
  decideEvery?: number;
  /** Filled with each variant's calibration when the strategies are built. */
  calibrations?: Partial<Record<CmmVariant, CmmCalibration>>;
  /** Filled with each variant's strategy (its counters and own lifecycles can be read after the backtest). */
  built?: Partial<Record<CmmVariant, CmmStrategy>>;
}

/**
 * The typical horizon volume on the model's own scale: expm1 of the mean log1p(volume) target over the traded
 * source's training samples (lots). The students regress log1p(volume), so their typical answer is this.
 */
function typicalTrainVolume(pm: PreparedMarket): number {
  const ds = pm.ds, K = ds.header.tasks.length, { start, end } = ds.header.splits.train;
  let s = 0, n = 0;
  for (let i = start; i < end; i++) if (ds.source[i] === pm.source.id) {
    s += ds.targets[i * K + 2];
    n++;
  }
  return n > 0 ? Math.expm1(s / n) : NaN;
}

/**
 * The ExtraStrategy of one CMM variant: at build time (inside runBacktest, calibration of the training split
 * known) it searches γ (and the size fraction) on episodes of the validation period, then returns the strategy
 * with the best mean EPnL there. κ = the training split's fill-intensity decay, σ its mid volatility; γ is
 * searched as the inventory skew per clip γ·σ²·τ_h·clip in price steps (the AS baseline's grid); the size
 * fraction is clip / (typical lots traded over a horizon on the training split) times the searched multiples, so a
 * typical volume prediction quotes one clip (the baselines' size) and a quiet one less.
 */
export function cmmExtraStrategy(variant: CmmVariant, source: PredictionSource, pm: PreparedMarket, o: CmmBuildOptions = {}): ExtraStrategy {
  return {
    name: variant,
    build(ctx: ExtraStrategyContext) {
      const cal = ctx.calibration;
      const sigma = cal.sigma, kappa = cal.k, step = cal.priceStep, qty = ctx.sim.orderQty;
      const tauH = Math.max(pm.horizonSeconds, 1e-3);
      const vol = typicalTrainVolume(pm);
      const baseFraction = Number.isFinite(vol) && vol > 0 ? qty / vol : 1;
      const skews = o.skews ?? [0.25, 0.5, 1, 2, 4, 8];
      const mults = o.sizeMults ?? [1];
      const memo = new MemoPredictions(source);
      const mk = (gamma: number, sizeFraction: number): CmmParams => ({
        variant, quote: { gamma, kappa, sizeFraction, sigma, horizonSeconds: tauH }, regimeCuts: pm.cuts, decideEvery: o.decideEvery,
      });
      const span = pm.testStartNs - pm.validationStartNs;
      const len = Math.min(ctx.episodeLenNs, span);
      const windows = episodeWindows(pm.validationStartNs, pm.testStartNs, len, undefined, 'the validation period');
      const grid: CmmCalibration['grid'] = [];
      const book = new ReplayBook(ctx.tape.instrument.bookType);
      const sims: Simulation[] = [];
      for (const s of skews) for (const m of mults) {
        const gamma = (s * step) / (qty * sigma * sigma * tauH);
        const sizeFraction = baseFraction * m;
        grid.push({ skew: s, sizeMult: m, gamma, sizeFraction, meanEpnl: NaN });
        sims.push(new Simulation(new CmmStrategy(mk(gamma, sizeFraction), memo), book, { ...ctx.sim, seed: ctx.seed }));
      }
      replay(ctx.tape.batches, book, sims, windows);
      sims.forEach((sim, i) => (grid[i].meanEpnl = meanStd(sim.episodes.map((e) => e.epnl)).mean));
      const best = grid.reduce((a, b) => (b.meanEpnl > a.meanEpnl || !Number.isFinite(a.meanEpnl) ? b : a));
      const calib: CmmCalibration = { gamma: best.gamma, sizeFraction: best.sizeFraction, kappa, sigma, grid, windows: windows.length };
      if (o.calibrations) o.calibrations[variant] = calib;
      source.reset?.(pm.testStartNs);
      const strategy = new CmmStrategy(mk(best.gamma, best.sizeFraction), source);
      if (o.built) o.built[variant] = strategy;
      return {
        strategy,
        params: { variant, source: source.kind, gamma: best.gamma, kappa, sigma, sizeFraction: best.sizeFraction, horizonSeconds: tauH, regimeCuts: pm.cuts, chosenOn: `validation period, ${windows.length} episodes`, skewPerClip: best.skew },
      };
    },
  };
}
