// Native Hajek-MoE (every implementation this CPU has, scalar included) against the float64 reference written
// from the definition; degenerate inputs (M = 1, identical experts, NaN/Inf experts, all-NaN, extreme tau).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Rng } from '../../src/sim/rng';
import { MoeStatus, hajekMoe, hajekMoeReference, moeImplementation, moeImplementations } from '../../src/moe/hajek';
import { RffMap, makeRff } from '../../src/moe/rff';

const SEED = Number(process.env.CMM_TEST_SEED ?? Date.now() % 1_000_000_000);
const IMPLS = moeImplementations();

function randomU(rng: Rng, n: number, scale = 1): Float32Array {
  const u = new Float32Array(n);
  for (let i = 0; i < n; i++) u[i] = rng.normal() * scale;
  return u;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function runNative(u: Float32Array, B: number, M: number, rff: RffMap, tau: number, impl: string) {
  const y = new Float32Array(B), w = new Float32Array(B * M);
  const status = hajekMoe(u, B, M, rff.P, rff.W, rff.b, rff.D, tau, y, w, impl as 'auto');
  return { y, w, status };
}

test(`implementations: auto resolves to one of ${IMPLS.join(', ')} (seed ${SEED})`, () => {
  assert.ok(IMPLS.includes('scalar'));
  assert.ok(IMPLS.includes(moeImplementation()));
});

test('CMM_MOE_IMPL forces what auto resolves to (read once at load)', () => {
  for (const impl of IMPLS) {
    const r = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(require.resolve('../../src/moe/hajek'))}).moeImplementation())`], {
      env: { ...process.env, CMM_MOE_IMPL: impl }, encoding: 'utf8',
    });
    assert.equal(r.stdout, impl);
  }
});

for (const impl of IMPLS) {
  test(`${impl}: equals the float64 reference to 1e-5 on random inputs over shapes and tau`, (t) => {
    const rng = new Rng(SEED, 1);
    const cases = [
      { B: 257, M: 3, P: 9, D: 64, tau: 5 },
      { B: 64, M: 2, P: 5, D: 50, tau: 1 }, // D not a multiple of the vector width
      { B: 64, M: 5, P: 17, D: 96, tau: 10 },
      { B: 32, M: 9, P: 3, D: 7, tau: 2 },
      { B: 64, M: 3, P: 9, D: 64, tau: 0 }, // uniform
      { B: 64, M: 3, P: 9, D: 64, tau: 1e-4 }, // small
      { B: 64, M: 3, P: 9, D: 64, tau: 20 }, // large
    ];
    for (const c of cases) {
      const rff = makeRff({ D: c.D, P: c.P, lengthScale: 1 + rng.uniform(), seed: SEED + c.D });
      const u = randomU(rng, c.B * c.M * c.P);
      const got = runNative(u, c.B, c.M, rff, c.tau, impl);
      const ref = hajekMoeReference(u, c.B, c.M, rff, c.tau);
      const dy = maxDiff(got.y, ref.y), dw = maxDiff(got.w, ref.w);
      t.diagnostic(`${JSON.stringify(c)}: max|dy| ${dy.toExponential(2)} max|dw| ${dw.toExponential(2)}`);
      assert.equal(got.status, MoeStatus.Ok);
      assert.ok(dy <= 1e-5 && dw <= 1e-5, `${JSON.stringify(c)}: dy ${dy} dw ${dw}`);
      for (let b = 0; b < c.B; b++) {
        let s = 0;
        for (let j = 0; j < c.M; j++) s += got.w[b * c.M + j];
        assert.ok(Math.abs(s - 1) < 1e-6);
      }
    }
  });

  test(`${impl}: tau = 100 stays within 1e-5 on the weights and on y relative to the experts' spread`, (t) => {
    // The kernel is float32: h carries ~2e-7 of rounding, which softmax multiplies by tau (w error <= tau*dh/4)
    // and y multiplies by the spread of the experts' predictions. At tau = 100 the weights still match to 1e-5
    // (worst 6e-6 over 20k random decisions); y is compared relative to max(1, spread).
    const rng = new Rng(SEED, 7);
    const rff = makeRff({ D: 64, P: 9, lengthScale: 1.5, seed: SEED });
    const B = 64, M = 3, P = 9;
    const u = randomU(rng, B * M * P);
    const got = runNative(u, B, M, rff, 100, impl);
    const ref = hajekMoeReference(u, B, M, rff, 100);
    let dyRel = 0;
    for (let b = 0; b < B; b++) {
      const ys = [0, 1, 2].map((j) => u[(b * M + j) * P + P - 1]);
      dyRel = Math.max(dyRel, Math.abs(got.y[b] - ref.y[b]) / Math.max(1, Math.max(...ys) - Math.min(...ys)));
    }
    const dw = maxDiff(got.w, ref.w);
    t.diagnostic(`tau 100: max|dw| ${dw.toExponential(2)}, max|dy|/spread ${dyRel.toExponential(2)}`);
    assert.ok(dw <= 1e-5 && dyRel <= 1e-5, `dw ${dw} dy/spread ${dyRel}`);
  });

  test(`${impl}: M = 1 gives weight 1 and the expert's own prediction`, () => {
    const rng = new Rng(SEED, 2);
    const rff = makeRff({ D: 64, P: 9, lengthScale: 1, seed: 3 });
    const u = randomU(rng, 10 * 9);
    const got = runNative(u, 10, 1, rff, 5, impl);
    assert.equal(got.status, MoeStatus.Ok);
    for (let b = 0; b < 10; b++) {
      assert.equal(got.w[b], 1);
      assert.equal(got.y[b], u[b * 9 + 8]);
    }
  });

  test(`${impl}: identical experts get exactly equal weights`, () => {
    const rng = new Rng(SEED, 3);
    const rff = makeRff({ D: 64, P: 9, lengthScale: 1, seed: 4 });
    const M = 3;
    const u = new Float32Array(4 * M * 9);
    for (let b = 0; b < 4; b++) {
      const e = randomU(rng, 9);
      for (let j = 0; j < M; j++) u.set(e, (b * M + j) * 9);
    }
    for (const tau of [0, 5, 1e6]) {
      const got = runNative(u, 4, M, rff, tau, impl);
      for (let b = 0; b < 4; b++) {
        for (let j = 0; j < M; j++) assert.equal(got.w[b * M + j], got.w[b * M], 'weights not exactly equal');
        assert.ok(Math.abs(got.w[b * M] - 1 / 3) < 1e-7);
        assert.ok(Math.abs(got.y[b] - u[b * M * 9 + 8]) < 1e-6);
      }
    }
  });

  test(`${impl}: a NaN or Inf expert gets weight 0 and leaves the others' consensus untouched`, () => {
    const rng = new Rng(SEED, 4);
    const rff = makeRff({ D: 64, P: 9, lengthScale: 1, seed: 5 });
    const M = 4, B = 16;
    const u = randomU(rng, B * M * 9);
    // Decision b: expert b % M is broken (NaN in z for even b, +Inf in y for odd b).
    for (let b = 0; b < B; b++) u[(b * M + (b % M)) * 9 + (b % 2 === 0 ? 2 : 8)] = b % 2 === 0 ? NaN : Infinity;
    const got = runNative(u, B, M, rff, 5, impl);
    assert.equal(got.status, MoeStatus.ExpertExcluded);
    const ref = hajekMoeReference(u, B, M, rff, 5);
    for (let b = 0; b < B; b++) {
      assert.ok(Number.isFinite(got.y[b]), 'NaN leaked into the output');
      assert.equal(got.w[b * M + (b % M)], 0);
      // Same as running the MoE on the three finite experts alone.
      const kept = new Float32Array(3 * 9);
      let k = 0;
      for (let j = 0; j < M; j++) if (j !== b % M) kept.set(u.subarray((b * M + j) * 9, (b * M + j + 1) * 9), 9 * k++);
      const alone = runNative(kept, 1, 3, rff, 5, impl);
      assert.ok(Math.abs(alone.y[0] - got.y[b]) < 1e-6);
    }
    assert.ok(maxDiff(got.y, ref.y) <= 1e-5 && maxDiff(got.w, ref.w) <= 1e-5);
  });

  test(`${impl}: all experts NaN -> y NaN, weights 0, status NoValidExpert; other decisions unaffected`, () => {
    const rng = new Rng(SEED, 5);
    const rff = makeRff({ D: 64, P: 9, lengthScale: 1, seed: 6 });
    const M = 3, B = 3;
    const u = randomU(rng, B * M * 9);
    for (let j = 0; j < M; j++) u[(1 * M + j) * 9 + j] = NaN;
    const got = runNative(u, B, M, rff, 5, impl);
    assert.equal(got.status, MoeStatus.ExpertExcluded | MoeStatus.NoValidExpert);
    assert.ok(Number.isNaN(got.y[1]));
    assert.deepEqual(Array.from(got.w.subarray(3, 6)), [0, 0, 0]);
    const ref = hajekMoeReference(u, B, M, rff, 5);
    for (const b of [0, 2]) assert.ok(Math.abs(got.y[b] - ref.y[b]) <= 1e-5);
    assert.equal(ref.status, got.status);
  });

  test(`${impl}: huge tau picks the agreeing pair without overflow`, () => {
    const rff = makeRff({ D: 64, P: 3, lengthScale: 1, seed: 7 });
    // Experts 0 and 1 agree exactly, expert 2 is far away: h0 = h1 > h2.
    const u = Float32Array.from([0.1, -0.2, 1.0, 0.1, -0.2, 1.0, 3.0, 2.5, -4.0]);
    for (const tau of [1e3, 1e6, 1e30]) {
      const got = runNative(u, 1, 3, rff, tau, impl);
      assert.deepEqual(Array.from(got.w), [0.5, 0.5, 0]);
      assert.ok(Math.abs(got.y[0] - 1.0) < 1e-6);
    }
  });
}

