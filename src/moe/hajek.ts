// Hajek-MoE: the TS face of the native SIMD kernel (native/moe/hajek.{h,cc}) and a plain float64 reference
// written straight from the definition in shared/design/cmm.md, used by the tests.
//
// Per decision, experts j with u_j = [z_j ; y_j] (y_j last), V = experts whose u_j is all finite:
//   phi_j = sqrt(2/D) cos(W u_j + b),  c = mean_{j in V} phi_j
//   h_j   = (|V|/(|V|-1)) <phi_j, c> - (1/(|V|-1)) <phi_j, phi_j> - theta
//   theta = mean over ordered pairs j != l in V of <phi_j, phi_l>   (h then averages to 0 over V)
//   w     = softmax(tau h) over V, 0 elsewhere;  y = sum_j w_j y_j
// |V| = 1: w = 1 there. |V| = 0: y = NaN, w = 0, status has MoeStatus.NoValidExpert: pull quotes.
import { EngineError, expected } from '../errors';
import { native } from '../native';
import { RffMap, validateRff } from './rff';

export type MoeImpl = 'auto' | 'avx512' | 'avx2' | 'scalar';

/** Status bits returned by the kernels, OR-ed over a batch (native/moe/hajek.h MoeFlag). */
export const MoeStatus = {
  Ok: 0,
  /** Some expert had a NaN/Inf in u and got weight 0 (excluded from the consensus). */
  ExpertExcluded: 1,
  /** Some decision had no finite expert: its y is NaN and its weights 0. */
  NoValidExpert: 2,
  /** Native guard: bad sizes (TS validation should make this unreachable). */
  InvalidArg: 64,
} as const;

const IMPLS: readonly MoeImpl[] = ['auto', 'avx512', 'avx2', 'scalar'];

/** The implementation `auto` resolves to on this CPU (honours CMM_MOE_IMPL=scalar|avx2|avx512). */
export function moeImplementation(): Exclude<MoeImpl, 'auto'> {
  return native().moeImplementation() as Exclude<MoeImpl, 'auto'>;
}

/** The implementations this CPU can run, best first (always ends with 'scalar'). */
export function moeImplementations(): Exclude<MoeImpl, 'auto'>[] {
  return native().moeImplementations() as Exclude<MoeImpl, 'auto'>[];
}

export function validateMoeImpl(impl: unknown, what = 'impl'): MoeImpl {
  if (typeof impl !== 'string' || !IMPLS.includes(impl as MoeImpl)) throw expected(`one of ${IMPLS.join(', ')}`, what, impl);
  if (impl !== 'auto' && !moeImplementations().includes(impl as Exclude<MoeImpl, 'auto'>))
    throw expected(`an implementation this CPU supports (${moeImplementations().join(', ')})`, what, impl);
  return impl as MoeImpl;
}

function checkInt(v: unknown, what: string, min: number): number {
  if (!Number.isInteger(v) || (v as number) < min) throw expected(`an integer >= ${min}`, what, v);
  return v as number;
}

export function validateTau(tau: unknown, what = 'tau'): number {
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau < 0) throw expected('a finite number >= 0', what, tau);
  return tau;
}

/**
 * Native Hajek-MoE over a batch. u: B x M x dPlus1 (decision, expert, component; y_j last), W: D x dPlus1
 * row-major, b: D. Writes y (B) and, when wOut is given, the weights (B x M). Returns MoeStatus bits.
 */
export function hajekMoe(
  u: Float32Array, B: number, M: number, dPlus1: number, W: Float32Array, b: Float32Array, D: number, tau: number,
  yOut: Float32Array, wOut: Float32Array | null, impl: MoeImpl = 'auto',
): number {
  checkInt(B, 'B', 0);
  checkInt(M, 'M', 1);
  checkInt(dPlus1, 'dPlus1', 1);
  checkInt(D, 'D', 1);
  validateTau(tau);
  if (!(u instanceof Float32Array) || u.length < B * M * dPlus1) throw expected(`a Float32Array of >= ${B * M * dPlus1} (B x M x dPlus1)`, 'u', u?.length);
  if (!(W instanceof Float32Array) || W.length !== D * dPlus1) throw expected(`a Float32Array of ${D * dPlus1} (D x dPlus1)`, 'W', W?.length);
  if (!(b instanceof Float32Array) || b.length !== D) throw expected(`a Float32Array of ${D} (D)`, 'b', b?.length);
  if (!(yOut instanceof Float32Array) || yOut.length < B) throw expected(`a Float32Array of >= ${B}`, 'yOut', yOut?.length);
  wOut = wOut ?? null;
  if (wOut !== null && (!(wOut instanceof Float32Array) || wOut.length < B * M)) throw expected(`null or a Float32Array of >= ${B * M}`, 'wOut', wOut?.length);
  validateMoeImpl(impl);
  const status = native().hajekMoe(u, B, M, dPlus1, W, b, D, tau, yOut, wOut, impl) as number;
  if (status & MoeStatus.InvalidArg) throw new EngineError('E_INTERNAL', 'hajekMoe: native kernel rejected validated arguments');
  return status;
}

