// CMM dataset builder: targets recomputed from the true book, no look-ahead into inputs (a changed future leaves
// every earlier input untouched), time splits with embargo, train-only regime cut points, stale books, several
// sources, the file format, the CLI, and real data (fixtures; ../shared/data when present).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDataset, buildDatasetFromInputs, quantileSorted, regimeOf, STUDENT_FEATURES, studentVector, WINDOW_FEATURES } from '../../src/cmm/dataset';
import { CmmDataset, readDataset, sampleIndices, SPLITS, teacherWindows, toTeacherDataset, writeDataset } from '../../src/cmm/dataset-file';
import { checkDataset } from '../../src/cmm/teacher/teacher';
import { EngineError } from '../../src/errors';
import { EventLogWriter } from '../../src/log/event-log';
import { Feature, MarketEngine, NUM_FEATURES } from '../../src/market/market-engine';
import { parseLobsterMessages } from '../../src/import/lobster';
import { importBinance } from '../../src/import/binance';
import { fileSource } from '../../src/import/lines';
import { inputOf, instrument, mergeByTs, syntheticStream } from './cmm-fixtures';

const REPO = path.resolve(__dirname, '..', '..', '..'); // dist/test/cmm -> repo root
const FIXTURES = path.join(REPO, 'test', 'fixtures');
const SHARED = path.resolve(REPO, '..', 'shared', 'data');
const FX = STUDENT_FEATURES.length, FW = WINDOW_FEATURES.length;
const f32 = Math.fround;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-dataset-'));

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);
}

function rowsOf(ds: CmmDataset, i: number) {
  return { x: ds.x.subarray(i * FX, (i + 1) * FX), y: ds.targets.subarray(i * 3, i * 3 + 3) };
}

test('targets match the true book after t, inputs match the engine row at t', () => {
  const { batch, truth } = syntheticStream({ messages: 3000, seed: 3 });
  const h = 20;
  const ds = buildDatasetFromInputs([inputOf('s', batch)], { every: 5, horizon: h, window: 8 });
  assert.ok(ds.header.samples > 300, `samples ${ds.header.samples}`);
  const engine = new MarketEngine([instrument()]);
  const rows = new Float64Array(batch.length * NUM_FEATURES);
  engine.apply(batch.bytes(), batch.length, rows);
  const x = new Float64Array(FX);
  for (let i = 0; i < ds.header.samples; i++) {
    const n = ds.event[i], e = n - 1;
    assert.ok(truth.valid[e], `sample ${i} decided on a consistent, valid book`);
    assert.equal(ds.time[i], Number(truth.ts[e]));
    assert.equal(rows[e * NUM_FEATURES + Feature.Mid], truth.mid[e]);
    studentVector(rows, e * NUM_FEATURES, x);
    const got = rowsOf(ds, i);
    x.forEach((v, j) => assert.equal(got.x[j], f32(v), `x[${STUDENT_FEATURES[j]}] of sample ${i}`));
    // First principles over (n, n + h].
    let lastMid = truth.mid[e], spreadSum = 0, spreadN = 0, vol = 0;
    for (let k = e + 1; k <= e + h; k++) {
      vol += truth.tradeQty[k];
      if (truth.valid[k]) {
        lastMid = truth.mid[k];
        spreadSum += truth.spread[k];
        spreadN++;
      }
    }
    assert.equal(got.y[0], f32(lastMid - truth.mid[e]), `mid target of sample ${i}`);
    assert.equal(got.y[1], f32(spreadN > 0 ? spreadSum / spreadN : truth.spread[e]), `spread target of sample ${i}`);
    assert.equal(got.y[2], f32(Math.log1p(vol)), `volume target of sample ${i}`);
    // The window ends with the decision's own snapshot, whose first FX columns are x.
    const w = teacherWindows(ds, [i]);
    assert.deepEqual(w.subarray((8 - 1) * FW, (8 - 1) * FW + FX), got.x);
  }
});

