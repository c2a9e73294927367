// Closed-form ridge regression in float64: standardisation, (XᵀX + λI)w = Xᵀy on centred data solved by Cholesky,
// λ chosen on a later validation slice of the training rows, R² on held-out rows. Everything works from
// sufficient statistics (GramStats), so one pass over the rows serves every task and every λ.
import { EngineError, expected } from '../errors';

/** Row-major n×p design matrix. */
export type Matrix = Float32Array | Float64Array;

export interface Standardiser {
  mean: Float64Array;
  /** Column standard deviations; 1 where a column is constant (or has fewer than 2 rows). */
  std: Float64Array;
}

function rowFinite(X: Matrix, o: number, p: number): boolean {
  for (let j = 0; j < p; j++) if (!Number.isFinite(X[o + j])) return false;
  return true;
}

/** Column mean / std over `rows` (default all) of X (n×p); rows with a non-finite value are skipped. */
export function fitStandardiser(X: Matrix, p: number, rows?: ArrayLike<number>): Standardiser {
  if (!Number.isInteger(p) || p < 1 || X.length % p !== 0) throw expected(`a matrix with a multiple of ${p} values`, 'X', X.length);
  const n = rows ? rows.length : X.length / p;
  const mean = new Float64Array(p), m2 = new Float64Array(p);
  let k = 0;
  for (let r = 0; r < n; r++) {
    const o = (rows ? rows[r] : r) * p;
    if (!rowFinite(X, o, p)) continue;
    k++;
    for (let j = 0; j < p; j++) {
      const v = X[o + j], d = v - mean[j];
      mean[j] += d / k;
      m2[j] += d * (v - mean[j]);
    }
  }
  const std = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const s = k > 1 ? Math.sqrt(m2[j] / (k - 1)) : 0;
    std[j] = s > 1e-12 * Math.max(1, Math.abs(mean[j])) ? s : 1;
  }
  return { mean, std };
}

/** (x − mean) / std of rows (default all) as a new Float64Array. */
export function standardise(X: Matrix, s: Standardiser, rows?: ArrayLike<number>): Float64Array {
  const p = s.mean.length, n = rows ? rows.length : X.length / p;
  const out = new Float64Array(n * p);
  for (let r = 0; r < n; r++) {
    const o = (rows ? rows[r] : r) * p;
    for (let j = 0; j < p; j++) out[r * p + j] = (X[o + j] - s.mean[j]) / s.std[j];
  }
  return out;
}

/** Sufficient statistics of a set of rows for K targets: n, Σx, Σxxᵀ (upper triangle), Σy, Σxy (K×p), Σy². */
export class GramStats {
  n = 0;
  readonly sx: Float64Array;
  readonly sxx: Float64Array;
  readonly sy: Float64Array;
  readonly sxy: Float64Array;
  readonly syy: Float64Array;

  constructor(readonly p: number, readonly K: number) {
    this.sx = new Float64Array(p);
    this.sxx = new Float64Array(p * p);
    this.sy = new Float64Array(K);
    this.sxy = new Float64Array(K * p);
    this.syy = new Float64Array(K);
  }

  /** Adds one row x (p values) with targets y[yOffset .. yOffset + K). */
  add(x: ArrayLike<number>, y: ArrayLike<number>, yOffset = 0): void {
    const { p, K, sx, sxx, sy, sxy, syy } = this;
    this.n++;
    for (let j = 0; j < p; j++) {
      const xj = x[j];
      sx[j] += xj;
      const o = j * p;
      for (let k = j; k < p; k++) sxx[o + k] += xj * x[k];
    }
    for (let t = 0; t < K; t++) {
      const v = y[yOffset + t];
      sy[t] += v;
      syy[t] += v * v;
      const o = t * p;
      for (let j = 0; j < p; j++) sxy[o + j] += v * x[j];
    }
  }

  /** A new GramStats holding the rows of both. */
  plus(other: GramStats): GramStats {
    if (other.p !== this.p || other.K !== this.K) throw expected(`GramStats of p ${this.p}, K ${this.K}`, 'plus', `p ${other.p}, K ${other.K}`);
    const g = new GramStats(this.p, this.K);
    g.n = this.n + other.n;
    for (const k of ['sx', 'sxx', 'sy', 'sxy', 'syy'] as const) for (let i = 0; i < g[k].length; i++) g[k][i] = this[k][i] + other[k][i];
    return g;
  }
}

/**
 * Accumulates rows of X (optionally standardised with `std`) and Y (n×K) into `into` (new by default). Rows with a
 * non-finite input or target are skipped; returns the stats and how many were skipped.
 */