/** Same as hajekMoe with an RffMap. */
export function hajekMoeRff(u: Float32Array, B: number, M: number, rff: RffMap, tau: number, yOut: Float32Array, wOut: Float32Array | null, impl: MoeImpl = 'auto'): number {
  return hajekMoe(u, B, M, rff.P, rff.W, rff.b, rff.D, tau, yOut, wOut, impl);
}

export interface HajekReference {
  y: Float64Array; // B
  w: Float64Array; // B x M
  h: Float64Array; // B x M (NaN for excluded experts)
  theta: Float64Array; // B (NaN when |V| < 2)
  status: number;
}

/** Float64 reference, term by term from the definition (pairwise similarities, no shortcuts). Tests only. */
export function hajekMoeReference(u: ArrayLike<number>, B: number, M: number, rff: RffMap, tau: number): HajekReference {
  validateRff(rff);
  const { D, P, W, b } = rff;
  const y = new Float64Array(B), w = new Float64Array(B * M), h = new Float64Array(B * M).fill(NaN);
  const theta = new Float64Array(B).fill(NaN);
  let status: number = MoeStatus.Ok;
  const scale = Math.sqrt(2 / D);
  const phi: Float64Array[] = Array.from({ length: M }, () => new Float64Array(D));
  const dot = (a: Float64Array, c: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < D; i++) s += a[i] * c[i];
    return s;
  };
  for (let bi = 0; bi < B; bi++) {
    const valid: number[] = [];
    for (let j = 0; j < M; j++) {
      const off = (bi * M + j) * P;
      let finite = true;
      for (let p = 0; p < P; p++) if (!Number.isFinite(u[off + p])) finite = false;
      if (!finite) continue;
      valid.push(j);
      for (let i = 0; i < D; i++) {
        let a = b[i];
        for (let p = 0; p < P; p++) a += W[i * P + p] * u[off + p];
        phi[j][i] = scale * Math.cos(a);
      }
    }
    const m = valid.length;
    if (m < M) status |= MoeStatus.ExpertExcluded;
    if (m === 0) {
      status |= MoeStatus.NoValidExpert;
      y[bi] = NaN;
      continue;
    }
    const yj = (j: number): number => u[(bi * M + j) * P + P - 1];
    if (m === 1) {
      w[bi * M + valid[0]] = 1;
      h[bi * M + valid[0]] = 0;
      y[bi] = yj(valid[0]);
      continue;
    }
    const c = new Float64Array(D);
    for (const j of valid) for (let i = 0; i < D; i++) c[i] += phi[j][i] / m;
    let pairs = 0;
    for (const j of valid) for (const l of valid) if (j !== l) pairs += dot(phi[j], phi[l]);
    const th = pairs / (m * (m - 1));
    theta[bi] = th;
    for (const j of valid) h[bi * M + j] = (m / (m - 1)) * dot(phi[j], c) - (1 / (m - 1)) * dot(phi[j], phi[j]) - th;
    let mx = -Infinity;
    for (const j of valid) mx = Math.max(mx, tau * h[bi * M + j]);
    let z = 0;
    for (const j of valid) z += Math.exp(tau * h[bi * M + j] - mx);
    let acc = 0;
    for (const j of valid) {
      const wj = Math.exp(tau * h[bi * M + j] - mx) / z;
      w[bi * M + j] = wj;
      acc += wj * yj(j);
    }
    y[bi] = acc;
  }
  return { y, w, h, theta, status };
}