test('no look-ahead: a different future leaves earlier inputs unchanged; targets see it; train cut points hold on shifted test vol', () => {
  const calm = syntheticStream({ messages: 6000, seed: 11 });
  const opts = { every: 5, horizon: 30, window: 16 };
  const a = buildDatasetFromInputs([inputOf('calm', calm.batch)], opts);
  // The future changes right after a decision inside the test split: message M is the first one after it.
  const nM = a.event[Math.round(a.header.samples * 0.85)];
  const M = calm.truth.messageEnd.indexOf(nM) + 1;
  assert.ok(M > 0, 'decisions sit at message ends');
  const wild = syntheticStream({ messages: 6000, seed: 11, vol: (m) => (m >= M ? 12 : 1), tradeScale: (m) => (m >= M ? 1000 : 1) });
  assert.equal(calm.batch.length, wild.batch.length, 'same event structure');
  const b = buildDatasetFromInputs([inputOf('wild', wild.batch)], opts);
  assert.equal(a.header.samples, b.header.samples);
  assert.deepEqual(a.header.splits, b.header.splits);
  assert.ok(nM > a.event[a.header.splits.test.start], 'the change is inside the test split');
  let before = 0, straddling = 0, straddlingDiffer = 0, afterDiffer = 0;
  for (let i = 0; i < a.header.samples; i++) {
    assert.equal(a.event[i], b.event[i]);
    const ra = rowsOf(a, i), rb = rowsOf(b, i);
    const n = a.event[i];
    if (n <= nM) {
      before++;
      assert.deepEqual(ra.x, rb.x, `inputs of sample ${i} (event ${n}) must not see events after ${nM}`);
      assert.equal(a.rv[i], b.rv[i]);
      assert.deepEqual(teacherWindows(a, [i]), teacherWindows(b, [i]));
      if (n + opts.horizon <= nM) assert.deepEqual(ra.y, rb.y, `targets of sample ${i} end before the change`);
      else {
        straddling++;
        if (ra.y.some((v, k) => v !== rb.y[k])) straddlingDiffer++;
      }
    } else if (ra.x.some((v, k) => v !== rb.x[k])) afterDiffer++;
  }
  assert.ok(before > 500 && straddling > 0, `before ${before}, straddling ${straddling}`);
  const atChange = Array.from(a.event).indexOf(nM);
  assert.deepEqual(rowsOf(a, atChange).x, rowsOf(b, atChange).x, 'the decision right before the change has the same inputs');
  assert.notDeepEqual(rowsOf(a, atChange).y, rowsOf(b, atChange).y, '... and different targets');
  assert.ok(straddlingDiffer > 0, 'targets whose horizon crosses the change see the new future');
  assert.ok(afterDiffer > 0, 'inputs after the change do see it');
  // Regime cut points come from the train split only: unchanged by the wild test period, and applied as is.
  assert.deepEqual(a.header.sources[0].regimeCuts, b.header.sources[0].regimeCuts);
  const train = sampleIndices(a, 'train');
  const sorted = Float64Array.from(train, (i) => a.rv[i]).sort();
  close(a.header.sources[0].regimeCuts[0], quantileSorted(sorted, 0.33), 1e-6, 'q33');
  close(a.header.sources[0].regimeCuts[1], quantileSorted(sorted, 0.66), 1e-6, 'q66');
  for (let i = 0; i < b.header.samples; i++) assert.equal(b.regime[i], regimeOf(b.rv[i], b.header.sources[0].regimeCuts));
  const trainCounts = b.header.counts.train;
  assert.ok(Math.min(...trainCounts) > 0.25 * train.length, `train regimes near thirds: ${trainCounts}`);
  const wildTest = sampleIndices(b, 'test').filter((i) => b.event[i] > nM + 2000);
  assert.ok(wildTest.length > 50 && wildTest.every((i) => b.regime[i] === 2), 'shifted test vol lands in the train-defined high regime');
  // Normalisation statistics are train-only too.
  assert.deepEqual(a.header.normalisation, b.header.normalisation);
});

test('splits are time-ordered per source with an embargo of h (events and seconds)', () => {
  const { batch } = syntheticStream({ messages: 4000, seed: 5, dtNs: 100_000_000n });
  for (const opts of [
    { every: 4, horizon: 25, window: 8 },
    { every: 0.5, everyUnit: 'seconds' as const, horizon: 2, horizonUnit: 'seconds' as const, window: 8 },
  ]) {
    const ds = buildDatasetFromInputs([inputOf('s', batch)], opts);
    const s = ds.header.splits;
    assert.equal(s.train.start, 0);
    assert.equal(s.train.end, s.validation.start);
    assert.equal(s.validation.end, s.test.start);
    assert.equal(s.test.end, ds.header.samples);
    for (let i = 1; i < ds.header.samples; i++) assert.ok(ds.time[i] > ds.time[i - 1], 'never shuffled: time increases through the splits');
    const events = opts.horizonUnit !== 'seconds';
    const pos = (i: number) => (events ? ds.event[i] : ds.time[i]);
    const h = events ? opts.horizon : opts.horizon * 1e9;
    assert.ok(pos(s.validation.start) > pos(s.train.end - 1) + h, 'first validation decision after the last train target ends');
    assert.ok(pos(s.test.start) > pos(s.validation.end - 1) + h, 'first test decision after the last validation target ends');
    assert.ok(ds.header.drops.embargo > 0);
    const n = ds.header.samples + ds.header.drops.embargo;
    close(s.train.end / n, 0.6, 0.01, 'train fraction');
  }
});