export function accumulateGram(X: Matrix, p: number, Y: Matrix, K: number, rows: ArrayLike<number>, std?: Standardiser, into?: GramStats): { stats: GramStats; skipped: number } {
  const stats = into ?? new GramStats(p, K);
  const x = new Float64Array(p);
  let skipped = 0;
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r], o = i * p;
    let ok = true;
    for (let j = 0; j < p; j++) {
      const v = std ? (X[o + j] - std.mean[j]) / std.std[j] : X[o + j];
      if (!Number.isFinite(v)) ok = false;
      x[j] = v;
    }
    for (let t = 0; t < K; t++) if (!Number.isFinite(Y[i * K + t])) ok = false;
    if (!ok) {
      skipped++;
      continue;
    }
    stats.add(x, Y, i * K);
  }
  return { stats, skipped };
}

/** Lower Cholesky factor of a symmetric positive-definite p×p matrix (row-major), or null when it is not PD. */
export function cholesky(A: Float64Array, p: number): Float64Array | null {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * p + j];
      for (let k = 0; k < j; k++) s -= L[i * p + k] * L[j * p + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * p + i] = Math.sqrt(s);
      } else L[i * p + j] = s / L[j * p + j];
    }
  }
  return L;
}

/** Solves L Lᵀ x = b. */
export function choleskySolve(L: Float64Array, p: number, b: ArrayLike<number>): Float64Array {
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * p + k] * z[k];
    z[i] = s / L[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < p; k++) s -= L[k * p + i] * x[k];
    x[i] = s / L[i * p + i];
  }
  return x;
}

/** Ridge weights per task: w (K×p) and intercepts (K). */
export interface RidgeWeights {
  weights: Float64Array;
  intercepts: Float64Array;
  lambda: number;
}

/**
 * Solves (XcᵀXc + λI) w = Xcᵀ yc for every task, Xc / yc centred by the rows' means; intercept ȳ − x̄·w (not
 * penalised). λ = 0 on a singular matrix falls back to a tiny ridge (1e-10 of the mean diagonal).
 */
export function solveRidge(g: GramStats, lambda: number): RidgeWeights {
  const { p, K, n } = g;
  if (n < 1) throw new EngineError('E_INVALID_ARG', 'expected at least one row for a ridge fit, got 0');
  if (!(lambda >= 0)) throw expected('a non-negative number', 'lambda', lambda);
  const mx = Float64Array.from(g.sx, (v) => v / n);
  const A = new Float64Array(p * p);
  let trace = 0;
  for (let j = 0; j < p; j++) {
    for (let k = j; k < p; k++) {
      const c = g.sxx[j * p + k] - n * mx[j] * mx[k];
      A[j * p + k] = c;
      A[k * p + j] = c;
    }
    trace += A[j * p + j];
  }
  let L: Float64Array | null = null;
  for (let extra = 0, tries = 0; L === null && tries < 8; tries++) {
    for (let j = 0; j < p; j++) A[j * p + j] += (tries === 0 ? lambda : 0) + extra;
    L = cholesky(A, p);
    extra = Math.max(1e-10 * (trace / p || 1), extra * 100);
  }
  if (L === null) throw new EngineError('E_INTERNAL', `ridge system is not positive definite (p ${p}, n ${n}, λ ${lambda})`);
  const weights = new Float64Array(K * p), intercepts = new Float64Array(K);
  const rhs = new Float64Array(p);
  for (let t = 0; t < K; t++) {
    const my = g.sy[t] / n;
    for (let j = 0; j < p; j++) rhs[j] = g.sxy[t * p + j] - n * mx[j] * my;
    const w = choleskySolve(L, p, rhs);
    weights.set(w, t * p);
    let dot = 0;
    for (let j = 0; j < p; j++) dot += mx[j] * w[j];
    intercepts[t] = my - dot;
  }
  return { weights, intercepts, lambda };
}

/** Sum of squared errors of task t's linear predictor (w, b) over the rows summarised by g. */
export function sseFromGram(g: GramStats, t: number, w: ArrayLike<number>, b: number): number {
  const p = g.p;
  let wSxy = 0, wSx = 0, quad = 0;
  for (let j = 0; j < p; j++) {
    wSxy += w[j] * g.sxy[t * p + j];
    wSx += w[j] * g.sx[j];
    let row = g.sxx[j * p + j] * w[j];
    for (let k = j + 1; k < p; k++) row += 2 * g.sxx[j * p + k] * w[k];
    quad += w[j] * row;
  }
  return Math.max(0, g.syy[t] - 2 * b * g.sy[t] - 2 * wSxy + g.n * b * b + 2 * b * wSx + quad);
}

