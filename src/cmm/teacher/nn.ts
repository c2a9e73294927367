// TensorFlow.js building blocks shared by the reference teacher and the tiny LM: wasm backend, seeded
// randomness, a matmul whose gradient avoids transposed products (../shared/design/training-notes.md),
// LayerNorm (eps 1e-5, as ONNX), GELU via erf, and a pre-LN multi-head attention block.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { EngineError } from '../../errors';

export { tf };

/** LayerNorm epsilon, identical in tfjs and in the ONNX LayerNormalization nodes. */
export const LN_EPS = 1e-5;

let backendReady: Promise<void> | undefined;

/** Switches tfjs to the wasm backend (SIMD, one thread) once per process. */
export function useWasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    if (tf.getBackend() !== 'wasm' && !(await tf.setBackend('wasm'))) {
      throw new EngineError('E_INTERNAL', 'tfjs wasm backend could not be initialised (@tensorflow/tfjs-backend-wasm)');
    }
    await tf.ready();
  })();
  return backendReady;
}

/** mulberry32: a small, fast, seeded generator. Every random draw in training goes through one of these. */
export class SeededRandom {
  private state: number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next(), v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** Fisher–Yates in place. */
  shuffle<A extends { length: number; [i: number]: number }>(a: A): A {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

/** Normal(0, std²) initial values. */
export function normalInit(rng: SeededRandom, size: number, std: number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.normal() * std;
  return out;
}

function lastTwoSwapped(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

/**
 * a·b for rank-2 or rank-3 (batched) tensors. The gradient transposes explicitly and multiplies untransposed:
 * the wasm backend's transposed matmul is about 3x slower than transpose + plain matmul.
 */
export const matmul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      const da = tf.matMul(dy as tf.Tensor2D, tf.transpose(sb, lastTwoSwapped(sb.rank)) as tf.Tensor2D);
      const db = tf.matMul(tf.transpose(sa, lastTwoSwapped(sa.rank)) as tf.Tensor2D, dy as tf.Tensor2D);
      return [da, db];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** Column sums of a rank-2 tensor as ones[1, N]·x: the wasm backend reduces over axis 0 far slower than it multiplies. */
function columnSum(x: tf.Tensor): tf.Tensor {
  return tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x as tf.Tensor2D), [x.shape[1] as number]);
}

/** x [N, k] + b [k], with the bias gradient as a matmul (see columnSum). */
export const addBias = tf.customGrad(((x: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([]);
  return { value: tf.add(x, b), gradFunc: (dy: tf.Tensor) => [tf.clone(dy), columnSum(dy)] };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** x [N, k]·g [k] + b [k] (LayerNorm's affine part), parameter gradients as matmuls. */
const scaleShift = tf.customGrad(((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, g]);
  return {
    value: tf.add(tf.mul(x, g), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[1]), columnSum(tf.mul(dy, saved[0])), columnSum(dy)],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** x [N, in] · W [in, out] + b [out] (W in ONNX MatMul layout). */
export function linear(x: tf.Tensor, W: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const y = matmul(x, W);
  return b ? addBias(y, b) : y;
}

/** LayerNorm over the last axis of x [N, k]: (x − mean)/sqrt(var + eps)·g + b, population variance (as ONNX). */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return scaleShift(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS))), g, b);
}

/** Exact GELU: 0.5·x·(1 + erf(x/√2)) (tfjs has no GELU op; the tanh form differs by ~1e-3). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** Parameters of one pre-LN block, by name suffix (the ONNX exporter uses the same names). */
export const BLOCK_PARAMS = ['ln1_g', 'ln1_b', 'qkv_w', 'qkv_b', 'o_w', 'o_b', 'ln2_g', 'ln2_b', 'ff1_w', 'ff1_b', 'ff2_w', 'ff2_b'] as const;

export interface BlockShape {
  d: number;
  heads: number;
  ff: number;
}

/** Shapes and seeded initial values of block `prefix` (GPT-2 style: residual projections scaled by 1/√(2L)). */
export function initBlock(rng: SeededRandom, prefix: string, s: BlockShape, totalLayers: number): Map<string, { shape: number[]; data: Float32Array }> {
  const m = new Map<string, { shape: number[]; data: Float32Array }>();
  const ones = (n: number) => new Float32Array(n).fill(1);
  const std = 1 / Math.sqrt(s.d);
  const resid = std / Math.sqrt(2 * totalLayers);
  m.set(`${prefix}ln1_g`, { shape: [s.d], data: ones(s.d) });
  m.set(`${prefix}ln1_b`, { shape: [s.d], data: new Float32Array(s.d) });
  m.set(`${prefix}qkv_w`, { shape: [s.d, 3 * s.d], data: normalInit(rng, s.d * 3 * s.d, std) });
  m.set(`${prefix}qkv_b`, { shape: [3 * s.d], data: new Float32Array(3 * s.d) });
  m.set(`${prefix}o_w`, { shape: [s.d, s.d], data: normalInit(rng, s.d * s.d, resid) });
  m.set(`${prefix}o_b`, { shape: [s.d], data: new Float32Array(s.d) });
  m.set(`${prefix}ln2_g`, { shape: [s.d], data: ones(s.d) });
  m.set(`${prefix}ln2_b`, { shape: [s.d], data: new Float32Array(s.d) });
  m.set(`${prefix}ff1_w`, { shape: [s.d, s.ff], data: normalInit(rng, s.d * s.ff, std) });
  m.set(`${prefix}ff1_b`, { shape: [s.ff], data: new Float32Array(s.ff) });
  m.set(`${prefix}ff2_w`, { shape: [s.ff, s.d], data: normalInit(rng, s.ff * s.d, 1 / Math.sqrt(s.ff) / Math.sqrt(2 * totalLayers)) });
  m.set(`${prefix}ff2_b`, { shape: [s.d], data: new Float32Array(s.d) });
  return m;
}

/**
 * One pre-LN block on h [B, T, d]: h + Attn(LN1(h)), then + FF(LN2(·)) with GELU.
 * `mask` (optional, [T, T], 0 or −1e9) is added to the attention scores: the LM passes a causal mask.
 */
export function blockForward(h: tf.Tensor, p: (name: string) => tf.Tensor, prefix: string, s: BlockShape, mask?: tf.Tensor): tf.Tensor {
  const [B, T, d] = h.shape;
  const H = s.heads, dh = d / H;
  const flat = tf.reshape(h, [B * T, d]);
  const a = layerNorm(flat, p(`${prefix}ln1_g`), p(`${prefix}ln1_b`));
  const qkv = linear(a, p(`${prefix}qkv_w`), p(`${prefix}qkv_b`));
  const [q, k, v] = tf.split(qkv, 3, 1);
  const heads = (x: tf.Tensor, perm: number[], shape: number[]) => tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, dh]), perm), shape);
  const qh = heads(tf.mul(q, 1 / Math.sqrt(dh)), [0, 2, 1, 3], [B * H, T, dh]);
  const kt = heads(k, [0, 2, 3, 1], [B * H, dh, T]);
  const vh = heads(v, [0, 2, 1, 3], [B * H, T, dh]);
  let scores = matmul(qh, kt);
  if (mask) scores = tf.add(scores, mask);
  const ctx = matmul(tf.softmax(scores), vh);
  const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [B, H, T, dh]), [0, 2, 1, 3]), [B * T, d]);
  const h1 = tf.add(flat, linear(merged, p(`${prefix}o_w`), p(`${prefix}o_b`)));
  const f = linear(gelu(linear(layerNorm(h1, p(`${prefix}ln2_g`), p(`${prefix}ln2_b`)), p(`${prefix}ff1_w`), p(`${prefix}ff1_b`))), p(`${prefix}ff2_w`), p(`${prefix}ff2_b`));
  return tf.reshape(tf.add(h1, f), [B, T, d]);
}

/** Global-norm gradient clipping; returns the clipped map (inputs disposed when replaced). */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const norms = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    const total = Math.sqrt((tf.addN(norms).dataSync() as Float32Array)[0]);
    if (!(total > maxNorm)) return grads;
    const scale = maxNorm / total;
    const out: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
    return out;
  });
}

/** Trainable variables built from initial values; names are the parameter names. */
export function makeVariables(init: Map<string, { shape: number[]; data: Float32Array }>): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const [name, { shape, data }] of init) vars.set(name, tf.variable(tf.tensor(data, shape), true, `${name}_${uniqueSuffix++}`));
  return vars;
}
let uniqueSuffix = 0;

/** Copies every variable's values out (a best-weights snapshot). */
export function snapshotVariables(vars: Map<string, tf.Variable>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of vars) out.set(name, (v.dataSync() as Float32Array).slice());
  return out;
}

export function restoreVariables(vars: Map<string, tf.Variable>, snap: Map<string, Float32Array>): void {
  for (const [name, v] of vars) {
    const data = snap.get(name);
    if (!data) throw new EngineError('E_INTERNAL', `snapshot lacks parameter ${name}`);
    tf.tidy(() => v.assign(tf.tensor(data, v.shape)));
  }
}
