// OFDD and the distillation run on a seeded synthetic problem: orthogonal feature targets across tasks sharing a
// layer, the feature loss helps when z* carries signal the noisy target hides, the exported ONNX (onnxruntime-node)
// and the native StudentBank equal the trainer's forward pass, --data-frac is a time prefix, determinism, and
// clear errors for a missing probe cell or an empty regime; `cmm distill` end to end with a feature-file teacher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CmmDataset, DATASET_FORMAT, DATASET_VERSION, DatasetHeader, sampleIndices, teacherWindows, writeDataset } from '../../src/cmm/dataset-file';
import { distillFromFeatures, writeStudentModels } from '../../src/cmm/distill-run';
import { scoreTask } from '../../src/cmm/distill-eval';
import { LayerRanking, TeacherFeatures, featureTarget, fitFeatureTargets, inputNormalisation, rankLayers, trainPrefix } from '../../src/cmm/ofdd';
import { studentPredict } from '../../src/cmm/student-train';
import { windowContentKey, writeFeatureFile } from '../../src/cmm/teacher/feature-file';
import { hajekMoeReference } from '../../src/moe/hajek';
import { StudentBank } from '../../src/moe/student-bank';
import { readStudentBankOnnxFile } from '../../src/onnx/read-weights';
import { Rng } from '../../src/sim/rng';

const REPO = path.resolve(__dirname, '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-ofdd-'));
const FX = 11, T = 4, FW = 3, L = 3, D = 8;
const TASKS = ['mid', 'spread', 'volume'], REGIMES = ['low', 'medium', 'high'];

/**
 * N samples in time order (one source): x ~ N(0, 1)^11, a nonlinear latent per task s_k(x), targets s_k + noise,
 * teacher layer l = task l's latent mixed into 6 of its D coordinates plus small noise (its top principal direction),
 * teacher heads s_k + small noise. Regime from a uniform "rv" (emptyRegime: no sample of that regime).
 */
function synthetic(N: number, seed: number, o: { noise?: number; emptyRegime?: number } = {}): { ds: CmmDataset; tf: TeacherFeatures } {
  const rng = new Rng(seed, 7);
  const noise = o.noise ?? 1;
  const x = new Float32Array(N * FX);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const latent = (xi: Float32Array): number[] => [
    1.5 * Math.tanh(2 * xi[0]) + Math.cos(2 * xi[1]),
    1.5 * (Math.abs(xi[3]) - 0.8) + Math.cos(1.5 * xi[4]),
    1.5 * Math.tanh(2 * xi[5]) + 0.5 * xi[6] * xi[6] - 0.5,
  ];
  const targets = new Float32Array(N * 3), heads = new Float32Array(N * 3);
  const hidden = Array.from({ length: L }, () => new Float32Array(N * D));
  const mix = Array.from({ length: L }, () => Array.from({ length: D }, (_, j) => (j < 6 ? 0.5 + rng.uniform() : 0)));
  const rv = new Float32Array(N), regime = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    const s = latent(x.subarray(i * FX, (i + 1) * FX));
    for (let k = 0; k < 3; k++) {
      targets[i * 3 + k] = s[k] + noise * rng.normal();
      heads[i * 3 + k] = s[k] + 0.1 * rng.normal();
      for (let j = 0; j < D; j++) hidden[k][i * D + j] = mix[k][j] * s[k] + 0.2 * rng.normal();
    }
    rv[i] = rng.uniform();
    regime[i] = rv[i] <= 0.33 ? 0 : rv[i] <= 0.66 ? 1 : 2;
    if (regime[i] === o.emptyRegime) regime[i] = (regime[i] + 1) % 3;
  }
  const G = N + T - 1;
  const snapshots = new Float32Array(G * FW);
  for (let i = 0; i < snapshots.length; i++) snapshots[i] = rng.normal();
  const a = Math.round(0.6 * N), b = Math.round(0.8 * N);
  const counts = (from: number, to: number) => [0, 1, 2].map((r) => regime.subarray(from, to).filter((v) => v === r).length);
  const header = {
    format: DATASET_FORMAT, version: DATASET_VERSION, createdAt: 'test', samples: N, snapshots: G, blocks: [], notes: [], drops: {},
    sources: [{ id: 0, file: 'synthetic', instrument: { id: 0, symbol: 'SYN', venue: 'test', tickSize: 0.01, lotSize: 1, bookType: 'L2' }, regimeCuts: [0.33, 0.66] }],
    options: { horizon: 1, horizonUnit: 'events', every: 1, everyUnit: 'events', window: T, split: [0.6, 0.2, 0.2], regimeScope: 'source', engine: {} },
    studentFeatures: Array.from({ length: FX }, (_, j) => `x${j}`), windowFeatures: ['a', 'b', 'c'], tasks: TASKS, regimes: REGIMES,
    splits: { train: { start: 0, end: a }, validation: { start: a, end: b }, test: { start: b, end: N } },
    counts: { train: counts(0, a), validation: counts(a, b), test: counts(b, N) },
    regimeCuts: { feature: 'realisedVol', quantiles: [0.33, 0.66], scope: 'source', pooled: [0.33, 0.66], fittedOn: 'train' },
    normalisation: { x: { mean: Array(FX).fill(0), std: Array(FX).fill(1) }, window: { mean: [0, 0, 0], std: [1, 1, 1] }, targets: { mean: [0, 0, 0], std: [1, 1, 1] }, fittedOn: 'train' },
  } as unknown as DatasetHeader;
  const ds: CmmDataset = {
    header, snapshots, x, targets, rv, regime, time: Float64Array.from({ length: N }, (_, i) => 1e12 + i * 1e9), event: Float64Array.from({ length: N }, (_, i) => i * 10),
    snapshot: Uint32Array.from({ length: N }, (_, i) => i + T - 1), source: new Uint16Array(N),
  };
  return { ds, tf: { hidden, d: D, heads } };
}

