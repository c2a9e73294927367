// The reference teacher: a pre-LN transformer encoder over a window of T snapshots × F features, written from
// tfjs variables and ops, with multi-task heads (mid, spread, volume). Training lives in transformer-train.ts.
import { EngineError, expected } from '../../errors';
import { BLOCK_PARAMS, BlockShape, SeededRandom, addBias, blockForward, initBlock, layerNorm, linear, makeVariables, normalInit, tf, useWasmBackend } from './nn';
import { Teacher, TeacherInputSpec, TeacherOutput, checkSpec, checkWindows } from './teacher';

export interface TransformerConfig {
  /** Blocks (= hidden-state layers exported); at least 1, default 4. */
  layers: number;
  /** Model width d (default 64). */
  d: number;
  /** Attention heads; must divide d (default 4). */
  heads: number;
  /** Feed-forward width (default 4·d). */
  ff: number;
}

export const DEFAULT_TRANSFORMER_CONFIG: TransformerConfig = { layers: 4, d: 64, heads: 4, ff: 256 };

/** Per-column affine maps baked into the model: inputs are standardised, heads de-standardised. */
export interface Standardisation {
  mean: number[];
  std: number[];
}

export interface TransformerState {
  spec: TeacherInputSpec;
  config: TransformerConfig;
  /** Input feature statistics (training split). */
  inputNorm: Standardisation;
  /** Target statistics (training split): the model predicts standardised targets (per-target loss normalisation). */
  targetNorm: Standardisation;
  /** Parameter values by name (shapes from paramShapes). */
  weights: Map<string, Float32Array>;
}

export function checkConfig(c: TransformerConfig): void {
  for (const k of ['layers', 'd', 'heads', 'ff'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw expected('a positive integer', `transformer ${k}`, c[k]);
  }
  if (c.d % c.heads !== 0) throw expected(`heads dividing d = ${c.d}`, 'transformer heads', c.heads);
}

/** Shapes of every parameter, in a fixed order (ONNX initialisers and weight files follow it). */
export function paramShapes(spec: TeacherInputSpec, c: TransformerConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  m.set('in_w', [spec.F, c.d]);
  m.set('in_b', [c.d]);
  m.set('pos', [spec.T, c.d]);
  const blockShapes: Record<string, number[]> = {
    ln1_g: [c.d], ln1_b: [c.d], qkv_w: [c.d, 3 * c.d], qkv_b: [3 * c.d], o_w: [c.d, c.d], o_b: [c.d],
    ln2_g: [c.d], ln2_b: [c.d], ff1_w: [c.d, c.ff], ff1_b: [c.ff], ff2_w: [c.ff, c.d], ff2_b: [c.d],
  };
  for (let l = 0; l < c.layers; l++) for (const p of BLOCK_PARAMS) m.set(`l${l}_${p}`, blockShapes[p]);
  m.set('lnf_g', [c.d]);
  m.set('lnf_b', [c.d]);
  m.set('head_w', [c.d, 3]);
  m.set('head_b', [3]);
  return m;
}

export function countParams(spec: TeacherInputSpec, c: TransformerConfig): number {
  let n = 0;
  for (const s of paramShapes(spec, c).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Seeded initial weights. */
export function initTransformerWeights(spec: TeacherInputSpec, c: TransformerConfig, seed: number): Map<string, Float32Array> {
  checkSpec(spec);
  checkConfig(c);
  const rng = new SeededRandom(seed);
  const w = new Map<string, Float32Array>();
  w.set('in_w', normalInit(rng, spec.F * c.d, 1 / Math.sqrt(spec.F)));
  w.set('in_b', new Float32Array(c.d));
  w.set('pos', normalInit(rng, spec.T * c.d, 0.02));
  const shape: BlockShape = { d: c.d, heads: c.heads, ff: c.ff };
  for (let l = 0; l < c.layers; l++) for (const [name, v] of initBlock(rng, `l${l}_`, shape, c.layers)) w.set(name, v.data);
  w.set('lnf_g', new Float32Array(c.d).fill(1));
  w.set('lnf_b', new Float32Array(c.d));
  w.set('head_w', normalInit(rng, c.d * 3, 0.02));
  w.set('head_b', new Float32Array(3));
  return w;
}

/** tfjs model: variables plus the forward pass. Call `useWasmBackend()` first. */
export class TransformerModel {
  readonly vars: Map<string, tf.Variable>;
  private readonly inMean: tf.Tensor;
  private readonly inInvStd: tf.Tensor;
  private readonly outMean: tf.Tensor;
  private readonly outStd: tf.Tensor;

  constructor(readonly state: Omit<TransformerState, 'weights'>, weights: Map<string, Float32Array>) {
    checkSpec(state.spec);
    checkConfig(state.config);
    const shapes = paramShapes(state.spec, state.config);
    const init = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, shape] of shapes) {
      const data = weights.get(name);
      const size = shape.reduce((a, b) => a * b, 1);
      if (!data || data.length !== size) throw new EngineError('E_MODEL', `teacher weight ${name}: expected ${size} floats, got ${data?.length ?? 'none'}`);
      init.set(name, { shape, data });
    }
    this.vars = makeVariables(init);
    const F = state.spec.F;
    if (state.inputNorm.mean.length !== F || state.inputNorm.std.length !== F) throw expected(`${F} input means/stds`, 'inputNorm', state.inputNorm.mean.length);
    this.inMean = tf.keep(tf.tensor1d(state.inputNorm.mean));
    this.inInvStd = tf.keep(tf.tensor1d(state.inputNorm.std.map((s) => 1 / s)));
    this.outMean = tf.keep(tf.tensor1d(state.targetNorm.mean));
    this.outStd = tf.keep(tf.tensor1d(state.targetNorm.std));
  }

  get paramCount(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  private p = (name: string): tf.Tensor => {
    const v = this.vars.get(name);
    if (!v) throw new EngineError('E_INTERNAL', `no teacher parameter ${name}`);
    return v;
  };

  /**
   * Forward pass on raw windows x [B, T, F]. Returns each block's output at the last position (B×d),
   * the standardised heads (for the loss) and the heads in target units. Use inside tf.tidy.
   */
  forward(x: tf.Tensor): { hidden: tf.Tensor[]; headsStd: tf.Tensor; heads: tf.Tensor } {
    const { T, F } = this.state.spec;
    const c = this.state.config;
    const B = x.shape[0];
    const xn = tf.mul(tf.sub(tf.reshape(x, [B * T, F]), this.inMean), this.inInvStd);
    const embedded = addBias(tf.reshape(linear(xn, this.p('in_w'), this.p('in_b')), [B, T * c.d]), tf.reshape(this.p('pos'), [T * c.d]));
    let h = tf.reshape(embedded, [B, T, c.d]);
    const hidden: tf.Tensor[] = [];
    const shape: BlockShape = { d: c.d, heads: c.heads, ff: c.ff };
    for (let l = 0; l < c.layers; l++) {
      h = blockForward(h, this.p, `l${l}_`, shape);
      hidden.push(tf.reshape(tf.slice(h, [0, T - 1, 0], [B, 1, c.d]), [B, c.d]));
    }
    const z = layerNorm(hidden[c.layers - 1], this.p('lnf_g'), this.p('lnf_b'));
    const headsStd = linear(z, this.p('head_w'), this.p('head_b'));
    return { hidden, headsStd, heads: tf.add(tf.mul(headsStd, this.outStd), this.outMean) };
  }

  /** Current weights, copied out. */
  weights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.vars) out.set(name, (v.dataSync() as Float32Array).slice());
    return out;
  }

  toState(): TransformerState {
    return { ...this.state, weights: this.weights() };
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    tf.dispose([this.inMean, this.inInvStd, this.outMean, this.outStd]);
  }
}

