// Reference teacher: shapes and layer count, seeded training that lowers the validation loss, tfjs ↔ onnxruntime
// parity on fresh inputs for every layer and the heads, and the manifest's checksum verification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineError } from '../../src/errors';
import {
  DEFAULT_TRANSFORMER_CONFIG, OnnxTeacher, TfjsTransformerTeacher, countParams, initTransformerWeights, loadTeacher,
  saveTeacher, scoreTeacher, setTeacherTestScores, syntheticDataset, trainTeacher, transformerStateFromOnnx, transformerToOnnx,
  TrainedTeacher, sliceDataset, TeacherDataset,
} from '../../src/cmm/teacher';
import { columnStats } from '../../src/cmm/teacher/transformer-train';

const SMALL = { layers: 2, d: 16, heads: 2, ff: 32 };

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

let trainedOnce: Promise<{ trained: TrainedTeacher; ds: TeacherDataset }> | undefined;
function smallTrained() {
  trainedOnce ??= (async () => {
    const ds = syntheticDataset({ n: 900, T: 8, seed: 21, stride: 4 });
    const trained = await trainTeacher(sliceDataset(ds, 0, 700), { config: SMALL, batchSize: 32, maxEpochs: 4, patience: 4, warmupSteps: 20, learningRate: 3e-3, seed: 5, log: false });
    return { trained, ds };
  })();
  return trainedOnce;
}