/** Task k lives in layer k in every regime. */
function plantedRanking(): LayerRanking {
  const r2 = [0, 1, 2].map((l) => TASKS.map((_, k) => REGIMES.map(() => (l === k ? 0.5 : 0.1 + 0.01 * l))));
  return rankLayers({ r2, fluorescence: r2, tasks: TASKS, regimes: REGIMES }, TASKS, REGIMES, L, 'planted');
}

const FAST = { maxEpochs: 60, patience: 8 };

test('feature targets are orthogonal and uncorrelated across tasks sharing a layer', () => {
  const { ds, tf } = synthetic(1500, 1);
  const train = [0, 1, 2].map((r) => sampleIndices(ds, 'train', r));
  const cells = [0, 1, 2].map((task) => ({ task, regime: 1, rank: 0, layer: 0 })); // all three tasks on layer 0
  const fl = TASKS.map((_, k) => REGIMES.map(() => [0.2 + 0.3 * k, 0, 0])); // volume has the highest F on layer 0
  const targets = fitFeatureTargets(tf, cells, train, 2, { layers: [], fluorescence: fl, source: 'test' });
  assert.deepEqual(targets.map((t) => t.after.length), [2, 1, 0], 'volume first, then spread, then mid');
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
    for (let qa = 0; qa < 2; qa++) for (let qb = 0; qb < 2; qb++) {
      if (a === b && qa === qb) continue;
      let dot = 0;
      for (let j = 0; j < D; j++) dot += targets[a].basis[qa * D + j] * targets[b].basis[qb * D + j];
      assert.ok(Math.abs(dot) < 1e-9, `directions ${a}.${qa} and ${b}.${qb}: dot ${dot}`);
    }
  }
  // The standardised targets of different tasks are uncorrelated on the regime's train rows (PCA directions).
  const z = targets.map((t) => featureTarget(t, tf, train[1], 2));
  const n = train[1].length;
  for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) for (let q = 0; q < 2; q++) {
    let c = 0;
    for (let i = 0; i < n; i++) c += z[a][i * 2 + q] * z[b][i * 2 + q];
    assert.ok(Math.abs(c / n) < 1e-4, `corr(z_${a}, z_${b}) component ${q}: ${c / n}`);
  }
  for (let q = 0; q < 2; q++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += z[2][i * 2 + q] ** 2;
    assert.ok(Math.abs(s / n - 1) < 1e-4, 'unit variance');
  }
});

test('the feature loss beats α = β = 0 on held-out data when z* carries the signal (seeded)', () => {
  const { ds, tf } = synthetic(2400, 3, { noise: 1 });
  const run = (alpha: number) => distillFromFeatures(ds, tf, plantedRanking(), { alphas: [alpha], betas: [0], dPrimes: [1], seed: 5, training: FAST, moeGrid: { lengthScales: [1], taus: [0], kernels: ['isotropic'], D: 16 } });
  const distilled = run(10), plain = run(0);
  const test = sampleIndices(ds, 'test');
  for (let k = 0; k < 3; k++) {
    const a = distilled.scores.test.routed![k].r2, b = plain.scores.test.routed![k].r2;
    assert.ok(a > b + 0.03, `${TASKS[k]}: test R² with the feature loss ${a.toFixed(4)} vs without ${b.toFixed(4)} (n ${test.length})`);
  }
});

