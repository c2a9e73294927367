// Native fused student bank (AVX2 and scalar) against the float64 reference forward pass, its MoE step
// against hajekMoe, NaN features, batch = repeated single runs, and spec validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/sim/rng';
import { MoeStatus, hajekMoeRff, hajekMoeReference, moeImplementations } from '../../src/moe/hajek';
import { makeRff } from '../../src/moe/rff';
import {
  StudentActivation, StudentBank, StudentBankShape, StudentBankSpec, randomStudentBank, studentBankReference, studentFlatSize,
} from '../../src/moe/student-bank';
import { native } from '../../src/native';

const SEED = Number(process.env.CMM_TEST_SEED ?? Date.now() % 1_000_000_000);
const STUDENT_IMPLS = native().cpuFeatures().avx2 ? (['avx2', 'scalar'] as const) : (['scalar'] as const);
const ACTS: StudentActivation[] = ['tanh', 'relu', 'gelu', 'identity'];

function withMoe(spec: StudentBankSpec, tasks: number, seed: number): StudentBankSpec {
  return {
    ...spec,
    moe: {
      tasks,
      rff: Array.from({ length: tasks }, (_, k) => makeRff({ D: 64, P: spec.outputs, lengthScale: 1, seed: seed + k })),
      tau: Array.from({ length: tasks }, (_, k) => 2 + 3 * k),
    },
  };
}

function randomX(rng: Rng, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal() * 1.5;
  return x;
}

const SHAPES: StudentBankShape[] = [
  { students: 9, inputs: 24, hidden: [32, 32], outputs: 9, activation: 'tanh', normalize: true },
  { students: 6, inputs: 7, hidden: [5, 13], outputs: 3, activation: 'tanh', normalize: false }, // odd widths: padding
  { students: 3, inputs: 11, hidden: [], outputs: 4, activation: 'identity', normalize: true }, // linear students
  { students: 9, inputs: 40, hidden: [64], outputs: 17, activation: 'tanh', normalize: false },
];