test('a sequence gap: no decision on the stale book, none whose horizon crosses it; the stale tracking matches the engine', () => {
  const gapAt = 800, resnapAt = 1100;
  const { batch, truth } = syntheticStream({ messages: 2500, seed: 8, gapAt, resnapAt });
  const h = 20;
  const ds = buildDatasetFromInputs([inputOf('gap', batch)], { every: 3, horizon: h, window: 8 });
  const first = truth.messageEnd[truth.gapMessage! - 1] + 1; // first event of the gap message
  const last = truth.messageEnd[resnapAt] - 1; // the SnapshotEnd clears it
  assert.ok(ds.header.drops.invalidBook > 0 && ds.header.drops.staleInHorizon > 0, JSON.stringify(ds.header.drops));
  assert.equal(ds.header.sources[0].engine.gaps, 1);
  for (let i = 0; i < ds.header.samples; i++) {
    const n = ds.event[i];
    assert.ok(n < first || n > last, `decision at ${n} on a stale book`);
    assert.ok(n + h < first || n > last, `horizon (${n}, ${n + h}] crosses the stale span [${first}, ${last}]`);
  }
});

test('several sources: each split by its own time, tagged, concatenated per split', () => {
  const a = syntheticStream({ messages: 2000, seed: 21, instrument: 0, dtNs: 70_000_000n });
  const b = syntheticStream({ messages: 1500, seed: 22, instrument: 1, dtNs: 130_000_000n });
  const merged = mergeByTs(a.batch, b.batch);
  const c = syntheticStream({ messages: 1200, seed: 23 });
  const ds = buildDatasetFromInputs(
    [{ name: 'two', instruments: [instrument(0, 'A'), instrument(1, 'B')], batches: [merged.bytes().slice()] }, inputOf('one', c.batch, [instrument(0, 'C')])],
    { every: 5, horizon: 20, window: 8 },
  );
  assert.deepEqual(ds.header.sources.map((s) => s.instrument.symbol), ['A', 'B', 'C']);
  for (const split of SPLITS) {
    const { start, end } = ds.header.splits[split];
    let prevSource = -1;
    for (let i = start; i < end; i++) {
      assert.ok(ds.source[i] >= prevSource, 'grouped by source inside a split');
      if (ds.source[i] === prevSource) assert.ok(ds.time[i] > ds.time[i - 1]);
      prevSource = ds.source[i];
    }
  }
  ds.header.sources.forEach((s, k) => {
    const total = SPLITS.reduce((n, split) => n + s.samples[split], 0);
    assert.ok(total > 100, `source ${k}: ${total}`);
    close(s.samples.train / (total + s.drops.embargo), 0.6, 0.02, `source ${k} train share`);
    const tr = s.splitTimes.train!, va = s.splitTimes.validation!, te = s.splitTimes.test!;
    assert.ok(tr[1] < va[0] && va[1] < te[0], `source ${k} split by its own time`);
    assert.equal(sampleIndices(ds, 'train').filter((i) => ds.source[i] === k).length, s.samples.train);
  });
  // The standalone instrument gives the same samples as when built alone.
  const alone = buildDatasetFromInputs([inputOf('one', c.batch, [instrument(0, 'C')])], { every: 5, horizon: 20, window: 8 });
  assert.equal(alone.header.samples, SPLITS.reduce((n, split) => n + ds.header.sources[2].samples[split], 0));
});

