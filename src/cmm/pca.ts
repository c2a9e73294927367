// Principal directions for OFDD (cmm.md): covariance, symmetric eigen decomposition (cyclic Jacobi, float64),
// top-d' components, and Gram–Schmidt across the tasks that share a teacher layer so their targets are disjoint.
import { EngineError, expected } from '../errors';
import type { Matrix } from './ridge';

/** Column means and the sample covariance (p×p, divisor n − 1) of rows (default all) of X (n×p). */
export function covariance(X: Matrix, p: number, rows?: ArrayLike<number>): { mean: Float64Array; cov: Float64Array; n: number } {
  if (!Number.isInteger(p) || p < 1 || X.length % p !== 0) throw expected(`a matrix with a multiple of ${p} values`, 'X', X.length);
  const n = rows ? rows.length : X.length / p;
  const mean = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    const o = (rows ? rows[r] : r) * p;
    for (let j = 0; j < p; j++) mean[j] += X[o + j];
  }
  for (let j = 0; j < p; j++) mean[j] /= Math.max(1, n);
  const cov = new Float64Array(p * p);
  const d = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    const o = (rows ? rows[r] : r) * p;
    for (let j = 0; j < p; j++) d[j] = X[o + j] - mean[j];
    for (let j = 0; j < p; j++) {
      const dj = d[j];
      for (let k = j; k < p; k++) cov[j * p + k] += dj * d[k];
    }
  }
  const div = Math.max(1, n - 1);
  for (let j = 0; j < p; j++) {
    for (let k = j; k < p; k++) {
      cov[j * p + k] /= div;
      cov[k * p + j] = cov[j * p + k];
    }
  }
  return { mean, cov, n };
}

/**
 * Eigen decomposition of a symmetric p×p matrix by cyclic Jacobi rotations. Returns eigenvalues in descending
 * order and the eigenvectors as ROWS of `vectors` (row k belongs to values[k]), orthonormal.
 */
export function symmetricEigen(A: Float64Array, p: number, maxSweeps = 100): { values: Float64Array; vectors: Float64Array } {
  if (A.length !== p * p) throw expected(`${p}×${p} values`, 'symmetricEigen A', A.length);
  const a = Float64Array.from(A);
  const v = new Float64Array(p * p);
  for (let i = 0; i < p; i++) v[i * p + i] = 1;
  let scale = 0;
  for (let i = 0; i < p * p; i++) scale += a[i] * a[i];
  const tol = 1e-30 * Math.max(scale, 1e-300);
  let sweep = 0;
  for (; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) off += a[i * p + j] * a[i * p + j];
    if (off <= tol) break;
    for (let i = 0; i < p - 1; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = a[i * p + j];
        if (aij === 0) continue;
        const theta = (a[j * p + j] - a[i * p + i]) / (2 * aij);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < p; k++) { // A ← A·J (columns i, j)
          const aki = a[k * p + i], akj = a[k * p + j];
          a[k * p + i] = c * aki - s * akj;
          a[k * p + j] = s * aki + c * akj;
        }
        for (let k = 0; k < p; k++) { // A ← Jᵀ·A (rows i, j)
          const aik = a[i * p + k], ajk = a[j * p + k];
          a[i * p + k] = c * aik - s * ajk;
          a[j * p + k] = s * aik + c * ajk;
        }
        for (let k = 0; k < p; k++) { // V ← V·J, eigenvectors in columns
          const vki = v[k * p + i], vkj = v[k * p + j];
          v[k * p + i] = c * vki - s * vkj;
          v[k * p + j] = s * vki + c * vkj;
        }
      }
    }
  }
  if (sweep === maxSweeps) throw new EngineError('E_INTERNAL', `Jacobi eigen decomposition did not converge in ${maxSweeps} sweeps (p ${p})`);
  const order = Array.from({ length: p }, (_, i) => i).sort((x, y) => a[y * p + y] - a[x * p + x]);
  const values = Float64Array.from(order, (i) => a[i * p + i]);
  const vectors = new Float64Array(p * p);
  order.forEach((col, r) => {
    for (let k = 0; k < p; k++) vectors[r * p + k] = v[k * p + col];
  });
  return { values, vectors };
}

