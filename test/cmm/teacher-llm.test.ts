// LLM teacher end to end on the shipped tiny model (models/llm-tiny): checksums, hidden-state shapes, padding
// independence, tfjs ↔ onnxruntime parity of the LM, deterministic narrative, tokenizer round trip, ridge
// read-out, and defensive parsing of free text (nonsense → null, never a throw).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineError } from '../../src/errors';
import {
  LlmTeacher, TinyLmModel, WordTokenizer, fitReadoutRidge, parseForecast, predictReadout, renderForecast, renderNarrative,
  syntheticDataset, tinyLmFromOnnx, useWasmBackend, BOS_ID,
} from '../../src/cmm/teacher';
import { tf } from '../../src/cmm/teacher/nn';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MODEL_DIR = path.join(ROOT, 'models', 'llm-tiny');

test('the shipped tiny LM is small and its folder verifies', () => {
  const total = fs.readdirSync(MODEL_DIR).reduce((s, f) => s + fs.statSync(path.join(MODEL_DIR, f)).size, 0);
  assert.ok(total < 2 * 1024 * 1024, `models/llm-tiny is ${total} bytes`);
});

test('LLM teacher end to end: H_l per layer at the last token, read-out heads, batch = one by one', async () => {
  const { teacher, manifest } = await LlmTeacher.load(MODEL_DIR);
  assert.equal(teacher.layers, manifest.model.layers);
  assert.ok(teacher.layers >= 2);
  const ds = syntheticDataset({ n: 5, seed: 4242 });
  const out = await teacher.run(ds.windows, 5);
  assert.equal(out.hidden.length, teacher.layers);
  for (const h of out.hidden) {
    assert.equal(h.length, 5 * teacher.hiddenSize);
    assert.ok(h.every(Number.isFinite));
  }
  assert.equal(out.heads.length, 15);
  assert.ok(out.heads.every(Number.isFinite), 'read-out heads');
  // Prompts of different lengths padded together give the same last-token states as one at a time.
  const per = ds.spec.T * ds.spec.F;
  for (const i of [0, 3]) {
    const one = await teacher.run(ds.windows.subarray(i * per, (i + 1) * per), 1);
    one.hidden.forEach((h, l) => {
      for (let j = 0; j < h.length; j++) assert.ok(Math.abs(h[j] - out.hidden[l][i * teacher.hiddenSize + j]) < 1e-4);
    });
  }
  await teacher.dispose();
});

test('tfjs and onnxruntime agree on the tiny LM hidden states', async () => {
  const { teacher } = await LlmTeacher.load(MODEL_DIR);
  const { config, weights } = tinyLmFromOnnx(new Uint8Array(fs.readFileSync(path.join(MODEL_DIR, 'model.onnx'))));
  await useWasmBackend();
  const model = new TinyLmModel(config, weights);
  const prompt = teacher.prompt(syntheticDataset({ n: 1, seed: 77 }).windows, 0);
  const ids = teacher.encodePrompt(prompt);
  const onnx = await teacher.hiddenForPrompts([prompt]);
  const d = config.d;
  tf.tidy(() => {
    const { hidden } = model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'));
    hidden.forEach((h, l) => {
      const last = (h.dataSync() as Float32Array).subarray((ids.length - 1) * d, ids.length * d);
      let worst = 0;
      for (let j = 0; j < d; j++) worst = Math.max(worst, Math.abs(last[j] - onnx[l][j]));
      assert.ok(worst <= 1e-4, `layer ${l}: ${worst}`);
    });
  });
  model.dispose();
  await teacher.dispose();
});

