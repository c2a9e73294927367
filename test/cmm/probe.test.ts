// Normalized fluorescent probe: the fluorescence formula (clipping, degenerate cells), a synthetic teacher whose
// layers each encode one task (nonlinear in the window, so the raw-input baseline cannot) is picked per task in
// every regime, test rows never influence the fit, and `cmm probe` writes probe.json + a readable probe.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { CmmDataset, DATASET_FORMAT, DATASET_VERSION, DatasetHeader, sampleIndices, teacherWindows, writeDataset } from '../../src/cmm/dataset-file';
import { fluorescence, probeTeacher } from '../../src/cmm/probe';
import { formatProbeTable, renderProbePng } from '../../src/cmm/probe-report';
import { dumpTeacherFeatures } from '../../src/cmm/teacher/feature-file';
import { PlantedTeacher, normal, rng } from './cmm-fixtures';

const REPO = path.resolve(__dirname, '..', '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-probe-'));
const T = 4, F = 3, L = 4;
const PLANT = [1, 3, 2]; // mid → layer 1, spread → layer 3, volume → layer 2
const last = (T - 1) * F;
const PLANTED: ((w: Float32Array) => number)[] = [
  (w) => w[last] * w[last + 1], // product: no linear trace in the window
  (w) => Math.abs(w[last + 2]),
  (w) => Math.cos(2 * w[(T - 2) * F]),
];

/** N samples over random snapshots; targets = planted functions of the window + noise; regimes by a random rv. */
function plantedDataset(N: number, seed: number): CmmDataset {
  const r = rng(seed);
  const G = N + T - 1;
  const snapshots = Float32Array.from({ length: G * F }, () => normal(r));
  const snapshot = Uint32Array.from({ length: N }, (_, i) => i + T - 1);
  const rv = Float32Array.from({ length: N }, () => r());
  const ds = {
    snapshots, snapshot, rv, x: new Float32Array(N * F), targets: new Float32Array(N * 3), time: Float64Array.from({ length: N }, (_, i) => i * 1e9),
    event: Float64Array.from({ length: N }, (_, i) => i), source: new Uint16Array(N), regime: Uint8Array.from(rv, (v) => (v <= 0.33 ? 0 : v <= 0.66 ? 1 : 2)),
  };
  const a = Math.round(0.6 * N), b = Math.round(0.8 * N);
  const header = {
    format: DATASET_FORMAT, version: DATASET_VERSION, createdAt: 'test', samples: N, snapshots: G, blocks: [], notes: [], drops: {}, sources: [],
    options: { horizon: 1, horizonUnit: 'events', every: 1, everyUnit: 'events', window: T, split: [0.6, 0.2, 0.2], regimeScope: 'source', engine: {} },
    studentFeatures: ['a', 'b', 'c'], windowFeatures: ['a', 'b', 'c'], tasks: ['mid', 'spread', 'volume'], regimes: ['low', 'medium', 'high'],
    splits: { train: { start: 0, end: a }, validation: { start: a, end: b }, test: { start: b, end: N } },
    counts: { train: [0, 0, 0], validation: [0, 0, 0], test: [0, 0, 0] },
    regimeCuts: { feature: 'realisedVol', quantiles: [0.33, 0.66], scope: 'source', pooled: [0.33, 0.66], fittedOn: 'train' },
    normalisation: { x: { mean: [0, 0, 0], std: [1, 1, 1] }, window: { mean: [0, 0, 0], std: [1, 1, 1] }, targets: { mean: [0, 0, 0], std: [1, 1, 1] }, fittedOn: 'train' },
  } as unknown as DatasetHeader;
  const full: CmmDataset = { header, ...ds };
  const w = teacherWindows(full, Uint32Array.from({ length: N }, (_, i) => i));
  for (let i = 0; i < N; i++) {
    const win = w.subarray(i * T * F, (i + 1) * T * F);
    full.x.set(win.subarray(last, last + F), i * F);
    PLANTED.forEach((g, k) => (full.targets[i * 3 + k] = g(win) + 0.3 * normal(r)));
  }
  return full;
}

const spec = { T, F, features: ['a', 'b', 'c'] };
const teacher = () => new PlantedTeacher(spec, L, PLANT, PLANTED, { mean: [0, 0, 0], std: [1, 1, 1] });

test('fluorescence: normalised to the best layer, clipped to [0,1], degenerate cells flagged with F = 0', () => {
  // r2[l][k][r] for 3 layers, 2 tasks, 1 regime.
  const r2 = [[[0.1], [0.05]], [[0.4], [0.02]], [[0.25], [NaN]]];
  const f = fluorescence(r2, [[0.2], [0.1]]);
  assert.deepEqual(f.picks, [[1], [0]]);
  const task0 = f.fluorescence.map((l) => l[0][0]);
  assert.deepEqual(task0.slice(0, 2), [0, 1], 'below the baseline clips to 0; the best layer is 1');
  assert.ok(Math.abs(task0[2] - 0.25) < 1e-12, `(0.25 − 0.2) / (0.4 − 0.2) = ${task0[2]}`);
  assert.deepEqual(f.degenerate, [[false], [true]]);
  assert.deepEqual(f.fluorescence.map((l) => l[1][0]), [0, 0, NaN], 'max R² <= B: F = 0 everywhere (NaN stays NaN)');
  const none = fluorescence([[[NaN]]], [[0.1]]);
  assert.deepEqual(none.picks, [[-1]]);
  assert.ok(Number.isNaN(none.fluorescence[0][0][0]));
});