/** The reference teacher run in tfjs (training-time twin of OnnxTeacher; about 10x slower). */
export class TfjsTransformerTeacher implements Teacher {
  readonly name = 'transformer-tfjs';
  readonly layers: number;
  readonly hiddenSize: number;
  readonly inputSpec: TeacherInputSpec;

  private constructor(readonly model: TransformerModel) {
    this.layers = model.state.config.layers;
    this.hiddenSize = model.state.config.d;
    this.inputSpec = model.state.spec;
  }

  static async fromState(state: TransformerState): Promise<TfjsTransformerTeacher> {
    await useWasmBackend();
    return new TfjsTransformerTeacher(new TransformerModel(state, state.weights));
  }

  static fromModel(model: TransformerModel): TfjsTransformerTeacher {
    return new TfjsTransformerTeacher(model);
  }

  async run(windows: Float32Array, B: number): Promise<TeacherOutput> {
    checkWindows(this.inputSpec, windows, B);
    const { T, F } = this.inputSpec;
    const d = this.hiddenSize;
    const hidden = Array.from({ length: this.layers }, () => new Float32Array(B * d));
    const heads = new Float32Array(B * 3);
    const CHUNK = 256; // pulling large tensors out of tidy is slow: evaluate in chunks
    for (let s = 0; s < B; s += CHUNK) {
      const e = Math.min(B, s + CHUNK);
      tf.tidy(() => {
        const out = this.model.forward(tf.tensor3d(windows.subarray(s * T * F, e * T * F), [e - s, T, F]));
        out.hidden.forEach((h, l) => hidden[l].set(h.dataSync() as Float32Array, s * d));
        heads.set(out.heads.dataSync() as Float32Array, s * 3);
      });
    }
    return { hidden, heads };
  }

  dispose(): void {
    this.model.dispose();
  }
}