test('narrative rendering is deterministic and reads named features', () => {
  const spec = { T: 3, F: 5, features: ['mid_price', 'mid_change_ticks', 'spread_ticks', 'buy_volume', 'sell_volume'] };
  const w = Float32Array.from([
    100.0, 0, 1, 5, 5,
    100.02, 2, 2, 3, 1,
    100.04, 2, 3, 9.4, 2,
  ]);
  const text = renderNarrative(w, spec, { tick: 0.01 });
  assert.equal(text, 'Over the last 3 snapshots the mid rose 4 ticks to 100.040; the spread widened from 1 to 3 ticks; buyers took 12 lots vs 3 sold.');
  assert.equal(renderNarrative(w, spec, { tick: 0.01 }), text);
  // The dataset builder's names: a balanced book and rising volatility.
  const real = { T: 2, F: 4, features: ['spreadTicks', 'imbalance5', 'logRealisedVol', 'midChangeTicks'] };
  assert.equal(renderNarrative(Float32Array.from([2, 0, 0.1, 0, 2, 0.24, 1.2, -1]), real, { volCuts: [0.5, 1] }),
    'Over the last 2 snapshots the mid fell 1 tick; the spread stayed at 2 ticks; the bid side holds 62% of the top-5 depth; volatility is high.');
  const ds = syntheticDataset({ n: 3, seed: 12 });
  const per = ds.spec.T * ds.spec.F;
  assert.equal(renderNarrative(ds.windows.subarray(per, 2 * per), ds.spec), renderNarrative(ds.windows.slice(per, 2 * per), ds.spec));
});

test('tokenizer: lossless on ASCII, characters for unknown words, <unk> outside ASCII', () => {
  const tok = WordTokenizer.fromJson(JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'vocab.json'), 'utf8')));
  const s = 'Over the last 4.8 s the mid rose 2 ticks; zebra! Forecast: mid +1 ticks';
  assert.equal(tok.decode(tok.encode(s)), s);
  assert.ok(tok.encode(' rose').length === 1 && tok.encode(' zebra').length > 1);
  assert.equal(tok.decode(tok.encode('prix €')), 'prix ?');
  assert.throws(() => WordTokenizer.fromJson({ format: 'other' }), (e: unknown) => e instanceof EngineError && e.code === 'E_MODEL');
  assert.throws(() => new WordTokenizer(['<pad>', '<bos>', '<eos>', '<unk>', 'a', 'a']), /twice/);
  assert.equal(BOS_ID, 1);
});

test('free-text forecasts: well-formed parses, nonsense is null and never throws', async () => {
  assert.deepEqual(parseForecast(renderForecast(-2.2, 1.55, 3.26)), { mid: -2, spread: 1.6, volume: 3.3 });
  assert.deepEqual(parseForecast('Forecast: Mid: +3, spread=2 ticks, volume 4.'), { mid: 3, spread: 2, volume: 4 });
  const nonsense: unknown[] = [
    '', 'mid', 'the mid rose', 'mid +2 ticks; spread 1.5 ticks', 'mid +2; spread -1; volume 3', 'mid 1 mid 2 spread 1 volume 1',
    'mid 99999999999 spread 1 volume 1', 'mid +2 spread 1 volume 1e9', 'mid NaN spread 1 volume 2', '\u0000\uffff'.repeat(50),
    'x'.repeat(20_000), undefined, null, 42, {}, ['mid 1'],
  ];
  for (const n of nonsense) assert.equal(parseForecast(n), null, JSON.stringify(n)?.slice(0, 40));
  // Whatever the tiny model generates, the answer is parsed or null.
  const { teacher } = await LlmTeacher.load(MODEL_DIR);
  const ds = syntheticDataset({ n: 2, seed: 5150 });
  for (let i = 0; i < 2; i++) {
    const { text, parsed } = await teacher.forecast(ds.windows, i, 20);
    assert.equal(typeof text, 'string');
    if (parsed) for (const v of Object.values(parsed)) assert.ok(Number.isFinite(v));
  }
  await teacher.dispose();
});

test('ridge read-out recovers a linear map; tampered LLM files are E_MODEL', async () => {
  const n = 200, p = 4;
  const X = Float64Array.from({ length: n * p }, (_, i) => Math.sin(i * 1.7) * 3 + (i % p));
  const Y = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) Y[i * 3 + k] = 1 + k + X[i * p] * (k - 1) + 0.5 * X[i * p + 3];
  const m = fitReadoutRidge(X, Y, n, p, 3, 1e-6);
  const Yhat = predictReadout(m, X, n);
  for (let i = 0; i < Y.length; i++) assert.ok(Math.abs(Yhat[i] - Y[i]) < 1e-3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-llm-'));
  try {
    for (const f of fs.readdirSync(MODEL_DIR)) fs.copyFileSync(path.join(MODEL_DIR, f), path.join(dir, f));
    fs.appendFileSync(path.join(dir, 'vocab.json'), ' ');
    await assert.rejects(LlmTeacher.load(dir), (e: unknown) => e instanceof EngineError && e.code === 'E_MODEL' && /vocab\.json/.test(e.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
