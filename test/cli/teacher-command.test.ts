// `cmm teacher` end to end on a tiny dataset from the Binance fixtures: train (4 layers, d 16, 1 epoch) writes the
// ONNX + manifest with test scores; a reload matches the tfjs twin; score and export-features agree with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readDataset, sampleIndices, teacherWindows, toTeacherDataset } from '../../src/cmm/dataset-file';
import { readBytes } from '../../src/cmm/models';
import { loadTeacher, scoreTeacher } from '../../src/cmm/teacher/manifest';
import { transformerStateFromOnnx } from '../../src/cmm/teacher/export-onnx';
import { TfjsTransformerTeacher } from '../../src/cmm/teacher/transformer';
import { FeatureFileTeacher, readFeatureFile } from '../../src/cmm/teacher/feature-file';
import { runInChunks } from '../../src/cmm/teacher/teacher';

const REPO = path.resolve(__dirname, '..', '..', '..');
const CMM = path.join(REPO, 'dist', 'src', 'cli', 'cmm.js');
const FIX = path.join(REPO, 'test', 'fixtures', 'binance');

function cmm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CMM, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
/** Equal scores; NaN (an undefined R², e.g. a constant target) is stored in JSON as null. */
const sameScore = (a: number | null, b: number | null) => (a === null || Number.isNaN(a) ? b === null || Number.isNaN(b) : b !== null && Math.abs(a - b) < 1e-6);
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

test('cmm teacher train / score / export-features on a tiny fixture dataset', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-teacher-'));
  const log = path.join(dir, 'binance.cmm'), dsFile = path.join(dir, 'ds.cmmds'), out = path.join(dir, 'teacher');
  const inputs = ['usdm_btcusdt', 'usdm_ethusdt'].map((f) => path.join(FIX, `${f}_20240808.head400.gz`));
  assert.equal(cmm('import', 'binance', ...inputs, '-o', log).status, 0);
  assert.equal(cmm('dataset', log, '-o', dsFile, '--horizon', '10', '--every', '2', '--window', '8').status, 0);
  const ds = readDataset(dsFile);
  const nTrain = ds.header.splits.train.end - ds.header.splits.train.start;
  const nTest = ds.header.splits.test.end - ds.header.splits.test.start;
  assert.ok(nTrain > 200 && nTest > 20, `fixture dataset too small: ${nTrain} train, ${nTest} test`);

  const r = cmm('teacher', 'train', '--dataset', dsFile, '-o', out, '--layers', '4', '--d', '16', '--epochs', '1', '--batch', '16', '--seed', '3', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /epoch 1\/1 batch \d+\/\d+ loss [0-9.]+ ETA/);
  const summary = lastJson(r.stdout);
  assert.equal(summary.epochs, 1);

  // Manifest: inputs, outputs, data description, split boundaries, seed, validation and TEST scores.
  const { teacher, manifest } = await loadTeacher(out);
  try {
    assert.equal(manifest.layers, 4);
    assert.equal(manifest.d, 16);
    assert.equal(manifest.training.seed, 3);
    assert.deepEqual(manifest.outputs.hidden, ['hidden_0', 'hidden_1', 'hidden_2', 'hidden_3']);
    assert.deepEqual(manifest.inputs.features, ds.header.windowFeatures);
    assert.equal(manifest.inputs.T, 8);
    assert.equal(manifest.files.length, 1);
    assert.match(manifest.files[0].sha256, /^[0-9a-f]{64}$/);
    assert.equal(manifest.training.windows, nTrain, 'the teacher sees exactly the TRAIN split');
    const split = manifest.training.split;
    assert.ok(split.train.end + split.embargo <= split.validation.start && split.validation.end === nTrain);
    assert.match(manifest.training.data, /TRAIN split only/);
    assert.equal(manifest.training.epochs.length, 1);
    assert.equal(manifest.scores.validation.n, nTrain - split.validation.start);
    const test = manifest.scores.test!;
    assert.ok(test, 'test scores recorded');
    assert.equal(test.n, nTest);
    for (const src of ds.header.sources) assert.ok(src.splitTimes.test![0] > src.splitTimes.train![1], 'per source, test after train');
    // The fixture's two sources span different times: the pooled test split starts inside the other's training data.
    if (!(test.split.timeFrom > split.validation.timeTo)) assert.match(test.split.description!, /NOTE: per source/);
    const extra = manifest as unknown as { dataset: { rebuild: string; sha256: string; splits: Record<string, number> }; onnxParity: { maxAbsDiffHidden: number; maxAbsDiffHeads: number } };
    assert.match(extra.dataset.rebuild, /^cmm dataset .* --horizon 10 --every 2 --window 8 /);
    assert.equal(extra.dataset.splits.test, nTest);
    assert.ok(extra.onnxParity.maxAbsDiffHidden < 1e-4 && extra.onnxParity.maxAbsDiffHeads < 1e-4);

    // Reload: the ONNX in onnxruntime matches the tfjs twin rebuilt from the same file's weights.
    const testDs = toTeacherDataset(ds, 'test');
    const twin = await TfjsTransformerTeacher.fromState(transformerStateFromOnnx(readBytes(path.join(out, 'teacher.onnx'))));
    const [a, b] = [await runInChunks(teacher, testDs.windows, nTest), await runInChunks(twin, testDs.windows, nTest)];
    twin.dispose();
    a.hidden.forEach((h, l) => assert.ok(maxAbsDiff(h, b.hidden[l]) < 1e-4, `hidden_${l} parity`));
    assert.ok(maxAbsDiff(a.heads, b.heads) < 1e-4);

    // The recorded test scores are the reloaded teacher's scores on the TEST split.
    const rescored = await scoreTeacher(teacher, testDs);
    for (const k of ['mid', 'spread', 'volume'] as const) assert.ok(sameScore(rescored.r2[k], test.r2[k]), `test R² ${k}: ${rescored.r2[k]} vs ${test.r2[k]}`);
    assert.ok(Number.isFinite(test.r2.volume), 'volume varies in the fixture: a finite R²');

    // cmm teacher score agrees; export-features writes the same hidden states.
    const s = cmm('teacher', 'score', '--teacher', out, '--dataset', dsFile, '--json');
    assert.equal(s.status, 0, s.stderr);
    assert.ok(sameScore(lastJson(s.stdout).scores.r2.volume, test.r2.volume));
    const feats = path.join(dir, 'features.bin');
    const e = cmm('teacher', 'export-features', '--teacher', out, '--dataset', dsFile, '-o', feats, '--split', 'test');
    assert.equal(e.status, 0, e.stderr);
    const ff = readFeatureFile(feats);
    assert.equal(ff.header.layers, 4);
    assert.equal(ff.header.d, 16);
    const idx = sampleIndices(ds, 'test');
    const w = teacherWindows(ds, idx);
    const [fromFile, direct] = [await new FeatureFileTeacher(ff).run(w, idx.length), await teacher.run(w, idx.length)];
    direct.hidden.forEach((h, l) => assert.ok(maxAbsDiff(h, fromFile.hidden[l]) < 1e-6, `feature file layer ${l}`));
  } finally {
    await teacher.dispose();
  }

  const bad = cmm('teacher', 'train', '-o', out);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--dataset/);
  fs.rmSync(dir, { recursive: true, force: true });
});