test('the probe picks the planted layer for every task and regime; F in [0,1] with 1 at the pick; baseline near 0', async () => {
  const ds = plantedDataset(6000, 1);
  const res = await probeTeacher(ds, teacher());
  assert.equal(res.layers, L);
  for (let k = 0; k < 3; k++) {
    for (let r = 0; r < 3; r++) {
      assert.equal(res.picks[k][r], PLANT[k], `task ${res.tasks[k]} regime ${res.regimes[r]}: picked ${res.picks[k][r]}\n${formatProbeTable(res)}`);
      assert.equal(res.fluorescence[PLANT[k]][k][r], 1);
      assert.equal(res.degenerate[k][r], false);
      assert.ok(res.baseline[k][r] < 0.1, `baseline ${res.baseline[k][r]}`);
      assert.ok(res.r2[PLANT[k]][k][r] > 0.6, `planted R² ${res.r2[PLANT[k]][k][r]}`);
      for (let l = 0; l < L; l++) {
        const v = res.fluorescence[l][k][r];
        assert.ok(v >= 0 && v <= 1, `F ${v}`);
        if (l !== PLANT[k]) assert.ok(v < 0.8, `layer ${l} task ${k}: F ${v}`);
      }
      assert.equal(res.samples[k][r].train, sampleIndices(ds, 'train', r).length);
      assert.equal(res.samples[k][r].test, sampleIndices(ds, 'test', r).length);
    }
  }
  // The student-vector baseline is another documented choice; the picks do not depend on it here.
  const student = await probeTeacher(ds, teacher(), { baseline: 'student', maxPerSplit: 3000 });
  assert.deepEqual(student.picks, res.picks);
  assert.match(student.baselineInput, /student vector/);
});

test('test rows only score: changing test targets changes R² but not the fitted probes (alphas)', async () => {
  const ds = plantedDataset(3000, 2);
  const a = await probeTeacher(ds, teacher());
  const { start, end } = ds.header.splits.test;
  const r = rng(9);
  for (let i = start * 3; i < end * 3; i++) ds.targets[i] = normal(r);
  const { start: vs, end: ve } = ds.header.splits.validation;
  const b = await probeTeacher(ds, teacher());
  for (let i = vs * 3; i < ve * 3; i++) ds.targets[i] = 1e6 * normal(r); // the dataset's validation split is unused
  const c = await probeTeacher(ds, teacher());
  assert.deepEqual(b.alphas, a.alphas);
  assert.notDeepEqual(b.r2, a.r2);
  assert.deepEqual(c.r2, b.r2);
});

function pngSize(bytes: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

test('cmm probe with a teacher feature file writes probe.json and a decodable probe.png', async () => {
  const ds = plantedDataset(3000, 3);
  const dsFile = path.join(tmp, 'planted.ds');
  writeDataset(dsFile, ds);
  const idx = Uint32Array.from({ length: ds.header.samples }, (_, i) => i);
  const feat = path.join(tmp, 'planted.feat');
  await dumpTeacherFeatures(teacher(), teacherWindows(ds, idx), idx.length, feat);
  const out = path.join(tmp, 'probe-out');
  const cli = path.join(REPO, 'dist', 'src', 'cli', 'cmm.js');
  const run = spawnSync(process.execPath, [cli, 'probe', '--dataset', dsFile, '--teacher', feat, '-o', out, '--json'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /regime low/);
  assert.match(run.stdout, /baseline/);
  const json = JSON.parse(fs.readFileSync(path.join(out, 'probe.json'), 'utf8'));
  assert.deepEqual(json.picks, PLANT.map((l) => [l, l, l]));
  assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').pop()!).picks, json.picks);
  for (const key of ['layers', 'tasks', 'regimes', 'r2', 'baseline', 'fluorescence', 'picks', 'samples', 'degenerate']) assert.ok(key in json, key);
  const png = new Uint8Array(fs.readFileSync(path.join(out, 'probe.png')));
  const { width, height } = pngSize(png);
  assert.ok(width > 800 && height > 250, `${width}×${height}`);
  // IDAT inflates to height rows of 1 + 3·width bytes.
  const dv = new DataView(png.buffer, png.byteOffset);
  let at = 8;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const len = dv.getUint32(at), type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  idat.reduce((o, c) => (joined.set(c, o), o + c.length), 0);
  assert.equal(zlib.inflateSync(joined).length, height * (1 + 3 * width));
  assert.deepEqual(renderProbePng(json).length > 0, true);
});
