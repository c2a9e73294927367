// Feature-file teacher: write → read round trip, lookup by content or time keys, missing keys (error or NaN skip),
// malformed files, and a dump of the reference teacher's own hidden states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineError } from '../../src/errors';
import {
  FeatureFileTeacher, OnnxTeacher, dumpTeacherFeatures, initTransformerWeights, readFeatureFile, syntheticDataset,
  transformerToOnnx, windowContentKey, windowTimeKey, writeFeatureFile,
} from '../../src/cmm/teacher';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-features-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const ds = syntheticDataset({ n: 12, T: 4, seed: 6 });
const L = 3, d = 5, N = 12;
const hidden = Array.from({ length: L }, (_, l) => Float32Array.from({ length: N * d }, (_, i) => l * 1000 + i + 0.25));
const heads = Float32Array.from({ length: N * 3 }, (_, i) => -i);
const contentKeys = Array.from({ length: N }, (_, i) => windowContentKey(ds.windows, i, ds.spec));

const isCode = (code: string, re?: RegExp) => (e: unknown) => e instanceof EngineError && e.code === code && (!re || re.test(e.message));

test('round trip: the teacher returns the written rows for content keys, in the order asked', async () => {
  const file = path.join(tmp, 'a.cmmf');
  writeFeatureFile(file, { teacher: 'unit', keys: contentKeys, hidden, heads, inputSpec: ds.spec, description: 'unit test' });
  assert.equal(fs.statSync(file).size % 4, 0);
  const f = readFeatureFile(file);
  assert.deepEqual([f.header.layers, f.header.d, f.header.count, f.header.heads], [L, d, N, true]);
  const t = new FeatureFileTeacher(file);
  assert.deepEqual([t.layers, t.hiddenSize, t.inputSpec.T], [L, d, 4]);
  // Windows 7 and 2, in that order.
  const per = ds.spec.T * ds.spec.F;
  const two = new Float32Array(2 * per);
  two.set(ds.windows.subarray(7 * per, 8 * per), 0);
  two.set(ds.windows.subarray(2 * per, 3 * per), per);
  const out = await t.run(two, 2);
  for (let l = 0; l < L; l++) {
    assert.deepEqual(out.hidden[l].subarray(0, d), hidden[l].subarray(7 * d, 8 * d));
    assert.deepEqual(out.hidden[l].subarray(d), hidden[l].subarray(2 * d, 3 * d));
  }
  assert.deepEqual(Array.from(out.heads), [-21, -22, -23, -6, -7, -8]);
});

test('time keys, missing keys: clear error by default, NaN rows when asked', () => {
  const file = path.join(tmp, 'b.cmmf');
  const keys = Array.from({ length: N }, (_, i) => windowTimeKey('BTCUSDT', 1_700_000_000_000_000_000n + BigInt(i)));
  writeFeatureFile(file, { teacher: 'gpu-llm', keys, hidden, inputSpec: ds.spec });
  const t = new FeatureFileTeacher(file);
  const out = t.runKeys([keys[3]]);
  assert.deepEqual(out.hidden[1], hidden[1].subarray(3 * d, 4 * d));
  assert.ok(Number.isNaN(out.heads[0]), 'no heads in the file → NaN heads');
  assert.throws(() => t.runKeys(['BTCUSDT@1']), isCode('E_BAD_INPUT', /no hidden states for window key "BTCUSDT@1"/));
  const lenient = new FeatureFileTeacher(file, { onMissing: 'nan' });
  const mixed = lenient.runKeys([keys[0], 'nope']);
  assert.ok(mixed.hidden[0].subarray(0, d).every(Number.isFinite));
  assert.ok(mixed.hidden[0].subarray(d).every(Number.isNaN));
});