test('default config: ≥ 4 layers, d = 64, about 200 k parameters, one hidden state per layer', async () => {
  const ds = syntheticDataset({ n: 40, seed: 3 });
  assert.deepEqual([ds.spec.T, ds.spec.F], [32, 16]);
  const params = countParams(ds.spec, DEFAULT_TRANSFORMER_CONFIG);
  assert.ok(DEFAULT_TRANSFORMER_CONFIG.layers >= 4 && DEFAULT_TRANSFORMER_CONFIG.d === 64);
  assert.ok(params > 190_000 && params < 220_000, `params ${params}`);
  const state = {
    spec: ds.spec, config: DEFAULT_TRANSFORMER_CONFIG, weights: initTransformerWeights(ds.spec, DEFAULT_TRANSFORMER_CONFIG, 1),
    inputNorm: columnStats(ds.windows, 16, 0, 40 * 32), targetNorm: columnStats(ds.targets, 3, 0, 40),
  };
  const teacher = await TfjsTransformerTeacher.fromState(state);
  assert.equal(teacher.model.paramCount, params);
  const out = await teacher.run(ds.windows.subarray(0, 5 * 32 * 16), 5);
  assert.equal(teacher.layers, 4);
  assert.equal(out.hidden.length, 4);
  for (const h of out.hidden) {
    assert.equal(h.length, 5 * 64);
    assert.ok(h.every(Number.isFinite));
  }
  assert.equal(out.heads.length, 5 * 3);
  await assert.rejects(teacher.run(new Float32Array(7), 1), (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG');
  teacher.dispose();
});

test('seeded init gives identical weights; another seed differs', () => {
  const spec = syntheticDataset({ n: 2, T: 8, seed: 1 }).spec;
  const a = initTransformerWeights(spec, SMALL, 9), b = initTransformerWeights(spec, SMALL, 9), c = initTransformerWeights(spec, SMALL, 10);
  for (const [name, w] of a) assert.deepEqual(w, b.get(name), name);
  assert.notDeepEqual(a.get('l0_qkv_w'), c.get('l0_qkv_w'));
});

test('training lowers the validation loss (later time slice) on a seeded synthetic task', async () => {
  const { trained } = await smallTrained();
  const { history, split } = trained;
  assert.ok(split.validation.start >= split.train.end + split.embargo, 'validation after train + embargo');
  assert.ok(split.validation.timeFrom > split.train.timeTo, 'validation is a later time slice');
  assert.ok(trained.valLoss < 0.85 * trained.initialValLoss, `val loss ${trained.valLoss} vs initial ${trained.initialValLoss}`);
  assert.ok(history[history.length - 1].trainLoss < history[0].trainLoss, 'train loss falls');
  // The synthetic volume target is driven by the volatility regime the inputs reveal: learnable.
  assert.ok(trained.valScores.r2.volume > 0.2, `R² volume ${trained.valScores.r2.volume}`);
});

test('tfjs and onnxruntime agree on fresh inputs for every layer and the heads', async () => {
  const { trained } = await smallTrained();
  const state = trained.model.toState();
  const onnx = await OnnxTeacher.create(transformerToOnnx(state));
  const tfjs = TfjsTransformerTeacher.fromModel(trained.model);
  const fresh = syntheticDataset({ n: 64, T: 8, seed: 977, startPrice: 140 }); // unseen seed and price level
  const a = await tfjs.run(fresh.windows, 64), b = await onnx.run(fresh.windows, 64);
  assert.equal(b.hidden.length, SMALL.layers);
  let worst = 0;
  a.hidden.forEach((h, l) => (worst = Math.max(worst, maxAbsDiff(h, b.hidden[l]))));
  worst = Math.max(worst, maxAbsDiff(a.heads, b.heads));
  assert.ok(worst <= 1e-4, `max abs diff ${worst}`);
  // Default-size model at random init, on raw Gaussian inputs (out of distribution).
  const spec = syntheticDataset({ n: 1, seed: 1 }).spec;
  const big = { spec, config: DEFAULT_TRANSFORMER_CONFIG, weights: initTransformerWeights(spec, DEFAULT_TRANSFORMER_CONFIG, 4), inputNorm: { mean: new Array(16).fill(0.5), std: new Array(16).fill(2) }, targetNorm: { mean: [0, 2, 4], std: [3, 1, 0.5] } };
  const x = syntheticDataset({ n: 16, seed: 5 }).windows;
  const tb = await TfjsTransformerTeacher.fromState(big), ob = await OnnxTeacher.create(transformerToOnnx(big));
  const c = await tb.run(x, 16), d = await ob.run(x, 16);
  let worstBig = maxAbsDiff(c.heads, d.heads);
  c.hidden.forEach((h, l) => (worstBig = Math.max(worstBig, maxAbsDiff(h, d.hidden[l]))));
  assert.ok(worstBig <= 1e-4, `default config max abs diff ${worstBig}`);
  // The exported file carries everything needed to rebuild the tfjs state.
  const back = transformerStateFromOnnx(transformerToOnnx(state));
  assert.deepEqual(back.weights.get('l1_ff2_w'), state.weights.get('l1_ff2_w'));
  tb.dispose();
  await Promise.all([onnx.dispose(), ob.dispose()]);
});

test('manifest: written by saveTeacher, verified on load; a tampered or missing file is E_MODEL', async () => {
  const { trained, ds } = await smallTrained();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-teacher-'));
  try {
    const m = saveTeacher(trained, dir, { dataDescription: 'synthetic seed 21 stride 4, windows [0, 700)' }, 700);
    assert.equal(m.layers, SMALL.layers);
    assert.equal(m.parameters, trained.model.paramCount);
    assert.equal(m.inputs.F, 16);
    assert.equal(m.normalisation.inputs.mean.length, 16);
    assert.match(m.files[0].sha256, /^[0-9a-f]{64}$/);
    assert.equal(m.scores.test, null);
    const { teacher, manifest } = await loadTeacher(dir);
    assert.equal(teacher.layers, manifest.layers);
    // Test scores: computed by the caller on its held-out split (here windows [760, 900), after training data).
    const test = sliceDataset(ds, 760, 900);
    const scores = await scoreTeacher(teacher, test);
    const filled = setTeacherTestScores(dir, scores, { timeFrom: test.times[0], timeTo: test.times[test.times.length - 1], n: 140 });
    assert.equal(filled.scores.test?.n, 140);
    assert.throws(() => setTeacherTestScores(dir, scores, { timeFrom: ds.times[10], timeTo: ds.times[20], n: 10 }), (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG');
    await teacher.dispose();
    await (await loadTeacher(dir)).teacher.dispose(); // the scores rewrite keeps the model files valid

    const onnxPath = path.join(dir, 'teacher.onnx');
    const bytes = new Uint8Array(fs.readFileSync(onnxPath));
    bytes[bytes.length - 5] ^= 0xff;
    fs.writeFileSync(onnxPath, bytes);
    await assert.rejects(loadTeacher(dir), (e: unknown) => e instanceof EngineError && e.code === 'E_MODEL' && /checksum mismatch/.test(e.message));
    fs.unlinkSync(onnxPath);
    await assert.rejects(loadTeacher(dir), (e: unknown) => e instanceof EngineError && e.code === 'E_MODEL' && /missing/.test(e.message));
    fs.unlinkSync(path.join(dir, 'manifest.json'));
    await assert.rejects(loadTeacher(dir), (e: unknown) => e instanceof EngineError && e.code === 'E_MODEL' && /manifest missing/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('training is reproducible: same seed, same losses and weights', async () => {
  const ds = syntheticDataset({ n: 400, T: 8, seed: 8, stride: 2 });
  const opts = { config: { layers: 1, d: 8, heads: 2, ff: 16 }, batchSize: 32, maxEpochs: 1, seed: 3, log: false as const };
  const a = await trainTeacher(ds, opts), b = await trainTeacher(ds, opts);
  assert.equal(a.history[0].trainLoss, b.history[0].trainLoss);
  assert.deepEqual(a.model.weights().get('l0_ff1_w'), b.model.weights().get('l0_ff1_w'));
  const c = await trainTeacher(ds, { ...opts, seed: 4 });
  assert.notEqual(c.history[0].trainLoss, a.history[0].trainLoss);
  for (const t of [a, b, c]) t.model.dispose();
});

test('trainTeacher rejects datasets too small to split and unordered times', async () => {
  const ds = syntheticDataset({ n: 100, T: 8, seed: 2 });
  await assert.rejects(trainTeacher(ds, { config: SMALL, log: false }), (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG');
  const times = ds.times.slice();
  times[5] = -1;
  await assert.rejects(trainTeacher({ ...ds, times }, { config: SMALL, log: false }), /non-decreasing times/);
});