test('ONNX (onnxruntime-node) and the native StudentBank equal the trainer forward pass to 1e-5; determinism', async () => {
  const { ds, tf } = synthetic(1500, 11);
  const opts = { alphas: [1], betas: [0.5], dPrimes: [3], seed: 9, training: { maxEpochs: 4 }, moeGrid: { lengthScales: [1, 4], taus: [0, 5], kernels: ['isotropic', 'scaled-y'] as const, D: 32 } };
  const r = distillFromFeatures(ds, tf, plantedRanking(), { ...opts, moeGrid: { ...opts.moeGrid, kernels: [...opts.moeGrid.kernels] } });
  const again = distillFromFeatures(ds, tf, plantedRanking(), { ...opts, moeGrid: { ...opts.moeGrid, kernels: [...opts.moeGrid.kernels] } });
  assert.deepEqual(again.spec.weights, r.spec.weights, 'same seed, same weights');
  assert.deepEqual(again.spec.moe, r.spec.moe);
  const other = distillFromFeatures(ds, tf, plantedRanking(), { ...opts, seed: 10, moeGrid: { ...opts.moeGrid, kernels: [...opts.moeGrid.kernels] } });
  assert.notDeepEqual(other.spec.weights, r.spec.weights, 'another seed, other weights');

  const dir = path.join(tmp, 'students');
  const manifest = writeStudentModels(dir, ds, r, { dataset: 'synthetic', teacher: 'synthetic', layerPicks: 'planted' });
  assert.equal(manifest.files[0].path, 'students.onnx');
  const { spec } = readStudentBankOnnxFile(path.join(dir, 'students.onnx'));
  const S = spec.students, O = spec.outputs, M = 3;
  assert.equal(S, 9);
  const rng = new Rng(77, 3);
  const B = 64, x = new Float32Array(B * FX);
  for (let i = 0; i < x.length; i++) x[i] = 1.3 * rng.normal();
  // Trainer forward: the float64 folded weights of each student on (x − mean)/std.
  const xs = new Float64Array(B * FX);
  for (let i = 0; i < B; i++) for (let j = 0; j < FX; j++) xs[i * FX + j] = (x[i * FX + j] - r.norm.mean[j]) / r.norm.std[j];
  const ref = new Float64Array(B * S * O);
  r.students.forEach((s, si) => {
    const y = studentPredict(r.shape, s.folded, xs, B);
    for (let i = 0; i < B; i++) for (let o = 0; o < O; o++) ref[i * S * O + si * O + o] = y[i * O + o];
  });
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  const bank = new StudentBank(spec);
  const out = new Float32Array(B * bank.outSize);
  bank.runBatch(x, B, out);
  for (let i = 0; i < B; i++) for (let j = 0; j < S * O; j++) close(out[i * bank.outSize + j], ref[i * S * O + j], `native row ${i} col ${j}`);
  const session = await ort.InferenceSession.create(path.join(dir, 'students.onnx'), { intraOpNumThreads: 1 });
  const res = await session.run({ x: new ort.Tensor('float32', x, [B, FX]) });
  await session.release();
  const onnxOut = res.students.data as Float32Array;
  for (let i = 0; i < B * S * O; i++) close(onnxOut[i], ref[i], `onnx ${i}`);
  // MoE: the native bank's prediction equals the float64 Hájek reference on the trainer's expert outputs.
  for (let k = 0; k < 3; k++) {
    const u = new Float64Array(B * M * O);
    for (let i = 0; i < B; i++) u.set(ref.subarray(i * S * O + k * M * O, i * S * O + (k + 1) * M * O), i * M * O);
    const moe = hajekMoeReference(u, B, M, spec.moe!.rff[k], spec.moe!.tau[k]);
    for (let i = 0; i < B; i++) close(out[i * bank.outSize + bank.yOffset + k], moe.y[i], `moe task ${k} row ${i}`);
  }
  // The manifest records the choices and the test scores of every variant that was run.
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.equal(m.ofdd.dPrime, 3);
  assert.deepEqual(Object.keys(m.scores.test).sort(), ['bestSingle', 'moe', 'routed', 'teacher']);
  assert.equal(m.students.length, 9);
});

test('--data-frac trains on a time prefix of each source', () => {
  const { ds, tf } = synthetic(1500, 21);
  const all = sampleIndices(ds, 'train');
  const pre = trainPrefix(ds, 0.2);
  assert.equal(pre.length, Math.ceil(0.2 * all.length));
  const rest = [...all].filter((i) => !pre.includes(i));
  assert.ok(Math.max(...Array.from(pre, (i) => ds.time[i])) < Math.min(...rest.map((i) => ds.time[i])), 'prefix ends before the rest');
  const r = distillFromFeatures(ds, tf, plantedRanking(), { alphas: [1], betas: [0], dataFrac: 0.2, training: { maxEpochs: 2 }, moeGrid: { lengthScales: [1], taus: [0], kernels: ['isotropic'], D: 8 } });
  assert.equal(r.rows.train.reduce((a, b) => a + b, 0), pre.length);
  assert.ok(r.regimeCuts, 'regime cut points refitted on the prefix');
  for (const n of r.rows.train) assert.ok(Math.abs(n - pre.length / 3) <= 0.05 * pre.length, `prefix rows per regime ${r.rows.train}`);
  const norm = inputNormalisation(ds, pre);
  assert.deepEqual(r.norm.mean, norm.mean, 'input normalisation fitted on the prefix only');
  assert.throws(() => trainPrefix(ds, 0), /fraction in \(0, 1\]/);
});

