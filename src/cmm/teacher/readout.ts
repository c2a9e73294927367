// Ridge regression in closed form (standardised inputs, unpenalised intercept), solved by Cholesky in float64.
// The LLM teacher's numeric heads are a ridge read-out of its hidden states.
import { EngineError, expected } from '../../errors';

export interface ReadoutModel {
  /** Input width p and output width k. */
  p: number;
  k: number;
  lambda: number;
  mean: number[];
  std: number[];
  /** p×k, row-major, on standardised inputs. */
  weights: number[];
  /** k intercepts (the targets' training means). */
  bias: number[];
}

/** Fits X (n×p) → Y (n×k) with penalty λ·‖W‖² on standardised X. Rows with a non-finite value are skipped. */
export function fitReadoutRidge(X: Float32Array | Float64Array, Y: Float32Array | Float64Array, n: number, p: number, k: number, lambda = 1): ReadoutModel {
  if (X.length !== n * p) throw expected(`${n}×${p} floats`, 'ridge X', X.length);
  if (Y.length !== n * k) throw expected(`${n}×${k} floats`, 'ridge Y', Y.length);
  if (!(lambda >= 0)) throw expected('a non-negative number', 'ridge lambda', lambda);
  const ok = new Uint8Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    let good = true;
    for (let j = 0; j < p && good; j++) good = Number.isFinite(X[i * p + j]);
    for (let j = 0; j < k && good; j++) good = Number.isFinite(Y[i * k + j]);
    ok[i] = good ? 1 : 0;
    m += ok[i];
  }
  if (m < 2) throw new EngineError('E_INVALID_ARG', `ridge needs at least 2 finite rows, got ${m}`);
  const mean = new Float64Array(p), std = new Float64Array(p), ym = new Float64Array(k);
  for (let i = 0; i < n; i++) if (ok[i]) {
    for (let j = 0; j < p; j++) mean[j] += X[i * p + j];
    for (let j = 0; j < k; j++) ym[j] += Y[i * k + j];
  }
  for (let j = 0; j < p; j++) mean[j] /= m;
  for (let j = 0; j < k; j++) ym[j] /= m;
  for (let i = 0; i < n; i++) if (ok[i]) for (let j = 0; j < p; j++) std[j] += (X[i * p + j] - mean[j]) ** 2;
  for (let j = 0; j < p; j++) std[j] = Math.sqrt(std[j] / m) || 1;
  // A = ZᵀZ + λI, B = Zᵀ(Y − ȳ), Z the standardised X.
  const A = new Float64Array(p * p), B = new Float64Array(p * k), z = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    if (!ok[i]) continue;
    for (let j = 0; j < p; j++) z[j] = (X[i * p + j] - mean[j]) / std[j];
    for (let a = 0; a < p; a++) {
      const za = z[a];
      if (za === 0) continue;
      for (let b = a; b < p; b++) A[a * p + b] += za * z[b];
      for (let c = 0; c < k; c++) B[a * k + c] += za * (Y[i * k + c] - ym[c]);
    }
  }
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < a; b++) A[a * p + b] = A[b * p + a];
    A[a * p + a] += lambda + 1e-9 * m; // tiny jitter keeps λ = 0 solvable for rank-deficient inputs
  }
  const W = choleskySolve(A, B, p, k);
  return { p, k, lambda, mean: Array.from(mean), std: Array.from(std), weights: Array.from(W), bias: Array.from(ym) };
}

/** Y = ((X − mean)/std)·W + bias for n rows. */
export function predictReadout(model: ReadoutModel, X: Float32Array | Float64Array, n: number): Float32Array {
  const { p, k } = model;
  if (X.length !== n * p) throw expected(`${n}×${p} floats`, 'ridge X', X.length);
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = model.bias[c];
      for (let j = 0; j < p; j++) s += ((X[i * p + j] - model.mean[j]) / model.std[j]) * model.weights[j * k + c];
      out[i * k + c] = s;
    }
  }
  return out;
}

/** Solves A·X = B for symmetric positive-definite A (p×p) and B (p×k). */
function choleskySolve(A: Float64Array, B: Float64Array, p: number, k: number): Float64Array {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * p + j];
      for (let q = 0; q < j; q++) s -= L[i * p + q] * L[j * p + q];
      if (i === j) {
        if (!(s > 0)) throw new EngineError('E_INTERNAL', 'ridge system is not positive definite (raise lambda)');
        L[i * p + i] = Math.sqrt(s);
      } else L[i * p + j] = s / L[j * p + j];
    }
  }
  const X = new Float64Array(p * k);
  for (let c = 0; c < k; c++) {
    const y = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      let s = B[i * k + c];
      for (let q = 0; q < i; q++) s -= L[i * p + q] * y[q];
      y[i] = s / L[i * p + i];
    }
    for (let i = p - 1; i >= 0; i--) {
      let s = y[i];
      for (let q = i + 1; q < p; q++) s -= L[q * p + i] * X[q * k + c];
      X[i * k + c] = s / L[i * p + i];
    }
  }
  return X;
}
