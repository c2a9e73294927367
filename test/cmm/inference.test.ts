// Every StudentRunner backend (in-process native, in-process onnxruntime-node, resident worker with either
// kernel, piscina pool with either kernel) gives the same output rows to 1e-5 on fresh random inputs, from a
// spec and from an ONNX file; the synchronous onnxruntime binding path equals the public API; the student input
// mapping is the dataset's; bad configurations fail with clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineError } from '../../src/errors';
import { MoeStatus } from '../../src/moe/hajek';
import { StudentBank, studentBankLayout } from '../../src/moe/student-bank';
import { writeStudentBankOnnx } from '../../src/onnx/write-mlp';
import { Rng } from '../../src/sim/rng';
import { Feature, NUM_FEATURES } from '../../src/market/market-engine';
import { studentVector } from '../../src/cmm/dataset';
import {
  OrtStudentBank, STUDENT_INPUTS, StudentRunner, StudentRunnerConfig, createStudentRunner, studentInput, studentInputFinite, studentInputs,
} from '../../src/cmm/inference';
import { SEED, bankSpec, maxAbsDiff, nativeRow, randomInputs } from './inference-fixtures';

const TOL = 1e-5;
// Generous: this suite checks values, not speed (the machine running it may be loaded).
const SLOW_OK = { deadlineMicros: 500_000, hangMicros: 5_000_000, spinMicros: 1_000 };

async function rowsOf(runner: StudentRunner, X: Float32Array, n: number): Promise<Float32Array> {
  const out = new Float32Array(n * runner.outSize);
  const sync = runner.backend === 'native' || runner.backend === 'ort';
  for (let i = 0; i < n; i++) {
    const x = X.subarray(i * runner.inputs, (i + 1) * runner.inputs);
    const p = sync ? runner.predict(x) : await runner.predictAsync(x);
    assert.ok(p, `${runner.backend}: answer ${i}`);
    assert.equal(p.seq, i + 1, `${runner.backend}: sequence of answer ${i}`);
    out.set(p.row, i * runner.outSize);
  }
  return out;
}

test(`all backends agree with the native bank to ${TOL} on fresh inputs (seed ${SEED})`, async () => {
  const spec = bankSpec(SEED % 1000);
  const bank = new StudentBank(spec);
  const n = 40;
  const X = randomInputs(new Rng(SEED), n);
  const want = new Float32Array(n * bank.outSize);
  bank.runBatch(X, n, want);
  const configs: StudentRunnerConfig[] = [
    { backend: 'native', model: { spec } },
    { backend: 'ort', model: { spec } },
    { backend: 'worker', engine: 'native', model: { spec }, ...SLOW_OK },
    { backend: 'worker', engine: 'ort', model: { spec }, ...SLOW_OK },
    { backend: 'pool', engine: 'native', model: { spec }, threads: 2, ...SLOW_OK },
    { backend: 'pool', engine: 'ort', model: { spec }, threads: 1, ...SLOW_OK },
  ];
  const { yOffset } = studentBankLayout(spec);
  for (const cfg of configs) {
    const runner = await createStudentRunner(cfg);
    try {
      const label = `${cfg.backend}/${cfg.engine ?? cfg.backend}`;
      assert.equal(runner.stale, false, `${label}: fresh after ready`);
      const got = await rowsOf(runner, X, n);
      assert.ok(maxAbsDiff(got, want) <= TOL, `${label}: single decisions differ from native by ${maxAbsDiff(got, want)}`);
      if (cfg.backend !== 'worker') {
        const batch = await runner.predictBatch(X, n);
        assert.ok(maxAbsDiff(batch, want) <= TOL, `${label}: predictBatch differs by ${maxAbsDiff(batch, want)}`);
      }
      // The named task outputs are the MoE rows.
      const p = await runner.predictAsync(X.subarray(0, STUDENT_INPUTS));
      assert.ok(p);
      assert.ok(Math.abs(p.mid - want[yOffset]) <= TOL && Math.abs(p.spread - want[yOffset + 1]) <= TOL && Math.abs(p.volume - want[yOffset + 2]) <= TOL, label);
      assert.equal(runner.counters.late, 0, `${label}: no late answers`);
    } finally {
      await runner.close();
    }
  }
});

test('pool: predictBatch over uneven chunks equals the native batch; predict() answers through poll()', async () => {
  const spec = bankSpec(3);
  const bank = new StudentBank(spec);
  const n = 301;
  const X = randomInputs(new Rng(SEED + 1), n);
  const want = new Float32Array(n * bank.outSize);
  bank.runBatch(X, n, want);
  const runner = await createStudentRunner({ backend: 'pool', model: { spec }, threads: 2, chunkRows: 37, ...SLOW_OK });
  try {
    const got = await runner.predictBatch(X, n);
    assert.ok(maxAbsDiff(got, want) <= TOL);
    const x = X.subarray(5 * STUDENT_INPUTS, 6 * STUDENT_INPUTS);
    assert.equal(runner.predict(x), null, 'a pool never answers synchronously');
    let p = runner.poll();
    for (let i = 0; i < 2000 && p === null; i++) {
      await new Promise((r) => setTimeout(r, 1));
      p = runner.poll();
    }
    assert.ok(p, 'answer picked up by poll()');
    assert.ok(maxAbsDiff(p.row, nativeRow(bank, x)) <= TOL);
  } finally {
    await runner.close();
  }
});