export interface Pca {
  p: number;
  k: number;
  mean: Float64Array;
  /** k×p, orthonormal rows: the principal directions, largest variance first, sign fixed (largest |entry| > 0). */
  components: Float64Array;
  /** Variance along each component, and its share of the total variance. */
  variances: Float64Array;
  explained: Float64Array;
}

/** The top-k principal directions of rows (default all) of X (n×p). */
export function fitPca(X: Matrix, p: number, k: number, rows?: ArrayLike<number>): Pca {
  if (!Number.isInteger(k) || k < 1 || k > p) throw expected(`an integer 1..${p}`, 'PCA components', k);
  const { mean, cov, n } = covariance(X, p, rows);
  if (n < 2) throw expected('at least 2 rows', 'PCA', n);
  const { values, vectors } = symmetricEigen(cov, p);
  let total = 0;
  for (let j = 0; j < p; j++) total += cov[j * p + j];
  const components = vectors.slice(0, k * p);
  for (let r = 0; r < k; r++) {
    let big = 0;
    for (let j = 0; j < p; j++) if (Math.abs(components[r * p + j]) > Math.abs(components[r * p + big])) big = j;
    if (components[r * p + big] < 0) for (let j = 0; j < p; j++) components[r * p + j] = -components[r * p + j];
  }
  const variances = Float64Array.from(values.subarray(0, k), (x) => Math.max(0, x));
  const explained = Float64Array.from(variances, (x) => (total > 0 ? x / total : 0));
  return { p, k, mean, components, variances, explained };
}

/** z = P (x − mean) for every row of X: n×k. Pass another `basis` (k'×p rows) to project on it instead. */
export function projectPca(pca: Pca, X: Matrix, basis: Float64Array = pca.components): Float64Array {
  const p = pca.p, k = basis.length / p, n = X.length / p;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      let s = 0;
      for (let j = 0; j < p; j++) s += basis[r * p + j] * (X[i * p + j] - pca.mean[j]);
      out[i * k + r] = s;
    }
  }
  return out;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  return Math.sqrt(s);
}

/**
 * Gram–Schmidt across tasks sharing a layer: bases[i] (k_i×p rows) are processed in order; each vector loses its
 * components along every vector kept before it (earlier tasks first, then its own earlier rows; modified GS with
 * one re-orthogonalisation pass) and is normalised. A vector whose remainder has norm below `eps` (relative to its
 * original norm) is dropped, so a task can come back with fewer rows. The first task's basis is only
 * re-normalised: order the tasks by priority. Every returned row is unit length and orthogonal to all others.
 */
export function gramSchmidt(bases: readonly Float64Array[], p: number, eps = 1e-8): Float64Array[] {
  if (!Number.isInteger(p) || p < 1) throw expected('a positive integer', 'gramSchmidt p', p);
  const kept: Float64Array[] = [];
  return bases.map((basis, b) => {
    if (basis.length % p !== 0) throw expected(`a multiple of ${p} values`, `gramSchmidt bases[${b}]`, basis.length);
    const rows: Float64Array[] = [];
    for (let r = 0; r < basis.length / p; r++) {
      const v = Float64Array.from(basis.subarray(r * p, (r + 1) * p));
      const norm0 = norm(v);
      if (!(norm0 > 0)) continue;
      for (let pass = 0; pass < 2; pass++) {
        for (const u of kept) {
          let dot = 0;
          for (let j = 0; j < p; j++) dot += u[j] * v[j];
          for (let j = 0; j < p; j++) v[j] -= dot * u[j];
        }
      }
      const nv = norm(v);
      if (!(nv > eps * norm0)) continue;
      for (let j = 0; j < p; j++) v[j] /= nv;
      kept.push(v);
      rows.push(v);
    }
    const out = new Float64Array(rows.length * p);
    rows.forEach((v, r) => out.set(v, r * p));
    return out;
  });
}
