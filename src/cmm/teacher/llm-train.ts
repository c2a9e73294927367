// Builds the shipped tiny LLM (models/llm-tiny/): narratives of seeded synthetic windows, each followed by its
// forecast sentence, train a small word-level decoder by next-token prediction in tfjs (wasm); then ONNX export,
// vocab.json, a ridge read-out (readout.json) and a verified manifest.
//   node dist/src/cmm/teacher/llm-train.js [--out models/llm-tiny] [--windows 2400] [--steps 500] [--seed 11]
import * as fs from 'fs';
import * as path from 'path';
import { describeFile, writeManifest } from '../models';
import { LLM_MANIFEST_FORMAT, LlmManifest, LlmTeacher } from './llm';
import { TinyLmConfig, TinyLmModel, initLmWeights, tinyLmToOnnx } from './llm-model';
import { BOS_ID, EOS_ID, PAD_ID, WordTokenizer, forecastPrompt, renderForecast, renderNarrative, windowFacts } from './narrative';
import { SeededRandom, clipByGlobalNorm, tf, useWasmBackend } from './nn';
import { syntheticDataset } from './synthetic';
import { TeacherDataset, scoreHeads, sliceDataset } from './teacher';

export interface TinyLmTrainOptions {
  config?: Partial<Omit<TinyLmConfig, 'vocab'>>;
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  log?: ((line: string) => void) | false;
}

export const DEFAULT_TINY_LM: Omit<TinyLmConfig, 'vocab'> = { maxLen: 128, layers: 4, d: 64, heads: 4, ff: 128 };

/** Next-token training on token sequences (each [BOS] … [EOS]); returns the model and the loss curve. */
export async function trainTinyLm(seqs: number[][], vocab: number, opts: TinyLmTrainOptions = {}): Promise<{ model: TinyLmModel; losses: number[] }> {
  await useWasmBackend();
  const config: TinyLmConfig = { ...DEFAULT_TINY_LM, ...opts.config, vocab };
  const steps = opts.steps ?? 500, batch = opts.batchSize ?? 16, lr = opts.learningRate ?? 3e-3, seed = opts.seed ?? 11;
  const log = opts.log === false ? () => {} : opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const model = new TinyLmModel(config, initLmWeights(config, seed));
  const optimizer = tf.train.adam(lr);
  const rng = new SeededRandom(seed + 1);
  const order = Int32Array.from({ length: seqs.length }, (_, i) => i);
  rng.shuffle(order);
  let cursor = 0;
  const losses: number[] = [];
  const t0 = Date.now();
  for (let step = 1; step <= steps; step++) {
    const rows: number[][] = [];
    for (let b = 0; b < batch; b++) {
      if (cursor >= order.length) { rng.shuffle(order); cursor = 0; }
      rows.push(seqs[order[cursor++]].slice(0, config.maxLen + 1));
    }
    const S = Math.max(...rows.map((r) => r.length)) - 1;
    const ids = new Int32Array(batch * S).fill(PAD_ID), tgt = new Int32Array(batch * S).fill(PAD_ID), w = new Float32Array(batch * S);
    rows.forEach((r, b) => {
      for (let j = 0; j + 1 < r.length; j++) { ids[b * S + j] = r[j]; tgt[b * S + j] = r[j + 1]; w[b * S + j] = 1; }
    });
    // Warmup, then cosine decay to 10 %.
    (optimizer as unknown as { learningRate: number }).learningRate = lr * Math.min(1, step / 50) * (0.55 + 0.45 * Math.cos((Math.PI * step) / steps));
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(tf.tensor2d(ids, [batch, S], 'int32'), tf.tensor2d(tgt, [batch, S], 'int32'), tf.tensor2d(w, [batch, S])), [...model.vars.values()]);
      optimizer.applyGradients(clipByGlobalNorm(grads, 1.0) as unknown as Parameters<typeof optimizer.applyGradients>[0]);
      return (value.dataSync() as Float32Array)[0];
    });
    losses.push(loss);
    if (step % 25 === 0 || step === steps) {
      const el = (Date.now() - t0) / 1000;
      log(`tiny LM step ${step}/${steps} loss ${loss.toFixed(3)} ETA ${((el / step) * (steps - step)).toFixed(0)} s`);
    }
  }
  optimizer.dispose();
  return { model, losses };
}

/** Narrative + forecast training text of window i. */
export function trainingText(ds: TeacherDataset, i: number, narrative: { tick: number; volCuts: [number, number] }): string {
  const per = ds.spec.T * ds.spec.F;
  const prompt = forecastPrompt(renderNarrative(ds.windows.subarray(i * per, (i + 1) * per), ds.spec, narrative));
  return prompt + renderForecast(ds.targets[i * 3], ds.targets[i * 3 + 1], ds.targets[i * 3 + 2]);
}