test('reference: h averages to zero, theta is the mean pairwise similarity, weights sum to one', () => {
  const rng = new Rng(SEED, 6);
  const rff = makeRff({ D: 32, P: 4, lengthScale: 0.7, seed: 8 });
  const M = 5;
  const u = randomU(rng, M * 4);
  const r = hajekMoeReference(u, 1, M, rff, 3);
  const phi = Array.from({ length: M }, (_, j) =>
    Array.from({ length: 32 }, (_, i) => {
      let a = rff.b[i];
      for (let p = 0; p < 4; p++) a += rff.W[i * 4 + p] * u[j * 4 + p];
      return Math.sqrt(2 / 32) * Math.cos(a);
    }));
  const k = (j: number, l: number): number => phi[j].reduce((s, v, i) => s + v * phi[l][i], 0);
  let pairs = 0;
  for (let j = 0; j < M; j++) for (let l = 0; l < M; l++) if (j !== l) pairs += k(j, l);
  assert.ok(Math.abs(r.theta[0] - pairs / (M * (M - 1))) < 1e-12);
  let hs = 0, ws = 0;
  for (let j = 0; j < M; j++) {
    let others = 0;
    for (let l = 0; l < M; l++) if (l !== j) others += k(j, l);
    assert.ok(Math.abs(r.h[j] - (others / (M - 1) - r.theta[0])) < 1e-12, 'h_j = mean similarity to the others - theta');
    hs += r.h[j];
    ws += r.w[j];
  }
  assert.ok(Math.abs(hs) < 1e-12);
  assert.ok(Math.abs(ws - 1) < 1e-12);
});

