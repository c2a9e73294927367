// One ONNX file, two runtimes: onnxruntime-node on the written graph and the native StudentBank on the weights
// read back from the same file's initializers agree to 1e-5 on fresh random inputs (both graph styles, every
// activation); single-student files match their slice of the bank; the reader rejects inconsistent files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { Rng } from '../../src/sim/rng';
import { makeRff } from '../../src/moe/rff';
import { StudentActivation, StudentBank, StudentBankShape, StudentBankSpec, randomStudentBank } from '../../src/moe/student-bank';
import { readStudentBankOnnx, readStudentBankOnnxFile } from '../../src/onnx/read-weights';
import { StudentGraphStyle, studentBankToOnnx, studentOfBank, writeStudentBankOnnx } from '../../src/onnx/write-mlp';

const SEED = Number(process.env.CMM_TEST_SEED ?? Date.now() % 1_000_000_000);
const SHAPE: StudentBankShape = { students: 9, inputs: 24, hidden: [32, 32], outputs: 9, activation: 'tanh', normalize: true };
const SESSION: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };

function withMoe(spec: StudentBankSpec): StudentBankSpec {
  return { ...spec, moe: { tasks: 3, rff: [0, 1, 2].map((k) => makeRff({ D: 64, P: spec.outputs, lengthScale: 1.3, seed: 100 + k })), tau: [4, 5, 6] } };
}

async function ortRun(bytes: Uint8Array, x: Float32Array, B: number, F: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, SESSION);
  const r = await session.run({ x: new ort.Tensor('float32', x, [B, F]) });
  await session.release();
  return r.students.data as Float32Array;
}

function randomX(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal() * 1.5;
  return x;
}

for (const style of ['per-student', 'batched'] as StudentGraphStyle[]) {
  test(`${style}: write -> read round-trips every weight and the MoE parameters exactly`, () => {
    const spec = withMoe(randomStudentBank(SHAPE, SEED));
    const back = readStudentBankOnnx(studentBankToOnnx(spec, { style, metadata: { tasks: 'mid,spread,volume' } }));
    assert.equal(back.style, style);
    assert.equal(back.metadata.tasks, 'mid,spread,volume');
    assert.deepEqual(back.spec.weights, spec.weights);
    assert.deepEqual(back.spec.moe, spec.moe);
    assert.deepEqual({ ...back.spec, weights: null, moe: null }, { ...spec, weights: null, moe: null });
  });

  for (const activation of ['tanh', 'relu', 'gelu', 'identity'] as StudentActivation[]) {
    test(`${style} ${activation}: onnxruntime-node and the native StudentBank agree to 1e-5 (seed ${SEED})`, async (t) => {
      const rng = new Rng(SEED, 21);
      const spec = withMoe(randomStudentBank({ ...SHAPE, activation }, SEED + 1));
      const bytes = studentBankToOnnx(spec, { style });
      const fromFile = readStudentBankOnnx(bytes).spec;
      for (const impl of ['auto', 'scalar'] as const) {
        const bank = new StudentBank(fromFile, { impl });
        for (const B of [1, 32]) {
          const x = randomX(rng, B * SHAPE.inputs);
          const ref = await ortRun(bytes, x, B, SHAPE.inputs);
          const out = new Float32Array(B * bank.outSize);
          bank.runBatch(x, B, out);
          let worst = 0;
          for (let b = 0; b < B; b++)
            for (let i = 0; i < 81; i++) worst = Math.max(worst, Math.abs(out[b * bank.outSize + i] - ref[b * 81 + i]));
          t.diagnostic(`${impl} B=${B}: max|native - ort| ${worst.toExponential(2)}`);
          assert.ok(worst <= 1e-5, `${impl} B=${B}: ${worst}`);
        }
      }
    });
  }
}

test('single-student files (one session per student) match their slice of the bank', async () => {
  const rng = new Rng(SEED, 22);
  const spec = randomStudentBank({ ...SHAPE, activation: 'gelu' }, SEED + 2);
  const bank = new StudentBank(spec);
  const x = randomX(rng, SHAPE.inputs);
  const out = new Float32Array(bank.outSize);
  bank.run(x, out);
  for (let s = 0; s < SHAPE.students; s++) {
    const one = studentOfBank(spec, s);
    const bytes = studentBankToOnnx(one);
    assert.deepEqual(readStudentBankOnnx(bytes).spec.weights, one.weights);
    const r = await ortRun(bytes, x, 1, SHAPE.inputs);
    for (let o = 0; o < 9; o++) assert.ok(Math.abs(r[o] - out[s * 9 + o]) <= 1e-5);
  }
});

test('file round trip and the reader rejecting inconsistent models', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-onnx-'));
  try {
    const spec = randomStudentBank(SHAPE, SEED + 3);
    const file = path.join(dir, 'bank.onnx');
    writeStudentBankOnnx(file, spec);
    assert.deepEqual(readStudentBankOnnxFile(file).spec.weights, spec.weights);
    assert.throws(() => readStudentBankOnnxFile(path.join(dir, 'missing.onnx')), (e: { code?: string }) => e.code === 'E_FILE_NOT_FOUND');

    const tamper = (f: (m: onnx.ModelProto) => void): Uint8Array => {
      const m = onnx.ModelProto.decode(studentBankToOnnx(spec));
      f(m);
      return onnx.ModelProto.encode(m).finish();
    };
    const isModelError = (e: { code?: string }) => e.code === 'E_MODEL';
    const setMeta = (m: onnx.ModelProto, key: string, value: string) => {
      m.metadataProps.find((p) => p.key === key)!.value = value;
    };
    // Metadata says relu, the graph computes tanh.
    assert.throws(() => readStudentBankOnnx(tamper((m) => setMeta(m, 'cmm.shape', JSON.stringify({ ...SHAPE, activation: 'relu' })))), isModelError);
    assert.throws(() => readStudentBankOnnx(tamper((m) => setMeta(m, 'cmm.format', 'other/1'))), isModelError);
    assert.throws(() => readStudentBankOnnx(tamper((m) => { const g = m.graph as onnx.GraphProto; g.initializer = g.initializer.filter((t) => t.name !== 's4_l1_W'); })), isModelError);
    assert.throws(() => readStudentBankOnnx(tamper((m) => {
      (m.graph as onnx.GraphProto).node.find((n) => n.opType === 'Gemm')!.attribute!.push(onnx.AttributeProto.create({ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }));
    })), isModelError);
    assert.throws(() => readStudentBankOnnx(new Uint8Array([1, 2, 3, 4, 5])), (e: { code?: string }) => e.code === 'E_BAD_FORMAT' || e.code === 'E_MODEL');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
