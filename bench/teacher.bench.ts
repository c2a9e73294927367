// Reference-teacher figures: training epoch time of the default config, tfjs ↔ onnxruntime max abs diff, and
// per-window latency (batch 1 and batch 32) of OnnxTeacher vs the tfjs twin, plus the tiny LLM teacher.
// Run one case per process:
//   node dist/bench/teacher.bench.js train [--windows 50000] [--epochs 30] [--budget 1500] [--out models/teacher]
//   node dist/bench/teacher.bench.js latency [--dir models/teacher]
import * as fs from 'fs';
import * as path from 'path';
import {
  DEFAULT_TRANSFORMER_CONFIG, LlmTeacher, OnnxTeacher, TfjsTransformerTeacher, TransformerState, initTransformerWeights,
  loadTeacher, saveTeacher, scoreTeacher, setTeacherTestScores, sliceDataset, syntheticDataset, trainTeacher, transformerStateFromOnnx, transformerToOnnx,
} from '../src/cmm/teacher';
import { columnStats } from '../src/cmm/teacher/transformer-train';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};

async function timeAsync(n: number, warm: number, f: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warm; i++) await f();
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    await f();
    t[i] = Number(process.hrtime.bigint() - a) / 1e6;
  }
  t.sort();
  return { p50: t[Math.floor(n * 0.5)], p99: t[Math.floor(n * 0.99)] };
}

async function train(): Promise<void> {
  const N = Number(arg('windows', '50000'));
  const test = Math.floor(N * 0.1);
  const ds = syntheticDataset({ n: N + test, seed: 2024, stride: 2 });
  const t0 = Date.now();
  const trained = await trainTeacher(sliceDataset(ds, 0, N), { maxEpochs: Number(arg('epochs', '30')), timeBudgetSec: Number(arg('budget', '1500')) });
  const seconds = (Date.now() - t0) / 1000;
  const out = arg('out', path.join('models', 'teacher'));
  saveTeacher(trained, out, {
    dataDescription: `synthetic LOB process (src/cmm/teacher/synthetic.ts), seed 2024, stride 2, horizon 10 snapshots; windows [0, ${N}) of ${N + test}; the last ${test} held out as test`,
  }, N);
  const { teacher } = await loadTeacher(out);
  const testDs = sliceDataset(ds, N + ds.spec.T, N + test);
  const scores = await scoreTeacher(teacher, testDs);
  setTeacherTestScores(out, scores, { timeFrom: testDs.times[0], timeTo: testDs.times[testDs.times.length - 1], n: testDs.times.length, description: 'synthetic windows after an embargo of T' });
  await teacher.dispose();
  const epochs = trained.history.map((h) => ({ epoch: h.epoch, seconds: h.seconds, cpuSeconds: h.cpuSeconds, batches: h.batches, train: +h.trainLoss.toFixed(4), val: +h.valLoss.toFixed(4) }));
  process.stdout.write(JSON.stringify({ windows: N, params: trained.model.paramCount, totalSeconds: seconds, stoppedBy: trained.stoppedBy, bestEpoch: trained.bestEpoch, epochs, val: trained.valScores.r2, test: scores.r2 }, null, 2) + '\n');
}

async function latency(): Promise<void> {
  const dir = arg('dir', path.join('models', 'teacher'));
  let state: TransformerState;
  if (fs.existsSync(path.join(dir, 'manifest.json'))) {
    const { manifest } = await loadTeacher(dir); // verifies checksums
    state = transformerStateFromOnnx(new Uint8Array(fs.readFileSync(path.join(dir, manifest.files[0].path))));
  } else {
    const ds = syntheticDataset({ n: 200, seed: 1 });
    state = { spec: ds.spec, config: DEFAULT_TRANSFORMER_CONFIG, weights: initTransformerWeights(ds.spec, DEFAULT_TRANSFORMER_CONFIG, 1), inputNorm: columnStats(ds.windows, 16, 0, 6400), targetNorm: columnStats(ds.targets, 3, 0, 200) };
  }
  const onnx = await OnnxTeacher.create(transformerToOnnx(state));
  const tfjs = await TfjsTransformerTeacher.fromState(state);
  // Fresh inputs of the teacher's own shape (the shipped one reads 13 features, the synthetic process 16): each
  // column drawn around the teacher's input normalisation, mean + std × N(0, 1), seeded.
  const per = state.spec.T * state.spec.F;
  const fresh = { windows: new Float32Array(256 * per) };
  let seed = 99_001;
  const uniform = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) + 0.5) / 4294967296;
  for (let i = 0; i < fresh.windows.length; i++) {
    const f = i % state.spec.F;
    const gauss = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    fresh.windows[i] = state.inputNorm.mean[f] + state.inputNorm.std[f] * gauss;
  }
  const a = await tfjs.run(fresh.windows, 256), b = await onnx.run(fresh.windows, 256);
  const diff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
  const perLayer = a.hidden.map((h, l) => diff(h, b.hidden[l]));
  const one = fresh.windows.subarray(0, per), batch = fresh.windows.subarray(0, 32 * per);
  const onnx1 = await timeAsync(3000, 300, () => onnx.run(one, 1));
  const onnx32 = await timeAsync(300, 30, () => onnx.run(batch, 32));
  const tfjs1 = await timeAsync(200, 20, () => tfjs.run(one, 1));
  const llm = await LlmTeacher.load(path.join('models', 'llm-tiny'));
  const ds = syntheticDataset({ n: 1, seed: 5 });
  const llm1 = await timeAsync(300, 30, () => llm.teacher.run(ds.windows, 1));
  process.stdout.write(JSON.stringify({
    params: tfjs.model.paramCount,
    maxAbsDiff: { hiddenPerLayer: perLayer, heads: diff(a.heads, b.heads) },
    onnxBatch1Ms: onnx1, onnxBatch32PerWindowMs: { p50: onnx32.p50 / 32, p99: onnx32.p99 / 32 }, tfjsBatch1Ms: tfjs1, llmTinyBatch1Ms: llm1,
  }, null, 2) + '\n');
  await Promise.all([onnx.dispose(), llm.teacher.dispose()]);
  tfjs.dispose();
}

// `npm run bench` runs every bench with no argument: the latency case (training is minutes, run it by name).
const mode = process.argv[2] ?? 'latency';
(mode === 'train' ? train() : mode === 'latency' ? latency() : Promise.reject(new Error('usage: teacher.bench.js train|latency [options]'))).catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