test('file round trip, loader accessors, TeacherDataset view; corrupt files are E_BAD_FORMAT', () => {
  const { batch } = syntheticStream({ messages: 1500, seed: 4 });
  const ds = buildDatasetFromInputs([inputOf('s', batch)], { every: 5, horizon: 10, window: 8 });
  const file = path.join(tmp, 'rt.ds');
  writeDataset(file, ds);
  const back = readDataset(file);
  assert.deepEqual(back.header, JSON.parse(JSON.stringify(ds.header)));
  for (const k of ['snapshots', 'x', 'targets', 'rv', 'time', 'event', 'snapshot', 'source', 'regime'] as const) assert.deepEqual(back[k], ds[k], k);
  const td = toTeacherDataset(back, 'train');
  assert.equal(checkDataset(td), back.header.splits.train.end);
  assert.deepEqual(td.spec.features, [...WINDOW_FEATURES]);
  const bytes = new Uint8Array(fs.readFileSync(file));
  fs.writeFileSync(path.join(tmp, 'cut.ds'), bytes.subarray(0, bytes.length - 100));
  assert.throws(() => readDataset(path.join(tmp, 'cut.ds')), (e: unknown) => e instanceof EngineError && e.code === 'E_BAD_FORMAT');
  fs.writeFileSync(path.join(tmp, 'junk.ds'), 'not a dataset');
  assert.throws(() => readDataset(path.join(tmp, 'junk.ds')), (e: unknown) => e instanceof EngineError && e.code === 'E_BAD_FORMAT');
  for (const bad of [{ split: [0.5, 0.5, 0.5] as [number, number, number] }, { horizon: 2.5 }, { window: 0 }, { every: -1, everyUnit: 'seconds' as const }]) {
    assert.throws(() => buildDatasetFromInputs([inputOf('s', batch)], bad), (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG' && /expected/.test(e.message));
  }
});

function assertSane(ds: CmmDataset, label: string): void {
  for (const split of SPLITS) assert.ok(ds.header.splits[split].end > ds.header.splits[split].start, `${label}: ${split} is empty`);
  assert.ok(ds.x.every(Number.isFinite) && ds.targets.every(Number.isFinite) && ds.rv.every(Number.isFinite), `${label}: finite`);
  for (let i = 0; i < ds.header.samples; i++) {
    const T = ds.header.options.window;
    const w = ds.snapshots.subarray((ds.snapshot[i] - T + 1) * FW, (ds.snapshot[i] + 1) * FW);
    if (!w.every(Number.isFinite)) assert.fail(`${label}: window of sample ${i} has NaN`);
  }
}

test('real data: LOBSTER and Binance fixtures build; a log file through buildDataset and the CLI', () => {
  const amzn = parseLobsterMessages(path.join(FIXTURES, 'lobster', 'AMZN_2012-06-21_34200000_57600000_message_1.with_header.csv.gz'));
  const ds = buildDatasetFromInputs([{ name: 'AMZN', instruments: [amzn.instrument], batches: [amzn.batch.bytes().slice()] }], {});
  assertSane(ds, 'AMZN');
  assert.ok(ds.header.samples > 3000, `AMZN samples ${ds.header.samples}`);
  // Through a log file and the command line.
  const log = path.join(tmp, 'amzn.log');
  const w = EventLogWriter.create(log, { source: 'test', instruments: [amzn.instrument] });
  w.append(amzn.batch.bytes());
  w.close();
  const fromFile = buildDataset([log]);
  assert.deepEqual(fromFile.targets, ds.targets);
  const out = path.join(tmp, 'amzn.ds');
  const cli = path.join(REPO, 'dist', 'src', 'cli', 'cmm.js');
  const r = spawnSync(process.execPath, [cli, 'dataset', log, '-o', out, '--horizon', '40', '--every', '8', '--window', '16', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const back = readDataset(out);
  assert.equal(summary.samples, back.header.samples);
  assert.equal(back.header.options.horizon, 40);
  assert.equal(back.header.options.window, 16);
  assert.match(r.stdout, /train +\d+ +\(low \d+, medium \d+, high \d+\)/);
});

test('real data: Binance fixture (L2 diffs with sequence numbers)', async () => {
  const res = await importBinance([fileSource(path.join(FIXTURES, 'binance', 'usdm_btcusdt_20240808.head400.gz'))]);
  const ds = buildDatasetFromInputs([{ name: 'binance', instruments: res.instruments, batches: [res.batch.bytes().slice()] }], { every: 5, horizon: 20, window: 8 });
  assert.equal(ds.header.sources[0].engine.gaps, 0);
  assertSane(ds, 'binance');
});

test('real data: full LOBSTER AMZN day and Binance BTCUSDT from ../shared/data', { skip: !fs.existsSync(SHARED) && `no ${SHARED}` }, async () => {
  const amzn = parseLobsterMessages(path.join(SHARED, 'lobster', 'AMZN_2012-06-21_34200000_57600000_message_1.with_header.csv'));
  const res = await importBinance([fileSource(path.join(SHARED, 'binance', 'usdm_btcusdt_20240808.gz'))]);
  const ds = buildDatasetFromInputs([
    { name: 'AMZN', instruments: [amzn.instrument], batches: [amzn.batch.bytes().slice()] },
    { name: 'BTCUSDT', instruments: res.instruments, batches: [res.batch.bytes().slice()] },
  ]);
  assertSane(ds, 'shared');
  assert.ok(ds.header.sources.every((s) => s.samples.train > 1000), JSON.stringify(ds.header.sources.map((s) => s.samples)));
});