test('bad inputs: a missing probe cell gives a clear error; an empty regime falls back to pooled students, noted', () => {
  const r2 = [0, 1, 2].map(() => TASKS.map(() => REGIMES.map(() => 0.3)));
  for (let l = 0; l < L; l++) r2[l][1][2] = NaN;
  assert.throws(() => rankLayers({ r2, fluorescence: r2, tasks: TASKS, regimes: REGIMES }, TASKS, REGIMES, L, 'x'), /spread\/high has no defined R²/);
  assert.throws(() => rankLayers({ r2: r2.slice(0, 2), fluorescence: r2, tasks: TASKS, regimes: REGIMES }, TASKS, REGIMES, L, 'x'), /probe R² for 3 teacher layers/);
  const { ds, tf } = synthetic(900, 31, { emptyRegime: 2 });
  const r = distillFromFeatures(ds, tf, plantedRanking(), { alphas: [1], betas: [0], training: { maxEpochs: 1 }, moeGrid: { lengthScales: [1], taus: [0], kernels: ['isotropic'], D: 8 } });
  assert.equal(r.rows.train[2], 0, 'the row count reports the empty regime as empty');
  assert.ok(r.notes.some((n) => /regime high has no training rows: its students are trained on every training row \(pooled\)/.test(n)), r.notes.join('; '));
  assert.equal(r.students.length, 9, 'the empty regime still has its three students');
  const h = ds.header;
  const noRows = { ...ds, regime: new Uint8Array(h.samples) }; // every row in regime low: no regime has rows but low
  assert.ok(distillFromFeatures(noRows, tf, plantedRanking(), { alphas: [1], betas: [0], training: { maxEpochs: 1 }, moeGrid: { lengthScales: [1], taus: [0], kernels: ['isotropic'], D: 8 } }).notes.filter((n) => /pooled/.test(n)).length === 2);
});

test('cmm distill end to end with a feature-file teacher writes students.onnx + manifest and prints the table', () => {
  const { ds, tf } = synthetic(1200, 41);
  const dsFile = path.join(tmp, 'syn.ds');
  writeDataset(dsFile, ds);
  const N = ds.header.samples, spec = { T, F: FW, features: ['a', 'b', 'c'] };
  const windows = teacherWindows(ds, Uint32Array.from({ length: N }, (_, i) => i));
  const keys = Array.from({ length: N }, (_, i) => windowContentKey(windows, i, spec));
  const feat = path.join(tmp, 'syn.feat');
  writeFeatureFile(feat, { teacher: 'synthetic', keys, hidden: tf.hidden, heads: tf.heads, inputSpec: spec });
  const out = path.join(tmp, 'cli-students');
  const r = spawnSync(process.execPath, [path.join(REPO, 'dist', 'src', 'cli', 'cmm.js'), 'distill', '--dataset', dsFile, '--teacher', feat, '-o', out,
    '--alpha', '1', '--beta', '0', '--dprime', '2', '--hidden', '16x16', '--epochs', '3', '--baselines', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /TEST \(reported only\)/);
  for (const label of ['(a) Hájek-MoE', '(b) regime-routed', '(c) best single', '(d) teacher head', '(e) no-distill', '(f) plain KD', '(g) ridge raw']) assert.ok(r.stdout.includes(label), label);
  const m = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(m.format, 'cmm-students');
  assert.deepEqual(m.ofdd.hidden, [16, 16]);
  assert.match(m.ofdd.layerPicks.source, /validation/);
  const json = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(Number.isFinite(json.scores.test.moe[0].r2));
  // The teacher head is good on this problem: its test R² on mid is far above the ridge baseline.
  const test = sampleIndices(ds, 'test');
  assert.ok(scoreTask(ds, test, 0, Float64Array.from(test, (i) => tf.heads[i * 3])).r2 > json.scores.test.ridge[0].r2);
  const bad = spawnSync(process.execPath, [path.join(REPO, 'dist', 'src', 'cli', 'cmm.js'), 'distill', '--dataset', dsFile, '--teacher', feat, '-o', out, '--probe', path.join(tmp, 'nope.json')], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /probe file unreadable/);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
