// Ridge regression: Cholesky on a known factor, a hand-computed solution, agreement with an independent
// Gaussian-elimination solve of the normal equations, noise-free recovery, Gram-based R² / SSE against direct
// predictions, and λ selection on the later validation slice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RIDGE_ALPHAS, GramStats, accumulateGram, cholesky, choleskySolve, fitRidge, fitStandardiser, predictRidge, r2FromGram, r2Score, ridgeCV,
  solveRidge, sseFromGram, standardise,
} from '../../src/cmm/ridge';
import { normal, rng } from './cmm-fixtures';

function close(a: number, b: number, tol: number, what: string): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);
}

/** Independent reference: Gaussian elimination with partial pivoting. */
function gaussSolve(A: number[][], b: number[]): number[] {
  const n = b.length, M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

function randomProblem(n: number, p: number, noise: number, seed: number) {
  const r = rng(seed);
  const X = new Float64Array(n * p), y = new Float64Array(n), w = Float64Array.from({ length: p }, () => normal(r));
  for (let i = 0; i < n; i++) {
    let s = 0.7;
    for (let j = 0; j < p; j++) {
      X[i * p + j] = normal(r) * (1 + j) + 3 * j; // different scales and means: standardisation matters
      s += w[j] * X[i * p + j];
    }
    y[i] = s + noise * normal(r);
  }
  return { X, y, w };
}

test('Cholesky factors a known SPD matrix and solves with it', () => {
  // A = L Lᵀ with L = [[2,0,0],[1,3,0],[−1,2,1]].
  const L = [2, 0, 0, 1, 3, 0, -1, 2, 1];
  const A = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) A[i * 3 + j] += L[i * 3 + k] * L[j * 3 + k];
  const got = cholesky(A, 3)!;
  got.forEach((v, i) => close(v, L[i], 1e-12, `L[${i}]`));
  const x = choleskySolve(got, 3, [1, 2, 3]);
  const ref = gaussSolve([[...A.slice(0, 3)], [...A.slice(3, 6)], [...A.slice(6, 9)]], [1, 2, 3]);
  x.forEach((v, i) => close(v, ref[i], 1e-12, `x[${i}]`));
  assert.equal(cholesky(Float64Array.from([1, 2, 2, 1]), 2), null, 'indefinite');
});

test('ridge matches a hand-computed solution and the normal equations solved independently', () => {
  // x = 1..4, y = 2, 4, 6, 8.5, λ = 1, no standardisation: xc = ±1.5, ±0.5; Sxx = 5; Sxy = 10.75.
  const m = fitRidge(Float64Array.from([1, 2, 3, 4]), [2, 4, 6, 8.5], 1, 1, { standardise: false });
  close(m.weights[0], 10.75 / 6, 1e-14, 'w');
  close(m.intercept, 5.125 - 2.5 * (10.75 / 6), 1e-14, 'b');
  const { X, y } = randomProblem(200, 6, 0.5, 1);
  const lambda = 3.7;
  const model = fitRidge(X, y, 6, lambda);
  const Z = standardise(X, model.standardiser!);
  const zMean = Array.from({ length: 6 }, (_, j) => Z.filter((_, i) => i % 6 === j).reduce((a, b) => a + b, 0) / 200);
  const yMean = y.reduce((a, b) => a + b, 0) / 200;
  const A = Array.from({ length: 6 }, (_, j) => Array.from({ length: 6 }, (_, k) => {
    let s = 0;
    for (let i = 0; i < 200; i++) s += (Z[i * 6 + j] - zMean[j]) * (Z[i * 6 + k] - zMean[k]);
    return s + (j === k ? lambda : 0);
  }));
  const b = Array.from({ length: 6 }, (_, j) => {
    let s = 0;
    for (let i = 0; i < 200; i++) s += (Z[i * 6 + j] - zMean[j]) * (y[i] - yMean);
    return s;
  });
  const ref = gaussSolve(A, b);
  ref.forEach((v, j) => close(model.weights[j], v, 1e-9, `w[${j}]`));
  close(model.intercept, yMean - zMean.reduce((s, m2, j) => s + m2 * ref[j], 0), 1e-9, 'intercept');
});

test('noise-free data is recovered exactly with a tiny λ; Gram R² and SSE equal direct predictions', () => {
  const { X, y, w } = randomProblem(300, 5, 0, 2);
  const m = fitRidge(X, y, 5, 1e-9, { standardise: false });
  m.weights.forEach((v, j) => close(v, w[j], 1e-6, `w[${j}]`));
  close(m.intercept, 0.7, 1e-6, 'intercept');
  const noisy = randomProblem(400, 5, 2, 3);
  const s = fitStandardiser(noisy.X, 5);
  const rows = Uint32Array.from({ length: 300 }, (_, i) => i), held = Uint32Array.from({ length: 100 }, (_, i) => 300 + i);
  const g = accumulateGram(noisy.X, 5, noisy.y, 1, rows, s).stats;
  const gt = accumulateGram(noisy.X, 5, noisy.y, 1, held, s).stats;
  const fit = solveRidge(g, 10);
  const Z = standardise(noisy.X, s, held);
  const pred = Array.from({ length: 100 }, (_, i) => fit.intercepts[0] + [0, 1, 2, 3, 4].reduce((a, j) => a + fit.weights[j] * Z[i * 5 + j], 0));
  const yt = Array.from(held, (i) => noisy.y[i]);
  close(r2FromGram(gt, 0, fit.weights, fit.intercepts[0]), r2Score(yt, pred), 1e-9, 'R²');
  close(sseFromGram(gt, 0, fit.weights, fit.intercepts[0]), yt.reduce((a, v, i) => a + (v - pred[i]) ** 2, 0), 1e-9, 'SSE');
  const direct = predictRidge({ standardiser: s, weights: fit.weights, intercept: fit.intercepts[0], lambda: 10 }, noisy.X.subarray(300 * 5));
  direct.forEach((v, i) => close(v, pred[i], 1e-12, `prediction ${i}`));
  // A skipped non-finite row is counted, not used.
  const withNaN = Float64Array.from(noisy.X);
  withNaN[7] = NaN;
  assert.equal(accumulateGram(withNaN, 5, noisy.y, 1, rows, s).skipped, 1);
});

test('λ is chosen on the validation slice: small for clean data, larger for noisy over-parameterised data', () => {
  const pick = (n: number, p: number, noise: number) => {
    const { X, y } = randomProblem(n, p, noise, 7);
    const s = fitStandardiser(X, p);
    const cut = Math.round(n * 0.8);
    const fit = accumulateGram(X, p, y, 1, Uint32Array.from({ length: cut }, (_, i) => i), s).stats;
    const val = accumulateGram(X, p, y, 1, Uint32Array.from({ length: n - cut }, (_, i) => cut + i), s).stats;
    return ridgeCV(fit, val);
  };
  const clean = pick(500, 5, 0.01), noisy = pick(60, 40, 30);
  assert.ok(noisy.alphas[0] > clean.alphas[0], `alpha clean ${clean.alphas[0]}, noisy ${noisy.alphas[0]}`);
  assert.equal(clean.validationR2[0].length, DEFAULT_RIDGE_ALPHAS.length);
  assert.ok(Math.max(...clean.validationR2[0]) > 0.99);
  assert.throws(() => solveRidge(new GramStats(2, 1), 1), /at least one row/);
});