test('rff: seeded, and <phi(u), phi(v)> approximates the RBF kernel exp(-|u-v|^2 / (2 l^2))', () => {
  const a = makeRff({ D: 16, P: 3, lengthScale: 2, seed: 42 });
  const b = makeRff({ D: 16, P: 3, lengthScale: 2, seed: 42 });
  const c = makeRff({ D: 16, P: 3, lengthScale: 2, seed: 43 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.W, c.W);
  const D = 20000, P = 3, l = 1.5;
  const rff = makeRff({ D, P, lengthScale: l, seed: 9 });
  const u = [0.3, -0.5, 1.0], v = [0.9, 0.1, 0.2];
  let dot = 0, d2 = 0;
  for (let i = 0; i < D; i++) {
    let au = rff.b[i], av = rff.b[i];
    for (let p = 0; p < P; p++) {
      au += rff.W[i * P + p] * u[p];
      av += rff.W[i * P + p] * v[p];
    }
    dot += (2 / D) * Math.cos(au) * Math.cos(av);
  }
  for (let p = 0; p < P; p++) d2 += (u[p] - v[p]) ** 2;
  assert.ok(Math.abs(dot - Math.exp(-d2 / (2 * l * l))) < 0.03, `rff kernel ${dot} vs rbf ${Math.exp(-d2 / (2 * l * l))}`);
});

test('hajekMoe validates its arguments', () => {
  const rff = makeRff({ D: 8, P: 3, lengthScale: 1, seed: 1 });
  const u = new Float32Array(2 * 3 * 3), y = new Float32Array(2), w = new Float32Array(6);
  const bad = (f: () => unknown) => assert.throws(f, (e: { code?: string }) => e.code === 'E_INVALID_ARG');
  bad(() => hajekMoe(u, 3, 3, 3, rff.W, rff.b, 8, 1, y, w)); // u too short for B = 3
  bad(() => hajekMoe(u, 2, 3, 3, rff.W, rff.b, 9, 1, y, w)); // W does not match D
  bad(() => hajekMoe(u, 2, 3, 3, rff.W, rff.b, 8, -1, y, w)); // negative tau
  bad(() => hajekMoe(u, 2, 3, 3, rff.W, rff.b, 8, NaN, y, w));
  bad(() => hajekMoe(u, 2, 3, 3, rff.W, rff.b, 8, 1, y, new Float32Array(5)));
  bad(() => hajekMoe(u, 2, 0, 3, rff.W, rff.b, 8, 1, y, w));
  bad(() => hajekMoe(u, 2, 3, 3, rff.W, rff.b, 8, 1, y, w, 'sse' as 'auto'));
  assert.equal(hajekMoe(u, 2, 3, 3, rff.W, rff.b, 8, 1, y, null), MoeStatus.Ok);
});
