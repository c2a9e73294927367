// TS face of the native fused student bank (native/student/mlp.{h,cc}, bound in native/napi/moe.cc): S student
// MLPs on one feature vector plus the Hajek-MoE per task in one call. Also the flat weight layout's helpers,
// a float64 reference forward pass (tests) and a seeded random initialiser (tests, benchmarks).
//
// Flat layout (float32): [mean F][std F] if normalize; then for each student s (task-major: s = task*M + m),
// for each layer l = 0..L: W_l (in_l x out_l, row-major: ONNX Gemm B with transB=0) then b_l (out_l).
// Hidden layers use `activation`; the output layer (O = d'+1, [z ; y], y last) is linear.
import { EngineError, expected } from '../errors';
import { native } from '../native';
import { Rng } from '../sim/rng';
import { MoeImpl, MoeStatus, validateMoeImpl, validateTau } from './hajek';
import { RffMap, validateRff } from './rff';

export type StudentActivation = 'tanh' | 'relu' | 'gelu' | 'identity';
const ACTIVATIONS: readonly StudentActivation[] = ['tanh', 'relu', 'gelu', 'identity'];

export interface StudentBankShape {
  /** S = tasks x experts per task. */
  students: number;
  /** F: length of the feature vector. */
  inputs: number;
  /** Hidden layer widths (may be empty). */
  hidden: number[];
  /** O = d'+1. */
  outputs: number;
  activation: StudentActivation;
  /** When true the flat weights start with the feature mean and std: x' = (x - mean) / std. */
  normalize: boolean;
}

export interface StudentBankMoe {
  /** K tasks; experts per task M = students / K. */
  tasks: number;
  /** One RFF map per task, each with P = outputs. */
  rff: RffMap[];
  /** One temperature per task. */
  tau: number[];
}

export interface StudentBankSpec extends StudentBankShape {
  weights: Float32Array;
  moe?: StudentBankMoe;
}

/** Floats in the flat layout for a shape. */
export function studentFlatSize(shape: StudentBankShape): number {
  let per = 0;
  let fin = shape.inputs;
  for (const h of shape.hidden) {
    per += fin * h + h;
    fin = h;
  }
  per += fin * shape.outputs + shape.outputs;
  return per * shape.students + (shape.normalize ? 2 * shape.inputs : 0);
}

/** Offsets into one output row of StudentBank.run: students [0, S*O), MoE y [yOffset, +K), weights [wOffset, +K*M). */
export function studentBankLayout(spec: StudentBankShape & { moe?: StudentBankMoe }): { yOffset: number; wOffset: number; outSize: number; experts: number } {
  const so = spec.students * spec.outputs;
  const K = spec.moe?.tasks ?? 0;
  const M = K > 0 ? spec.students / K : 0;
  return { yOffset: so, wOffset: so + K, outSize: so + K + K * M, experts: M };
}

export function validateStudentBankSpec(spec: StudentBankSpec): void {
  const posInt = (v: unknown, what: string): void => {
    if (!Number.isInteger(v) || (v as number) <= 0) throw expected('a positive integer', what, v);
  };
  posInt(spec.students, 'students');
  posInt(spec.inputs, 'inputs');
  posInt(spec.outputs, 'outputs');
  if (!Array.isArray(spec.hidden)) throw expected('an array of positive integers', 'hidden', spec.hidden);
  spec.hidden.forEach((h, i) => posInt(h, `hidden[${i}]`));
  if (!ACTIVATIONS.includes(spec.activation)) throw expected(`one of ${ACTIVATIONS.join(', ')}`, 'activation', spec.activation);
  if (typeof spec.normalize !== 'boolean') throw expected('a boolean', 'normalize', spec.normalize);
  const n = studentFlatSize(spec);
  if (!(spec.weights instanceof Float32Array) || spec.weights.length !== n)
    throw expected(`a Float32Array of ${n} weights for this shape`, 'weights', spec.weights?.length);
  if (spec.normalize)
    for (let i = 0; i < spec.inputs; i++)
      if (!(spec.weights[spec.inputs + i] > 0)) throw expected('a positive std', `normalization std[${i}]`, spec.weights[spec.inputs + i]);
  if (spec.moe !== undefined) {
    const { tasks, rff, tau } = spec.moe;
    posInt(tasks, 'moe.tasks');
    if (spec.students % tasks !== 0) throw expected(`a divisor of ${spec.students} students`, 'moe.tasks', tasks);
    if (!Array.isArray(rff) || rff.length !== tasks) throw expected(`${tasks} RFF maps`, 'moe.rff', rff?.length);
    if (!Array.isArray(tau) || tau.length !== tasks) throw expected(`${tasks} temperatures`, 'moe.tau', tau?.length);
    rff.forEach((r, k) => {
      validateRff(r, `moe.rff[${k}]`);
      if (r.P !== spec.outputs) throw expected(`P = outputs = ${spec.outputs}`, `moe.rff[${k}].P`, r.P);
      if (r.D !== rff[0].D) throw expected(`the same D for every task (${rff[0].D})`, `moe.rff[${k}].D`, r.D);
    });
    tau.forEach((t, k) => validateTau(t, `moe.tau[${k}]`));
  }
}

export interface StudentBankOptions {
  /** Student kernel: 'auto' (AVX2 when present), 'avx2' or 'scalar' ('avx512' means auto: no AVX-512 MLP path). */
  impl?: MoeImpl;
  /** MoE kernel, as for hajekMoe. */
  moeImpl?: MoeImpl;
}

/**
 * The fused native bank. run(x, out) writes one output row (see studentBankLayout) and returns MoeStatus bits:
 * NoValidExpert means some task's prediction is NaN (e.g. NaN features) and its quotes must be pulled.
 * Not thread-safe (it owns scratch buffers): one bank per worker.
 */
