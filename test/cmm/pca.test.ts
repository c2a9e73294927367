// PCA and Gram–Schmidt for OFDD: Jacobi eigen decomposition reconstructs its matrix, PCA recovers planted
// directions and their variances, Gram–Schmidt returns orthonormal bases across tasks and drops dependent vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { covariance, fitPca, gramSchmidt, projectPca, symmetricEigen } from '../../src/cmm/pca';
import { normal, rng } from './cmm-fixtures';

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const row = (m: Float64Array, r: number, p: number) => m.subarray(r * p, (r + 1) * p);

function randomOrthonormal(k: number, p: number, seed: number): Float64Array {
  const r = rng(seed);
  return gramSchmidt([Float64Array.from({ length: k * p }, () => normal(r))], p)[0];
}

test('Jacobi eigen decomposition: A = Vᵀ Λ V, orthonormal rows, descending values', () => {
  const p = 7, r = rng(1);
  const B = Float64Array.from({ length: p * p }, () => normal(r));
  const A = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) for (let k = 0; k < p; k++) A[i * p + j] += B[i * p + k] * B[j * p + k];
  const { values, vectors } = symmetricEigen(A, p);
  for (let i = 1; i < p; i++) assert.ok(values[i] <= values[i - 1]);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      assert.ok(Math.abs(dot(row(vectors, i, p), row(vectors, j, p)) - (i === j ? 1 : 0)) < 1e-10);
      let s = 0;
      for (let k = 0; k < p; k++) s += vectors[k * p + i] * values[k] * vectors[k * p + j];
      assert.ok(Math.abs(s - A[i * p + j]) < 1e-9 * Math.max(1, Math.abs(A[i * p + j])), `A[${i}][${j}]`);
    }
  }
});

test('PCA recovers planted directions and their variances', () => {
  const p = 10, n = 20000, k = 3, sd = [5, 3, 1.5];
  const U = randomOrthonormal(k, p, 2);
  const r = rng(3);
  const X = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) X[i * p + j] = 10 + 0.1 * normal(r); // offset + small isotropic noise
    for (let c = 0; c < k; c++) {
      const z = sd[c] * normal(r);
      for (let j = 0; j < p; j++) X[i * p + j] += z * U[c * p + j];
    }
  }
  const pca = fitPca(X, p, k);
  for (let c = 0; c < k; c++) {
    assert.ok(Math.abs(dot(row(pca.components, c, p), row(U, c, p))) > 0.999, `component ${c}`);
    assert.ok(Math.abs(pca.variances[c] / (sd[c] ** 2 + 0.01) - 1) < 0.05, `variance ${c}: ${pca.variances[c]}`);
  }
  assert.ok(pca.explained[0] > pca.explained[1] && pca.explained.reduce((a, b) => a + b, 0) > 0.99);
  // Projections have the component variances and are uncorrelated.
  const Z = projectPca(pca, X);
  const { cov } = covariance(Z, k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) if (a !== b) assert.ok(Math.abs(cov[a * k + b]) < 1e-6 * cov[0]);
  // Only some rows: the same directions from a subset.
  const sub = fitPca(X, p, 1, Uint32Array.from({ length: 5000 }, (_, i) => i * 4));
  assert.ok(Math.abs(dot(row(sub.components, 0, p), row(U, 0, p))) > 0.999);
});

test('Gram–Schmidt across tasks: orthonormal, first task kept, later tasks lose the shared span, dependent rows dropped', () => {
  const p = 6, r = rng(4);
  const first = randomOrthonormal(2, p, 5);
  // The second task's basis: one vector inside the first task's span (dependent), one with a shared component, one new.
  const v0 = Float64Array.from({ length: p }, (_, j) => 0.6 * first[j] - 0.8 * first[p + j]);
  const v1 = Float64Array.from({ length: p }, (_, j) => first[j] + normal(r));
  const v2 = Float64Array.from({ length: p }, () => normal(r));
  const second = new Float64Array(3 * p);
  [v0, v1, v2].forEach((v, i) => second.set(v, i * p));
  const third = Float64Array.from({ length: 2 * p }, () => normal(r));
  const out = gramSchmidt([first, second, third], p);
  assert.deepEqual(out.map((b) => b.length / p), [2, 2, 2], 'the dependent vector of task 2 is dropped');
  for (let i = 0; i < 2 * p; i++) assert.ok(Math.abs(out[0][i] - first[i]) < 1e-12, 'the first task keeps its basis');
  const all = out.flatMap((b) => Array.from({ length: b.length / p }, (_, i) => row(b, i, p)));
  for (let i = 0; i < all.length; i++) {
    for (let j = 0; j < all.length; j++) assert.ok(Math.abs(dot(all[i], all[j]) - (i === j ? 1 : 0)) < 1e-12, `rows ${i}, ${j}`);
  }
  // Span check: v1 lies in span(first ∪ second').
  const proj = all.slice(0, 4).reduce((acc, u) => acc.map((a, j) => a + dot(u, v1) * u[j]), new Float64Array(p));
  assert.ok(proj.every((v, j) => Math.abs(v - v1[j]) < 1e-10));
  assert.throws(() => gramSchmidt([new Float64Array(5)], p), /expected/);
});
