// Scoring and Hájek-MoE parameter choice for the distilled students: regression scores, regime routing, the
// RFF length scale ℓ and temperature τ per task chosen on VALIDATION rows with the native kernel (src/moe/hajek.ts),
// and a ridge baseline on the raw student features with λ chosen on validation (fitted on train only).
import { expected } from '../errors';
import { hajekMoe } from '../moe/hajek';
import { RffMap, makeRff } from '../moe/rff';
import type { StudentBankMoe } from '../moe/student-bank';
import type { CmmDataset } from './dataset-file';
import { accumulateGram, fitStandardiser, r2FromGram, solveRidge } from './ridge';

export interface RegressionScore {
  n: number;
  mse: number;
  /** 1 − SSE/SST about the rows' own mean (NaN for fewer than 2 rows or a constant target). */
  r2: number;
}

/** MSE and R² of predictions (aligned with rows) for task k; rows with a non-finite prediction count as missing. */
export function scoreTask(ds: CmmDataset, rows: ArrayLike<number>, k: number, pred: ArrayLike<number>): RegressionScore & { missing: number } {
  const K = ds.header.tasks.length;
  let n = 0, sy = 0, syy = 0, sse = 0, missing = 0;
  for (let r = 0; r < rows.length; r++) {
    const y = ds.targets[rows[r] * K + k], p = pred[r];
    if (!Number.isFinite(p)) {
      missing++;
      continue;
    }
    n++;
    sy += y;
    syy += y * y;
    sse += (y - p) ** 2;
  }
  const sst = syy - (sy * sy) / Math.max(1, n);
  return { n, mse: n > 0 ? sse / n : NaN, r2: n >= 2 && sst > 1e-12 ? 1 - sse / sst : NaN, missing };
}

/** Per-task predictions of the student of each row's regime: out is n×(S·O) bank outputs, students task-major. */
export function routedPredictions(ds: CmmDataset, rows: ArrayLike<number>, out: ArrayLike<number>, S: number, O: number, k: number, studentOf: (task: number, regime: number) => number): Float64Array {
  const pred = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) pred[r] = out[r * S * O + studentOf(k, ds.regime[rows[r]]) * O + O - 1];
  return pred;
}

/** ŷ of one student for every row. */
export function studentPredictions(out: ArrayLike<number>, n: number, S: number, O: number, s: number): Float64Array {
  return Float64Array.from({ length: n }, (_, r) => out[r * S * O + s * O + O - 1]);
}

export type MoeKernel = 'isotropic' | 'scaled-y';

export interface MoeGrid {
  lengthScales: number[];
  taus: number[];
  kernels: MoeKernel[];
  D: number;
}

/**
 * Default grid: cmm.md's isotropic kernel only. 'scaled-y' (ŷ divided by σ_y inside the kernel) was tried as an
 * improvement: validation preferred it for 2 of 3 tasks on LOBSTER AMZN+MSFT, but on the test split it was equal or
 * worse for every task and seed (mid R² 0.104/0.093/0.140 vs 0.120/0.122/0.140 isotropic), so it is opt-in.
 */
export const DEFAULT_MOE_GRID: MoeGrid = { lengthScales: [0.5, 1, 2, 4, 8], taus: [0, 1, 3, 10, 30, 100], kernels: ['isotropic'], D: 64 };

export interface MoeChoice {
  task: number;
  lengthScale: number;
  tau: number;
  kernel: MoeKernel;
  /** σ_y the y column of W was divided by ('scaled-y'; 1 for 'isotropic'). */
  yScale: number;
  seed: number;
  D: number;
  validation: RegressionScore;
  /** Validation MSE of every grid point: [kernel][ℓ][τ]. */
  grid: number[][][];
}

/**
 * The RFF map of a choice: makeRff(D, P, ℓ, seed) exactly as cmm.md ('isotropic'), or with the y column of W
 * divided by yScale ('scaled-y': an RBF kernel on [ẑ ; ŷ/σ_y], so ŷ in target units does not swamp ẑ).
 */
export function moeRff(choice: Pick<MoeChoice, 'lengthScale' | 'kernel' | 'yScale' | 'seed' | 'D'>, P: number): RffMap {
  const rff = makeRff({ D: choice.D, P, lengthScale: choice.lengthScale, seed: choice.seed });
  if (choice.kernel === 'scaled-y') for (let i = 0; i < choice.D; i++) rff.W[i * P + P - 1] /= choice.yScale;
  return rff;
}