export class StudentBank {
  readonly spec: StudentBankSpec;
  readonly outSize: number;
  readonly yOffset: number;
  readonly wOffset: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly handle: any;

  constructor(spec: StudentBankSpec, opts: StudentBankOptions = {}) {
    validateStudentBankSpec(spec);
    const impl = validateMoeImpl(opts.impl ?? 'auto', 'impl');
    if (impl === 'avx512') throw expected("'auto', 'avx2' or 'scalar' (the student kernel has no AVX-512 path)", 'impl', impl);
    const moeImpl = validateMoeImpl(opts.moeImpl ?? 'auto', 'moeImpl');
    this.spec = spec;
    let moe: object | undefined;
    if (spec.moe) {
      const { tasks, rff, tau } = spec.moe;
      const D = rff[0].D, P = spec.outputs;
      const W = new Float32Array(tasks * D * P), b = new Float32Array(tasks * D);
      rff.forEach((r, k) => {
        W.set(r.W, k * D * P);
        b.set(r.b, k * D);
      });
      moe = { tasks, D, W, b, tau: Float32Array.from(tau), impl: moeImpl };
    }
    const N = native();
    this.handle = new N.StudentBank({ ...spec, impl, moe });
    const layout = studentBankLayout(spec);
    this.outSize = this.handle.outSize as number;
    if (this.outSize !== layout.outSize) throw new EngineError('E_INTERNAL', `StudentBank: native outSize ${this.outSize} != ${layout.outSize}`);
    this.yOffset = layout.yOffset;
    this.wOffset = layout.wOffset;
  }

  /** Kernels in use, e.g. { students: 'avx2', moe: 'avx512' } (moe 'none' without an MoE). */
  get implementation(): { students: string; moe: string } {
    return this.handle.implementation as { students: string; moe: string };
  }

  /** One decision: x (inputs floats) -> out (outSize floats). Returns MoeStatus bits. */
  run(x: Float32Array, out: Float32Array): number {
    const status = this.handle.run(x, out) as number;
    if (status & MoeStatus.InvalidArg)
      throw expected(`x of >= ${this.spec.inputs} and out of >= ${this.outSize} floats`, 'StudentBank.run', `${x.length} and ${out.length}`);
    return status;
  }

  /** B decisions: x is B x inputs, out is B x outSize. Returns the OR of the rows' MoeStatus bits. */
  runBatch(x: Float32Array, B: number, out: Float32Array): number {
    if (!Number.isInteger(B) || B < 0) throw expected('a non-negative integer', 'B', B);
    const status = this.handle.runBatch(x, B, out) as number;
    if (status & MoeStatus.InvalidArg)
      throw expected(`x of >= ${B * this.spec.inputs} and out of >= ${B * this.outSize} floats`, 'StudentBank.runBatch', `${x.length} and ${out.length}`);
    return status;
  }
}

function activate(v: number, a: StudentActivation): number {
  switch (a) {
    case 'tanh': return Math.tanh(v);
    case 'relu': return v < 0 ? 0 : v;
    case 'gelu': return 0.5 * v * (1 + erf(v / Math.SQRT2));
    default: return v;
  }
}

/** erf to ~1e-15 (series below 2.5, continued fraction of erfc above): the float64 reference needs a real erf. */
function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax, sum = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) evaluated bottom-up.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/** Float64 forward pass of every student straight from the flat layout: S x O. Tests only. */
export function studentBankReference(spec: StudentBankSpec, x: ArrayLike<number>): Float64Array {
  const { students: S, inputs: F, hidden, outputs: O, activation, normalize, weights } = spec;
  let p = 0;
  let xin = Array.from({ length: F }, (_, i) => x[i]);
  if (normalize) {
    xin = xin.map((v, i) => (v - weights[i]) / weights[F + i]);
    p = 2 * F;
  }
  const widths = [F, ...hidden, O];
  const out = new Float64Array(S * O);
  for (let s = 0; s < S; s++) {
    let h = xin;
    for (let l = 0; l < widths.length - 1; l++) {
      const fin = widths[l], fout = widths[l + 1];
      const next = new Array<number>(fout).fill(0);
      for (let o = 0; o < fout; o++) {
        let a = weights[p + fin * fout + o];
        for (let i = 0; i < fin; i++) a += h[i] * weights[p + i * fout + o];
        next[o] = l < widths.length - 2 ? activate(a, activation) : a;
      }
      p += fin * fout + fout;
      h = next;
    }
    for (let o = 0; o < O; o++) out[s * O + o] = h[o];
  }
  return out;
}

/** A bank with Glorot-uniform weights and small random biases, seeded (tests, benchmarks, demos). */
export function randomStudentBank(shape: StudentBankShape, seed: number): StudentBankSpec {
  const rng = new Rng(seed, 0x5354);
  const weights = new Float32Array(studentFlatSize(shape));
  let p = 0;
  if (shape.normalize) {
    for (let i = 0; i < shape.inputs; i++) weights[p++] = rng.normal() * 0.5;
    for (let i = 0; i < shape.inputs; i++) weights[p++] = 0.5 + rng.uniform() * 1.5;
  }
  const widths = [shape.inputs, ...shape.hidden, shape.outputs];
  for (let s = 0; s < shape.students; s++)
    for (let l = 0; l < widths.length - 1; l++) {
      const lim = Math.sqrt(6 / (widths[l] + widths[l + 1]));
      for (let i = 0; i < widths[l] * widths[l + 1]; i++) weights[p++] = (2 * rng.uniform() - 1) * lim;
      for (let o = 0; o < widths[l + 1]; o++) weights[p++] = (2 * rng.uniform() - 1) * 0.1;
    }
  return { ...shape, hidden: [...shape.hidden], weights };
}
