// Exports the reference teacher as ONE ONNX graph (opset 17, IR 8): input `window` [B, T, F] (raw features;
// the standardisation is inside), outputs `hidden_0..hidden_{L-1}` [B, d] (every block's last position) and
// `heads` [B, 3] in target units. Spec and config travel in metadata_props under "cmm.teacher".
import * as fs from 'fs';
import { EngineError } from '../../errors';
import { OnnxGraphBuilder, addWeights, emitBlock, emitLayerNorm, emitLinear, readOnnxInitializers, readOnnxMetadata } from './onnx-graph';
import { TeacherInputSpec } from './teacher';
import { TransformerConfig, TransformerState, paramShapes } from './transformer';

export const TEACHER_ONNX_INPUT = 'window';
export const TEACHER_ONNX_HEADS = 'heads';
export const hiddenOutputName = (layer: number): string => `hidden_${layer}`;

/** What the ONNX file says about itself (metadata_props "cmm.teacher"). */
export interface TeacherOnnxMeta {
  kind: 'transformer';
  spec: TeacherInputSpec;
  config: TransformerConfig;
  inputNorm: { mean: number[]; std: number[] };
  targetNorm: { mean: number[]; std: number[] };
}

export function transformerToOnnx(state: TransformerState): Uint8Array {
  const { spec, config: c } = state;
  const { T, F } = spec;
  const g = new OnnxGraphBuilder();
  const x = g.input(TEACHER_ONNX_INPUT, 'float', ['batch', T, F]);
  addWeights(g, state.weights, paramShapes(spec, c));
  // Standardisation exactly as tfjs does it: (x − mean)·(1/std) with the same float32 constants.
  const inMean = g.floats('in_mean', state.inputNorm.mean, [F]);
  const inInvStd = g.floats('in_inv_std', state.inputNorm.std.map((s) => 1 / s), [F]);
  const xn = g.node('Mul', [g.node('Sub', [x, inMean]), inInvStd]);
  let h = g.node('Add', [emitLinear(g, xn, 'in_w', 'in_b'), 'pos']);
  const lastIndex = g.int64s('last_position', [T - 1], []); // a scalar index: Gather drops the T axis
  const shape = { d: c.d, heads: c.heads, ff: c.ff };
  let last = '';
  for (let l = 0; l < c.layers; l++) {
    h = emitBlock(g, h, `l${l}_`, shape);
    last = g.node('Gather', [h, lastIndex], { axis: 1 }, hiddenOutputName(l));
    g.output(last, 'float', ['batch', c.d]);
  }
  const z = emitLayerNorm(g, last, 'lnf_g', 'lnf_b');
  const headsStd = emitLinear(g, z, 'head_w', 'head_b');
  const outStd = g.floats('target_std', state.targetNorm.std, [3]);
  const outMean = g.floats('target_mean', state.targetNorm.mean, [3]);
  g.node('Add', [g.node('Mul', [headsStd, outStd]), outMean], {}, TEACHER_ONNX_HEADS);
  g.output(TEACHER_ONNX_HEADS, 'float', ['batch', 3]);
  const meta: TeacherOnnxMeta = { kind: 'transformer', spec, config: c, inputNorm: state.inputNorm, targetNorm: state.targetNorm };
  return g.toBytes('cmm_teacher', { 'cmm.teacher': JSON.stringify(meta) }, 'CMM reference teacher: pre-LN transformer encoder');
}

/** Writes the ONNX file; returns its bytes. */
export function exportTeacherOnnx(state: TransformerState, file: string): Uint8Array {
  const bytes = transformerToOnnx(state);
  fs.writeFileSync(file, bytes);
  return bytes;
}

/** Reads a teacher ONNX's metadata (spec, config, standardisation). */
export function readTeacherOnnxMeta(bytes: Uint8Array, where = 'teacher ONNX'): TeacherOnnxMeta {
  const raw = readOnnxMetadata(bytes)['cmm.teacher'];
  if (!raw) throw new EngineError('E_MODEL', `${where}: no "cmm.teacher" metadata (not exported by exportTeacherOnnx?)`);
  try {
    return JSON.parse(raw) as TeacherOnnxMeta;
  } catch (err) {
    throw new EngineError('E_MODEL', `${where}: bad "cmm.teacher" metadata: ${(err as Error).message}`);
  }
}

/** The full tfjs state back from an exported file (to fine-tune, or to run the tfjs twin). */
export function transformerStateFromOnnx(bytes: Uint8Array): TransformerState {
  const meta = readTeacherOnnxMeta(bytes);
  const inits = readOnnxInitializers(bytes);
  const weights = new Map<string, Float32Array>();
  for (const name of paramShapes(meta.spec, meta.config).keys()) {
    const w = inits.get(name);
    if (!w) throw new EngineError('E_MODEL', `teacher ONNX lacks initialiser ${name}`);
    weights.set(name, w);
  }
  return { spec: meta.spec, config: meta.config, inputNorm: meta.inputNorm, targetNorm: meta.targetNorm, weights };
}