/** 33rd / 66th percentiles of the narrative's volatility (windowFacts) at the decision snapshot over windows [start, end). */
export function volatilityCuts(ds: TeacherDataset, start: number, end: number): [number, number] {
  const per = ds.spec.T * ds.spec.F;
  const v: number[] = [];
  for (let i = start; i < end; i++) {
    const x = windowFacts(ds.windows.subarray(i * per, (i + 1) * per), ds.spec).volatility;
    if (x !== undefined && Number.isFinite(x)) v.push(x);
  }
  if (v.length === 0) return [0.7, 1.5];
  v.sort((a, b) => a - b);
  return [v[Math.floor(v.length / 3)], v[Math.floor((2 * v.length) / 3)]];
}

export interface BuildTinyLlmOptions extends TinyLmTrainOptions {
  outDir: string;
  windows?: number;
  dataSeed?: number;
}

/** Trains and writes the whole folder; returns its manifest. */
export async function buildTinyLlm(opts: BuildTinyLlmOptions): Promise<LlmManifest> {
  const N = opts.windows ?? 2400, dataSeed = opts.dataSeed ?? 101;
  const ds = syntheticDataset({ n: N, seed: dataSeed, stride: 4 });
  const trainEnd = Math.floor(N * 0.8), valStart = trainEnd + Math.ceil(ds.spec.T / 4);
  const narrative = { tick: ds.tick, volCuts: volatilityCuts(ds, 0, trainEnd) };
  const texts = Array.from({ length: trainEnd }, (_, i) => trainingText(ds, i, narrative));
  const tokenizer = WordTokenizer.build(texts);
  const seqs = texts.map((t) => [BOS_ID, ...tokenizer.encode(t), EOS_ID]);
  const t0 = Date.now();
  const { model, losses } = await trainTinyLm(seqs, tokenizer.size, opts);
  const trainSeconds = (Date.now() - t0) / 1000;
  fs.mkdirSync(opts.outDir, { recursive: true });
  const onnx = tinyLmToOnnx(model.config, model.weights());
  fs.writeFileSync(path.join(opts.outDir, 'model.onnx'), onnx);
  fs.writeFileSync(path.join(opts.outDir, 'vocab.json'), JSON.stringify(tokenizer.toJson()) + '\n');
  const teacher = await LlmTeacher.create({ onnx, tokenizer, spec: ds.spec, narrative, name: 'llm-tiny' });
  const train = sliceDataset(ds, 0, trainEnd), val = sliceDataset(ds, valStart, N);
  const readout = await teacher.fitReadout(train.windows, train.targets, trainEnd);
  fs.writeFileSync(path.join(opts.outDir, 'readout.json'), JSON.stringify(readout) + '\n');
  const valOut = await teacher.run(val.windows, N - valStart);
  const readoutValidation = scoreHeads(valOut.heads, val.targets);
  let parsed = 0;
  const probes = Math.min(20, N - valStart);
  for (let i = 0; i < probes; i++) if ((await teacher.forecast(val.windows, i)).parsed) parsed++;
  await teacher.dispose();
  const manifest: LlmManifest = {
    format: LLM_MANIFEST_FORMAT,
    version: 1,
    name: 'llm-tiny',
    createdAt: new Date().toISOString(),
    model: { ...model.config, parameters: model.paramCount, onnxBytes: onnx.length },
    inputs: ds.spec,
    narrative,
    files: [describeFile(opts.outDir, 'model.onnx', 'onnx'), describeFile(opts.outDir, 'vocab.json', 'vocab'), describeFile(opts.outDir, 'readout.json', 'readout')],
    training: {
      data: `synthetic LOB process (src/cmm/teacher/synthetic.ts), seed ${dataSeed}, ${N} windows of T=${ds.spec.T} (stride 4, horizon 10); windows [0, ${trainEnd}) train the LM and the read-out, [${valStart}, ${N}) validate`,
      text: 'narrative + " Forecast:" + forecast sentence of the true targets, [BOS] … [EOS]',
      tokenizer: `word-level with character fallback, ${tokenizer.size} tokens`,
      steps: losses.length, batchSize: opts.batchSize ?? 16, learningRate: opts.learningRate ?? 3e-3, seed: opts.seed ?? 11,
      firstLoss: losses[0], lastLoss: mean(losses.slice(-25)), seconds: trainSeconds,
      readout: `ridge (lambda ${readout.lambda}) on the ${model.config.layers} layers' last-token states concatenated`,
    },
    scores: { readoutValidation, generationParseRate: parsed / probes, test: null },
  };
  model.dispose();
  writeManifest(opts.outDir, manifest);
  return manifest;
}

function mean(a: number[]): number {
  return a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
}

if (require.main === module) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
  };
  buildTinyLlm({
    outDir: arg('out', path.join('models', 'llm-tiny')),
    windows: Number(arg('windows', '2400')),
    steps: Number(arg('steps', '500')),
    seed: Number(arg('seed', '11')),
  }).then((m) => {
    process.stdout.write(JSON.stringify({ model: m.model, scores: m.scores, training: m.training }, null, 2) + '\n');
  }, (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
