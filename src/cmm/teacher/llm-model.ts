// The tiny decoder-only LM behind the LLM teacher: tfjs model (pre-LN causal blocks shared with the reference
// teacher) and its ONNX export with input `input_ids` [B, S] (int64, dynamic S ≤ maxLen) and outputs
// `hidden_0..hidden_{L-1}` [B, S, d] (every block's output, every position) plus `logits` [B, S, V].
import { EngineError, expected } from '../../errors';
import { BLOCK_PARAMS, BlockShape, SeededRandom, addBias, blockForward, initBlock, layerNorm, linear, makeVariables, matmul, normalInit, tf } from './nn';
import { OnnxGraphBuilder, addWeights, emitBlock, emitLayerNorm, emitLinear, readOnnxInitializers, readOnnxMetadata } from './onnx-graph';

export interface TinyLmConfig {
  vocab: number;
  maxLen: number;
  layers: number;
  d: number;
  heads: number;
  ff: number;
}

export const LM_ONNX_INPUT = 'input_ids';
export const LM_ONNX_LOGITS = 'logits';
export const MASK_VALUE = -1e9;

export function lmParamShapes(c: TinyLmConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  m.set('tok_emb', [c.vocab, c.d]);
  m.set('pos', [c.maxLen, c.d]);
  const bs: Record<string, number[]> = {
    ln1_g: [c.d], ln1_b: [c.d], qkv_w: [c.d, 3 * c.d], qkv_b: [3 * c.d], o_w: [c.d, c.d], o_b: [c.d],
    ln2_g: [c.d], ln2_b: [c.d], ff1_w: [c.d, c.ff], ff1_b: [c.ff], ff2_w: [c.ff, c.d], ff2_b: [c.d],
  };
  for (let l = 0; l < c.layers; l++) for (const p of BLOCK_PARAMS) m.set(`l${l}_${p}`, bs[p]);
  m.set('lnf_g', [c.d]);
  m.set('lnf_b', [c.d]);
  m.set('out_w', [c.d, c.vocab]);
  m.set('out_b', [c.vocab]);
  return m;
}

export function initLmWeights(c: TinyLmConfig, seed: number): Map<string, Float32Array> {
  if (c.d % c.heads !== 0) throw expected(`heads dividing d = ${c.d}`, 'LM heads', c.heads);
  const rng = new SeededRandom(seed);
  const w = new Map<string, Float32Array>();
  w.set('tok_emb', normalInit(rng, c.vocab * c.d, 0.5));
  w.set('pos', normalInit(rng, c.maxLen * c.d, 0.05));
  const shape: BlockShape = { d: c.d, heads: c.heads, ff: c.ff };
  for (let l = 0; l < c.layers; l++) for (const [name, v] of initBlock(rng, `l${l}_`, shape, c.layers)) w.set(name, v.data);
  w.set('lnf_g', new Float32Array(c.d).fill(1));
  w.set('lnf_b', new Float32Array(c.d));
  w.set('out_w', normalInit(rng, c.d * c.vocab, 1 / Math.sqrt(c.d)));
  w.set('out_b', new Float32Array(c.vocab));
  return w;
}

/** Additive causal mask [S, S]: 0 on and below the diagonal, MASK_VALUE above. */
export function causalMask(S: number): Float32Array {
  const m = new Float32Array(S * S);
  for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) m[i * S + j] = MASK_VALUE;
  return m;
}

export class TinyLmModel {
  readonly vars: Map<string, tf.Variable>;