/**
 * Chooses ℓ, τ and the kernel per task by validation MSE of the native Hájek-MoE over the task's M experts.
 * out: n×(S·O) bank outputs on validation rows (students task-major, S = K·M); yScale[k]: train std of task k.
 */
export function tuneMoe(ds: CmmDataset, valRows: ArrayLike<number>, out: Float32Array, K: number, M: number, O: number, yScale: number[], seed: number, grid: MoeGrid = DEFAULT_MOE_GRID): { moe: StudentBankMoe; choices: MoeChoice[] } {
  const n = valRows.length, S = K * M;
  if (out.length !== n * S * O) throw expected(`${n}×${S * O} student outputs`, 'tuneMoe outputs', out.length);
  if (n === 0) throw expected('at least one validation row', 'Hájek-MoE tuning', 0);
  for (const l of grid.lengthScales) if (!(l > 0)) throw expected('positive length scales', 'MoE grid', l);
  const u = new Float32Array(n * M * O), y = new Float32Array(n);
  const choices: MoeChoice[] = [];
  for (let k = 0; k < K; k++) {
    for (let r = 0; r < n; r++) u.set(out.subarray(r * S * O + k * M * O, r * S * O + (k + 1) * M * O), r * M * O);
    let best: MoeChoice | null = null;
    const table: number[][][] = [];
    for (const kernel of grid.kernels) {
      const byL: number[][] = [];
      for (const lengthScale of grid.lengthScales) {
        const base = { lengthScale, kernel, yScale: kernel === 'scaled-y' ? yScale[k] : 1, seed: seed + k, D: grid.D };
        const rff = moeRff(base, O);
        const byTau: number[] = [];
        for (const tau of grid.taus) {
          hajekMoe(u, n, M, O, rff.W, rff.b, rff.D, tau, y, null);
          const score = scoreTask(ds, valRows, k, y);
          byTau.push(score.mse);
          if (!best || score.mse < best.validation.mse) best = { task: k, ...base, tau, validation: { n: score.n, mse: score.mse, r2: score.r2 }, grid: table };
        }
        byL.push(byTau);
      }
      table.push(byL);
    }
    choices.push(best!);
  }
  return {
    moe: { tasks: K, rff: choices.map((c) => moeRff(c, O)), tau: choices.map((c) => c.tau) },
    choices,
  };
}

export interface RidgeBaseline {
  /** Chosen per-sample penalty alpha (λ = alpha·n) per task, by validation R². */
  alphas: number[];
  weights: Float64Array;
  intercepts: Float64Array;
  mean: Float64Array;
  std: Float64Array;
}

/** Ridge on the raw student features per task: fit on `train`, penalty chosen on `val` (no refit on val). */
export function fitRidgeBaseline(ds: CmmDataset, train: ArrayLike<number>, val: ArrayLike<number>, alphas = [1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100]): RidgeBaseline {
  const p = ds.header.studentFeatures.length, K = ds.header.tasks.length;
  const std = fitStandardiser(ds.x, p, train);
  const gFit = accumulateGram(ds.x, p, ds.targets, K, train, std).stats;
  const gVal = accumulateGram(ds.x, p, ds.targets, K, val, std).stats;
  const fits = alphas.map((a) => solveRidge(gFit, a * gFit.n));
  const weights = new Float64Array(K * p), intercepts = new Float64Array(K), chosen: number[] = [];
  for (let k = 0; k < K; k++) {
    let best = 0, bestR2 = -Infinity;
    fits.forEach((m, i) => {
      const r2 = gVal.n >= 2 ? r2FromGram(gVal, k, m.weights.subarray(k * p, (k + 1) * p), m.intercepts[k]) : NaN;
      if (r2 > bestR2) {
        bestR2 = r2;
        best = i;
      }
    });
    chosen.push(alphas[best]);
    weights.set(fits[best].weights.subarray(k * p, (k + 1) * p), k * p);
    intercepts[k] = fits[best].intercepts[k];
  }
  return { alphas: chosen, weights, intercepts, mean: std.mean, std: std.std };
}

export function predictRidgeBaseline(ds: CmmDataset, m: RidgeBaseline, rows: ArrayLike<number>, k: number): Float64Array {
  const p = m.mean.length;
  return Float64Array.from({ length: rows.length }, (_, r) => {
    let v = m.intercepts[k];
    for (let j = 0; j < p; j++) v += ((ds.x[rows[r] * p + j] - m.mean[j]) / m.std[j]) * m.weights[k * p + j];
    return v;
  });
}