test('writer refuses bad shapes and duplicate keys', () => {
  const file = path.join(tmp, 'c.cmmf');
  assert.throws(() => writeFeatureFile(file, { teacher: 'x', keys: contentKeys, hidden: [hidden[0], hidden[1].subarray(1)] }), isCode('E_INVALID_ARG'));
  assert.throws(() => writeFeatureFile(file, { teacher: 'x', keys: contentKeys, hidden, heads: heads.subarray(3) }), isCode('E_INVALID_ARG'));
  const dup = contentKeys.slice();
  dup[1] = dup[0];
  assert.throws(() => writeFeatureFile(file, { teacher: 'x', keys: dup, hidden }), isCode('E_INVALID_ARG', /unique keys/));
});

test('reader: bad magic, truncated data, lying header, missing file', () => {
  const good = path.join(tmp, 'a.cmmf');
  const bytes = new Uint8Array(fs.readFileSync(good));
  const write = (name: string, b: Uint8Array) => { const p = path.join(tmp, name); fs.writeFileSync(p, b); return p; };
  const magic = bytes.slice();
  magic[0] = 0x58;
  assert.throws(() => readFeatureFile(write('m.cmmf', magic)), isCode('E_BAD_FORMAT', /magic/));
  assert.throws(() => readFeatureFile(write('t.cmmf', bytes.subarray(0, bytes.length - 4))), isCode('E_BAD_FORMAT', /expected \d+ bytes/));
  const hugeHeader = bytes.slice();
  new DataView(hugeHeader.buffer).setUint32(8, 1e9, true);
  assert.throws(() => readFeatureFile(write('h.cmmf', hugeHeader)), isCode('E_BAD_FORMAT', /runs past the end/));
  // A header whose count disagrees with its keys.
  const text = new TextDecoder().decode(bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true)));
  const lying = new TextEncoder().encode(text.replace('"count":12', '"count":11'));
  const liar = bytes.slice();
  liar.set(lying, 12);
  assert.throws(() => readFeatureFile(write('l.cmmf', liar)), isCode('E_BAD_FORMAT', /keys must be 11 strings/));
  assert.throws(() => readFeatureFile(path.join(tmp, 'absent.cmmf')), isCode('E_FILE_NOT_FOUND'));
  const noSpec = path.join(tmp, 'nospec.cmmf');
  writeFeatureFile(noSpec, { teacher: 'x', keys: ['k'], hidden: [new Float32Array(2)] });
  assert.throws(() => new FeatureFileTeacher(noSpec), isCode('E_INVALID_ARG', /inputSpec/));
});

test('the reference teacher dumps its own hidden states; reading them back matches a live run', async () => {
  const spec = ds.spec;
  const config = { layers: 2, d: 8, heads: 2, ff: 16 };
  const onnx = await OnnxTeacher.create(transformerToOnnx({ spec, config, weights: initTransformerWeights(spec, config, 2), inputNorm: { mean: new Array(16).fill(0), std: new Array(16).fill(10) }, targetNorm: { mean: [0, 0, 0], std: [1, 1, 1] } }));
  const file = path.join(tmp, 'dump.cmmf');
  // Windows 0..5 twice: identical windows share a content key and are written once.
  const per = spec.T * spec.F;
  const doubled = new Float32Array(12 * per);
  doubled.set(ds.windows.subarray(0, 6 * per), 0);
  doubled.set(ds.windows.subarray(0, 6 * per), 6 * per);
  const header = await dumpTeacherFeatures(onnx, doubled, 12, file, undefined, 'unit dump');
  assert.equal(header.count, 6);
  const fromFile = new FeatureFileTeacher(file);
  assert.equal(fromFile.name, `feature-file(${onnx.name})`);
  const live = await onnx.run(ds.windows.subarray(0, 6 * per), 6), read = await fromFile.run(ds.windows.subarray(0, 6 * per), 6);
  live.hidden.forEach((h, l) => assert.deepEqual(read.hidden[l], h));
  assert.deepEqual(read.heads, live.heads);
  await onnx.dispose();
});