test('a student-bank ONNX file feeds every kernel: ort (file graph) and native (weights read back) agree', async () => {
  const spec = bankSpec(5);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-inference-')), 'students.onnx');
  writeStudentBankOnnx(file, spec, { style: 'batched' });
  const X = randomInputs(new Rng(SEED + 2), 16);
  const want = new Float32Array(16 * new StudentBank(spec).outSize);
  new StudentBank(spec).runBatch(X, 16, want);
  for (const cfg of [
    { backend: 'native', model: { onnxPath: file } },
    { backend: 'ort', model: { onnxPath: file } },
    { backend: 'worker', engine: 'ort', model: { onnxPath: file }, ...SLOW_OK },
  ] as StudentRunnerConfig[]) {
    const runner = await createStudentRunner(cfg);
    try {
      const got = await rowsOf(runner, X, 16);
      assert.ok(maxAbsDiff(got, want) <= TOL, `${cfg.backend}: ${maxAbsDiff(got, want)}`);
    } finally {
      await runner.close();
    }
  }
});

test("onnxruntime's synchronous binding path equals its public async API (batched rows and MoE)", async () => {
  const spec = bankSpec(7);
  const ortBank = OrtStudentBank.fromSource({ spec });
  const X = randomInputs(new Rng(SEED + 3), 9);
  const a = new Float32Array(9 * ortBank.outSize), b = new Float32Array(9 * ortBank.outSize), c = new Float32Array(9 * ortBank.outSize);
  ortBank.runBatch(X, 9, a);
  await ortBank.runPublic(X, 9, b);
  for (let i = 0; i < 9; i++) ortBank.run(X.subarray(i * STUDENT_INPUTS, (i + 1) * STUDENT_INPUTS), c.subarray(i * ortBank.outSize));
  assert.deepEqual(a, b);
  assert.ok(maxAbsDiff(a, c) <= 1e-6);
  ortBank.dispose();
});

test('NaN inputs give NaN task outputs and MoeStatus.NoValidExpert on every backend in-process', async () => {
  const spec = bankSpec(9);
  const x = new Float32Array(STUDENT_INPUTS).fill(0.5);
  x[8] = NaN; // logTimeSinceTrade before the first trade
  for (const backend of ['native', 'ort'] as const) {
    const runner = await createStudentRunner({ backend, model: { spec } });
    const p = runner.predict(x);
    assert.ok(p);
    assert.ok(Number.isNaN(p.mid) && Number.isNaN(p.spread) && Number.isNaN(p.volume), backend);
    assert.ok(p.status & MoeStatus.NoValidExpert, backend);
    await runner.close();
  }
});

test('studentInput is the dataset transform (studentVector), NaN-preserving, and maps whole feature matrices', () => {
  const rng = new Rng(SEED + 4);
  const n = 5;
  const rows = Float64Array.from({ length: n * NUM_FEATURES }, () => rng.normal() * 3);
  const a = new Float32Array(STUDENT_INPUTS), b = new Float32Array(STUDENT_INPUTS);
  studentInput(rows, a, 2 * NUM_FEATURES);
  studentVector(rows, 2 * NUM_FEATURES, b, 0);
  assert.deepEqual(a, b);
  const all = studentInputs(rows, n);
  assert.deepEqual(all.subarray(2 * STUDENT_INPUTS, 3 * STUDENT_INPUTS), a);
  // Spot-check the documented columns.
  const r = rows.subarray(0, NUM_FEATURES);
  const x = new Float32Array(STUDENT_INPUTS);
  studentInput(r, x);
  assert.equal(x[0], Math.fround(r[Feature.Spread]));
  assert.equal(x[4], Math.fround(Math.sign(r[Feature.Ofi]) * Math.log1p(Math.abs(r[Feature.Ofi]))));
  assert.equal(x[9], Math.fround(r[Feature.Microprice] - r[Feature.Mid]));
  r[Feature.TimeSinceTrade] = NaN;
  studentInput(r, x);
  assert.ok(Number.isNaN(x[8]));
  assert.equal(studentInputFinite(x), false);
  assert.equal(studentInputFinite(new Float32Array(STUDENT_INPUTS).fill(0.25)), true);
});

test('configuration errors are clear EngineErrors', async () => {
  const spec = bankSpec(11);
  const reject = async (cfg: unknown, code: string, re: RegExp): Promise<void> => {
    await assert.rejects(createStudentRunner(cfg as StudentRunnerConfig), (e: unknown) => e instanceof EngineError && e.code === code && re.test(e.message));
  };
  await reject({ backend: 'gpu', model: { spec } }, 'E_INVALID_ARG', /backend/);
  await reject({ backend: 'native', model: { spec: { ...spec, moe: undefined } } }, 'E_MODEL', /MoE/);
  await reject({ backend: 'native', model: { onnxPath: '/nonexistent/students.onnx' } }, 'E_FILE_NOT_FOUND', /students\.onnx/);
  await reject({ backend: 'native', model: { spec }, tasks: ['mid', 'spread'] }, 'E_INVALID_ARG', /tasks/);
  await reject({ backend: 'worker', model: { spec }, deadlineMicros: -1 }, 'E_INVALID_ARG', /deadlineMicros/);
  await reject({ backend: 'native', engine: 'ort', model: { spec } }, 'E_INVALID_ARG', /engine/);
  const runner = await createStudentRunner({ backend: 'native', model: { spec } });
  assert.throws(() => runner.predict(new Float32Array(3)), /expected a Float32Array of >= 11 inputs/);
  await runner.close();
  const worker = await createStudentRunner({ backend: 'worker', model: { spec }, ...SLOW_OK });
  await assert.rejects(worker.predictBatch(new Float32Array(STUDENT_INPUTS), 1), (e: unknown) => e instanceof EngineError && e.code === 'E_CONFIG');
  await worker.close();
});
