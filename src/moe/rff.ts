// Random Fourier features of an RBF kernel for the Hajek-MoE: W ~ N(0, 1/l^2) (D x P), b ~ U[0, 2*pi) (D),
// drawn from a seeded generator so a (seed, D, P, l) quadruple always gives the same map; stored with the models.
import { expected } from '../errors';
import { Rng } from '../sim/rng';

/** One RFF map: phi(u) = sqrt(2/D) * cos(W u + b), W row-major D x P, both float32 (what the kernels read). */
export interface RffMap {
  D: number;
  P: number;
  W: Float32Array;
  b: Float32Array;
}

export interface RffOptions {
  /** Number of random features (e.g. 64). */
  D: number;
  /** Input dimension d'+1. */
  P: number;
  /** RBF length scale l > 0: k(u, v) = exp(-|u - v|^2 / (2 l^2)). */
  lengthScale: number;
  /** Non-negative integer seed. */
  seed: number;
}

/** Draws W and b with the project's seeded generator (src/sim/rng.ts, stream 0x4d6f45 "MoE"). */
export function makeRff(opts: RffOptions): RffMap {
  const { D, P, lengthScale, seed } = opts;
  if (!Number.isInteger(D) || D <= 0) throw expected('a positive integer', 'rff.D', D);
  if (!Number.isInteger(P) || P <= 0) throw expected('a positive integer', 'rff.P', P);
  if (!(Number.isFinite(lengthScale) && lengthScale > 0)) throw expected('a positive number', 'rff.lengthScale', lengthScale);
  const rng = new Rng(seed, 0x4d6f45);
  const W = new Float32Array(D * P);
  for (let i = 0; i < W.length; i++) W[i] = rng.normal() / lengthScale;
  const b = new Float32Array(D);
  for (let i = 0; i < D; i++) b[i] = rng.uniform() * 2 * Math.PI;
  return { D, P, W, b };
}

/** Checks an RFF map's shape (W: D x P, b: D, all finite). */
export function validateRff(rff: RffMap, what = 'rff'): void {
  if (!Number.isInteger(rff.D) || rff.D <= 0) throw expected('a positive integer', `${what}.D`, rff.D);
  if (!Number.isInteger(rff.P) || rff.P <= 0) throw expected('a positive integer', `${what}.P`, rff.P);
  if (!(rff.W instanceof Float32Array) || rff.W.length !== rff.D * rff.P)
    throw expected(`a Float32Array of ${rff.D * rff.P} (D x P)`, `${what}.W`, rff.W?.length);
  if (!(rff.b instanceof Float32Array) || rff.b.length !== rff.D)
    throw expected(`a Float32Array of ${rff.D} (D)`, `${what}.b`, rff.b?.length);
  for (const v of rff.W) if (!Number.isFinite(v)) throw expected('finite values', `${what}.W`, v);
  for (const v of rff.b) if (!Number.isFinite(v)) throw expected('finite values', `${what}.b`, v);
}