  constructor(readonly config: TinyLmConfig, weights: Map<string, Float32Array>) {
    const init = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, shape] of lmParamShapes(config)) {
      const data = weights.get(name);
      if (!data || data.length !== shape.reduce((a, b) => a * b, 1)) throw new EngineError('E_MODEL', `LM weight ${name} missing or mis-sized`);
      init.set(name, { shape, data });
    }
    this.vars = makeVariables(init);
  }

  get paramCount(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  private p = (name: string): tf.Tensor => this.vars.get(name) as tf.Tensor;

  /** ids [B, S] int32 → every block's output [B, S, d] and logits [B·S, V]. Use inside tf.tidy. */
  forward(ids: tf.Tensor): { hidden: tf.Tensor[]; logits: tf.Tensor } {
    const c = this.config;
    const [B, S] = ids.shape;
    if (S > c.maxLen) throw expected(`at most ${c.maxLen} tokens`, 'LM input', S);
    // Embedding as one-hot·E: the wasm backend lacks the scatter kernel that gather's gradient needs.
    const emb = matmul(tf.oneHot(tf.reshape(ids, [B * S]), c.vocab), this.p('tok_emb'));
    const pos = tf.reshape(tf.slice(this.p('pos'), [0, 0], [S, c.d]), [S * c.d]);
    let h = tf.reshape(addBias(tf.reshape(emb, [B, S * c.d]), pos), [B, S, c.d]);
    const mask = tf.tensor2d(causalMask(S), [S, S]);
    const shape: BlockShape = { d: c.d, heads: c.heads, ff: c.ff };
    const hidden: tf.Tensor[] = [];
    for (let l = 0; l < c.layers; l++) {
      h = blockForward(h, this.p, `l${l}_`, shape, mask);
      hidden.push(h);
    }
    const z = layerNorm(tf.reshape(h, [B * S, c.d]), this.p('lnf_g'), this.p('lnf_b'));
    return { hidden, logits: linear(z, this.p('out_w'), this.p('out_b')) };
  }

  /** Mean next-token cross-entropy over positions where `weights` [B, S] is 1 (targets = ids shifted left). */
  loss(ids: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor): tf.Scalar {
    const { logits } = this.forward(ids);
    const logp = tf.sub(logits, tf.logSumExp(logits, -1, true));
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(tf.reshape(targets, [-1]), this.config.vocab)), -1));
    const w = tf.reshape(weights, [-1]);
    return tf.div(tf.sum(tf.mul(nll, w)), tf.maximum(tf.sum(w), 1)) as tf.Scalar;
  }

  weights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.vars) out.set(name, (v.dataSync() as Float32Array).slice());
    return out;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

export function tinyLmToOnnx(config: TinyLmConfig, weights: Map<string, Float32Array>): Uint8Array {
  const c = config;
  const g = new OnnxGraphBuilder();
  const ids = g.input(LM_ONNX_INPUT, 'int64', ['batch', 'seq']);
  addWeights(g, weights, lmParamShapes(c));
  g.floats('causal_mask', causalMask(c.maxLen), [c.maxLen, c.maxLen]);
  const zero1 = g.int64s('zero_1', [0]), zero2 = g.int64s('zero_2', [0, 0]);
  const one = g.int64s('one_1', [1]), two = g.int64s('two_1', [2]);
  const axes01 = g.int64s('axes_01', [0, 1]);
  const seq = g.node('Slice', [g.node('Shape', [ids]), one, two]); // [S]
  const pos = g.node('Slice', ['pos', zero1, seq, zero1]);
  const mask = g.node('Slice', ['causal_mask', zero2, g.node('Concat', [seq, seq], { axis: 0 }), axes01]);
  let h = g.node('Add', [g.node('Gather', ['tok_emb', ids], { axis: 0 }), pos]);
  const shape = { d: c.d, heads: c.heads, ff: c.ff };
  for (let l = 0; l < c.layers; l++) {
    h = emitBlock(g, h, `l${l}_`, shape, mask);
    g.node('Identity', [h], {}, `hidden_${l}`);
    g.output(`hidden_${l}`, 'float', ['batch', 'seq', c.d]);
  }
  const logits = emitLinear(g, emitLayerNorm(g, h, 'lnf_g', 'lnf_b'), 'out_w', 'out_b');
  g.node('Identity', [logits], {}, LM_ONNX_LOGITS);
  g.output(LM_ONNX_LOGITS, 'float', ['batch', 'seq', c.vocab]);
  return g.toBytes('cmm_tiny_lm', { 'cmm.lm': JSON.stringify(c) }, 'CMM tiny decoder-only LM (word-level tokenizer in vocab.json)');
}

export function tinyLmFromOnnx(bytes: Uint8Array): { config: TinyLmConfig; weights: Map<string, Float32Array> } {
  const raw = readOnnxMetadata(bytes)['cmm.lm'];
  if (!raw) throw new EngineError('E_MODEL', 'LM ONNX has no "cmm.lm" metadata');
  const config = JSON.parse(raw) as TinyLmConfig;
  const inits = readOnnxInitializers(bytes);
  const weights = new Map<string, Float32Array>();
  for (const name of lmParamShapes(config).keys()) {
    const w = inits.get(name);
    if (!w) throw new EngineError('E_MODEL', `LM ONNX lacks initialiser ${name}`);
    weights.set(name, w);
  }
  return { config, weights };
}