/** R² = 1 − SSE / SST (SST about the rows' own mean); NaN with fewer than 2 rows or a constant target. */
export function r2FromGram(g: GramStats, t: number, w: ArrayLike<number>, b: number): number {
  if (g.n < 2) return NaN;
  const sst = g.syy[t] - (g.sy[t] * g.sy[t]) / g.n;
  if (!(sst > 1e-12 * Math.max(1, g.syy[t]))) return NaN;
  return 1 - sseFromGram(g, t, w, b) / sst;
}

/** Per-sample penalties tried by default: λ = alpha · n (so the grid does not depend on the sample size). */
export const DEFAULT_RIDGE_ALPHAS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100];

export interface RidgeCVResult extends RidgeWeights {
  /** Chosen alpha and λ (= alpha · n of all training rows) per task. */
  alphas: number[];
  lambdas: number[];
  /** Validation-slice R² per task and alpha (NaN when undefined). */
  validationR2: number[][];
}

/**
 * Chooses λ per task on `val` (a later slice of the training rows) fitting on `fit`, then refits on fit + val
 * with the chosen alpha. Ties and an undefined validation R² fall back to the largest-R² / smallest alpha.
 */
export function ridgeCV(fit: GramStats, val: GramStats, alphas: readonly number[] = DEFAULT_RIDGE_ALPHAS): RidgeCVResult {
  if (!Array.isArray(alphas) || alphas.length === 0 || alphas.some((a) => !(a >= 0))) throw expected('non-negative alphas', 'ridgeCV alphas', alphas);
  const K = fit.K, p = fit.p;
  const validationR2 = Array.from({ length: K }, () => [] as number[]);
  if (fit.n >= 1) {
    for (const a of alphas) {
      const m = solveRidge(fit, a * fit.n);
      for (let t = 0; t < K; t++) validationR2[t].push(r2FromGram(val, t, m.weights.subarray(t * p, (t + 1) * p), m.intercepts[t]));
    }
  } else for (let t = 0; t < K; t++) validationR2[t] = alphas.map(() => NaN);
  const all = fit.plus(val);
  const weights = new Float64Array(K * p), intercepts = new Float64Array(K);
  const chosen: number[] = [], lambdas: number[] = [];
  for (let t = 0; t < K; t++) {
    let best = 0;
    validationR2[t].forEach((r, i) => {
      if (Number.isFinite(r) && !(r <= validationR2[t][best])) best = i; // NaN best is replaced by any finite value
    });
    chosen.push(alphas[best]);
    lambdas.push(alphas[best] * all.n);
    const m = solveRidge(all, alphas[best] * all.n);
    weights.set(m.weights.subarray(t * p, (t + 1) * p), t * p);
    intercepts[t] = m.intercepts[t];
  }
  return { weights, intercepts, lambda: lambdas[0], alphas: chosen, lambdas, validationR2 };
}

/** A single-target ridge model on a plain matrix (convenience for tools and tests). */
export interface RidgeModel {
  standardiser: Standardiser | null;
  weights: Float64Array;
  intercept: number;
  lambda: number;
}

/** Fits y ≈ X w + b with (XcᵀXc + λI) w = Xcᵀ yc (X standardised first when `standardise`, the default). */
export function fitRidge(X: Matrix, y: ArrayLike<number>, p: number, lambda: number, opts: { standardise?: boolean } = {}): RidgeModel {
  const n = X.length / p;
  if (!Number.isInteger(n) || y.length !== n) throw expected(`${n} targets for an n×${p} matrix`, 'y', y.length);
  const s = opts.standardise === false ? null : fitStandardiser(X, p);
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  const { stats } = accumulateGram(X, p, Float64Array.from(y), 1, rows, s ?? undefined);
  const m = solveRidge(stats, lambda);
  return { standardiser: s, weights: m.weights, intercept: m.intercepts[0], lambda };
}

export function predictRidge(m: RidgeModel, X: Matrix): Float64Array {
  const p = m.weights.length, n = X.length / p;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = m.intercept;
    for (let j = 0; j < p; j++) {
      const x = m.standardiser ? (X[i * p + j] - m.standardiser.mean[j]) / m.standardiser.std[j] : X[i * p + j];
      v += x * m.weights[j];
    }
    out[i] = v;
  }
  return out;
}

/** 1 − SSE/SST about the mean of y; NaN when y is constant or shorter than 2. */
export function r2Score(y: ArrayLike<number>, yhat: ArrayLike<number>): number {
  const n = y.length;
  if (n < 2 || yhat.length !== n) return NaN;
  let m = 0;
  for (let i = 0; i < n; i++) m += y[i];
  m /= n;
  let sse = 0, sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (y[i] - yhat[i]) ** 2;
    sst += (y[i] - m) ** 2;
  }
  return sst > 0 ? 1 - sse / sst : NaN;
}