for (const impl of STUDENT_IMPLS) {
  test(`${impl}: students equal the float64 reference to 1e-5 (activations x shapes, seed ${SEED})`, (t) => {
    const rng = new Rng(SEED, 11);
    for (const base of SHAPES)
      for (const activation of base.hidden.length > 0 ? ACTS : (['identity'] as StudentActivation[])) {
        const spec = randomStudentBank({ ...base, activation }, SEED + 1);
        const bank = new StudentBank(spec, { impl });
        assert.equal(bank.implementation.students, impl);
        const out = new Float32Array(bank.outSize);
        let worst = 0;
        for (let r = 0; r < 20; r++) {
          const x = randomX(rng, spec.inputs);
          assert.equal(bank.run(x, out), MoeStatus.Ok);
          const ref = studentBankReference(spec, x);
          for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(out[i] - ref[i]));
        }
        t.diagnostic(`${activation} ${JSON.stringify(base.hidden)} S=${base.students}: max|d| ${worst.toExponential(2)}`);
        assert.ok(worst <= 1e-5, `${activation}: ${worst}`);
      }
  });

  test(`${impl}: the MoE step equals hajekMoe on the students' outputs and the reference to 1e-5`, () => {
    const rng = new Rng(SEED, 12);
    for (const moeImpl of moeImplementations()) {
      const spec = withMoe(randomStudentBank(SHAPES[0], SEED + 2), 3, SEED);
      const bank = new StudentBank(spec, { impl, moeImpl });
      assert.equal(bank.implementation.moe, moeImpl);
      const out = new Float32Array(bank.outSize);
      assert.equal(bank.outSize, 81 + 3 + 9);
      for (let r = 0; r < 10; r++) {
        const x = randomX(rng, spec.inputs);
        assert.equal(bank.run(x, out), MoeStatus.Ok);
        for (let k = 0; k < 3; k++) {
          const u = out.slice(k * 27, (k + 1) * 27);
          const y = new Float32Array(1), w = new Float32Array(3);
          hajekMoeRff(u, 1, 3, spec.moe!.rff[k], spec.moe!.tau[k], y, w, moeImpl);
          assert.equal(out[bank.yOffset + k], y[0]);
          assert.deepEqual(Array.from(out.subarray(bank.wOffset + 3 * k, bank.wOffset + 3 * k + 3)), Array.from(w));
          // End to end against float64 students + float64 MoE.
          const ref = hajekMoeReference(studentBankReference(spec, x).subarray(k * 27, (k + 1) * 27), 1, 3, spec.moe!.rff[k], spec.moe!.tau[k]);
          assert.ok(Math.abs(out[bank.yOffset + k] - ref.y[0]) <= 1e-5);
        }
      }
    }
  });

  test(`${impl}: NaN features give NaN students and a NoValidExpert status (pull quotes)`, () => {
    const spec = withMoe(randomStudentBank(SHAPES[0], SEED + 3), 3, SEED);
    const bank = new StudentBank(spec, { impl });
    const out = new Float32Array(bank.outSize);
    for (const bad of [NaN]) {
      const x = randomX(new Rng(SEED, 13), spec.inputs);
      x[5] = bad;
      const status = bank.run(x, out);
      assert.equal(status, MoeStatus.ExpertExcluded | MoeStatus.NoValidExpert);
      for (let i = 0; i < 81; i++) assert.ok(Number.isNaN(out[i]));
      for (let k = 0; k < 3; k++) assert.ok(Number.isNaN(out[bank.yOffset + k]));
      for (let i = 0; i < 9; i++) assert.equal(out[bank.wOffset + i], 0);
    }
  });

  test(`${impl}: runBatch equals row-by-row run`, () => {
    const rng = new Rng(SEED, 14);
    const spec = withMoe(randomStudentBank({ ...SHAPES[0], activation: 'gelu' }, SEED + 4), 3, SEED);
    const bank = new StudentBank(spec, { impl });
    const B = 17;
    const x = randomX(rng, B * spec.inputs);
    const outB = new Float32Array(B * bank.outSize);
    assert.equal(bank.runBatch(x, B, outB), MoeStatus.Ok);
    const one = new Float32Array(bank.outSize);
    for (let b = 0; b < B; b++) {
      bank.run(x.subarray(b * spec.inputs, (b + 1) * spec.inputs), one);
      assert.deepEqual(Array.from(outB.subarray(b * bank.outSize, (b + 1) * bank.outSize)), Array.from(one));
    }
  });
}

test('StudentBank validates its spec and buffers', () => {
  const spec = randomStudentBank(SHAPES[0], 1);
  const bad = (f: () => unknown) => assert.throws(f, (e: { code?: string }) => e.code === 'E_INVALID_ARG');
  bad(() => new StudentBank({ ...spec, weights: spec.weights.subarray(1) }));
  bad(() => new StudentBank({ ...spec, hidden: [32, 0] }));
  bad(() => new StudentBank({ ...spec, activation: 'sigmoid' as StudentActivation }));
  bad(() => new StudentBank(withMoe(spec, 4, 1))); // 4 tasks do not divide 9 students
  bad(() => new StudentBank({ ...withMoe(spec, 3, 1), moe: { ...withMoe(spec, 3, 1).moe!, tau: [1, -1, 1] } }));
  bad(() => new StudentBank(spec, { impl: 'avx512' }));
  const std0 = spec.weights.slice();
  std0[spec.inputs] = 0;
  bad(() => new StudentBank({ ...spec, weights: std0 }));
  const bank = new StudentBank(spec);
  bad(() => bank.run(new Float32Array(3), new Float32Array(bank.outSize)));
  bad(() => bank.run(new Float32Array(spec.inputs), new Float32Array(bank.outSize - 1)));
  assert.equal(studentFlatSize(SHAPES[0]), 2 * 24 + 9 * (24 * 32 + 32 + 32 * 32 + 32 + 32 * 9 + 9));
});
