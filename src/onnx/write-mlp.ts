// Exports OFDD students to ONNX (opset 17, IR 8): one student, or the whole bank fused into ONE graph with
// input x [batch, F] and one packed output `students` [batch, S*O] (student s at columns s*O .. s*O+O-1).
// The weights are initializers; read-weights.ts reads them back into the native StudentBank's flat layout,
// so one file feeds both onnxruntime-node and the native kernel.
//
// Naming contract (read-weights.ts relies on it):
//   x_mean [F], x_std [F]                       when normalize (graph: Sub then Div)
//   style 'per-student': s{s}_l{l}_W [in, out], s{s}_l{l}_b [out]   (Gemm, transB = 0)
//   style 'batched':     l0_W [F, S*out0], l0_b [S*out0] (one Gemm for every student's first layer), then
//                        l{l}_W [S, in, out], l{l}_b [S, 1, out] (batched MatMul + Add over [S, batch, in])
//   metadata: cmm.format = student-bank/1, cmm.style, cmm.shape (JSON shape), cmm.moe (JSON, optional).
// GELU is the erf form, 0.5 * x * (1 + erf(x / sqrt 2)) written as Mul/Erf/Add/Mul/Mul (Gelu needs opset 20).
import * as fs from 'fs';
import { expected } from '../errors';
import { StudentActivation, StudentBankShape, StudentBankSpec, validateStudentBankSpec } from '../moe/student-bank';
import { OnnxGraphBuilder } from './builder';

export type StudentGraphStyle = 'per-student' | 'batched';
export const STUDENT_BANK_FORMAT = 'student-bank/1';
export const STUDENT_INPUT = 'x';
export const STUDENT_OUTPUT = 'students';

export interface StudentOnnxOptions {
  /** 'per-student' (default): S independent Gemm chains + Concat. 'batched': fewer, larger ops. */
  style?: StudentGraphStyle;
  /** Extra metadata_props (e.g. task names, regime cut points); keys starting with "cmm." are reserved. */
  metadata?: Record<string, string>;
}

/** The JSON stored under cmm.moe: one RFF map and tau per task (float32 values, exact through JSON). */
export interface MoeMetadata {
  tasks: number;
  tau: number[];
  rff: { D: number; P: number; W: number[]; b: number[] }[];
}

function activation(g: OnnxGraphBuilder, h: string, act: StudentActivation): string {
  switch (act) {
    case 'tanh': return g.node('Tanh', [h]);
    case 'relu': return g.node('Relu', [h]);
    case 'gelu': {
      const e = g.node('Erf', [g.node('Mul', [h, 'c_inv_sqrt2'])]);
      return g.node('Mul', [g.node('Mul', [h, g.node('Add', [e, 'c_one'])]), 'c_half']);
    }
    default: return h;
  }
}

/** Offsets of each student's layers in the flat layout. */
function layerOffsets(shape: StudentBankShape): { W: number; b: number; fin: number; fout: number }[][] {
  const widths = [shape.inputs, ...shape.hidden, shape.outputs];
  let p = shape.normalize ? 2 * shape.inputs : 0;
  const out: { W: number; b: number; fin: number; fout: number }[][] = [];
  for (let s = 0; s < shape.students; s++) {
    const layers = [];
    for (let l = 0; l < widths.length - 1; l++) {
      const fin = widths[l], fout = widths[l + 1];
      layers.push({ W: p, b: p + fin * fout, fin, fout });
      p += fin * fout + fout;
    }
    out.push(layers);
  }
  return out;
}

/** Serialises a student bank (or a single student: students = 1) to ONNX bytes. */
export function studentBankToOnnx(spec: StudentBankSpec, opts: StudentOnnxOptions = {}): Uint8Array {
  validateStudentBankSpec(spec);
  const style = opts.style ?? 'per-student';
  if (style !== 'per-student' && style !== 'batched') throw expected("'per-student' or 'batched'", 'style', style);
  const { students: S, inputs: F, hidden, outputs: O, weights } = spec;
  const L = hidden.length;
  const g = new OnnxGraphBuilder(S === 1 ? 'cmm_student' : 'cmm_student_bank');
  let x = g.input(STUDENT_INPUT, ['batch', F]);
  if (spec.normalize) {
    g.floats('x_mean', weights.subarray(0, F), [F]);
    g.floats('x_std', weights.subarray(F, 2 * F), [F]);
    x = g.node('Div', [g.node('Sub', [x, 'x_mean']), 'x_std']);
  }
  if (spec.activation === 'gelu' && L > 0) {
    g.scalar('c_inv_sqrt2', Math.SQRT1_2);
    g.scalar('c_one', 1);
    g.scalar('c_half', 0.5);
  }
  const offs = layerOffsets(spec);
  if (style === 'per-student') {
    const outs: string[] = [];
    for (let s = 0; s < S; s++) {
      let h = x;
      offs[s].forEach((ly, l) => {
        const W = g.floats(`s${s}_l${l}_W`, weights.subarray(ly.W, ly.W + ly.fin * ly.fout), [ly.fin, ly.fout]);
        const b = g.floats(`s${s}_l${l}_b`, weights.subarray(ly.b, ly.b + ly.fout), [ly.fout]);
        const last = l === L;
        h = g.node('Gemm', [h, W, b], {}, last && S === 1 ? STUDENT_OUTPUT : undefined);
        if (!last) h = activation(g, h, spec.activation);
      });
      outs.push(h);
    }
    if (S > 1) g.node('Concat', outs, { axis: 1 }, STUDENT_OUTPUT);
  } else {
    // Layer 0 of every student as one [F, S*n0] Gemm.
    const n0 = offs[0][0].fout;
    const W0 = new Float32Array(F * S * n0), b0 = new Float32Array(S * n0);
    for (let s = 0; s < S; s++) {
      const ly = offs[s][0];
      for (let i = 0; i < F; i++) W0.set(weights.subarray(ly.W + i * n0, ly.W + (i + 1) * n0), i * S * n0 + s * n0);
      b0.set(weights.subarray(ly.b, ly.b + n0), s * n0);
    }
    let h = g.node('Gemm', [x, g.floats('l0_W', W0, [F, S * n0]), g.floats('l0_b', b0, [S * n0])], {}, L === 0 ? STUDENT_OUTPUT : undefined);
    if (L > 0) {
      h = activation(g, h, spec.activation);
      h = g.node('Transpose', [g.node('Reshape', [h, g.int64s('shape_bsn', [-1, S, n0])])], { perm: [1, 0, 2] }); // [S, B, n0]
      for (let l = 1; l <= L; l++) {
        const { fin, fout } = offs[0][l];
        const W = new Float32Array(S * fin * fout), b = new Float32Array(S * fout);
        for (let s = 0; s < S; s++) {
          const ly = offs[s][l];
          W.set(weights.subarray(ly.W, ly.W + fin * fout), s * fin * fout);
          b.set(weights.subarray(ly.b, ly.b + fout), s * fout);
        }
        h = g.node('Add', [g.node('MatMul', [h, g.floats(`l${l}_W`, W, [S, fin, fout])]), g.floats(`l${l}_b`, b, [S, 1, fout])]);
        if (l < L) h = activation(g, h, spec.activation);
      }
      h = g.node('Transpose', [h], { perm: [1, 0, 2] }); // [B, S, O]
      g.node('Reshape', [h, g.int64s('shape_out', [-1, S * O])], {}, STUDENT_OUTPUT);
    }
  }
  g.output(STUDENT_OUTPUT, ['batch', S * O]);

  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.metadata ?? {})) {
    if (k.startsWith('cmm.')) throw expected('a metadata key not starting with "cmm." (reserved)', 'metadata', k);
    metadata[k] = v;
  }
  const shape: StudentBankShape = { students: S, inputs: F, hidden: [...hidden], outputs: O, activation: spec.activation, normalize: spec.normalize };
  metadata['cmm.format'] = STUDENT_BANK_FORMAT;
  metadata['cmm.style'] = style;
  metadata['cmm.shape'] = JSON.stringify(shape);
  if (spec.moe) {
    const moe: MoeMetadata = {
      tasks: spec.moe.tasks,
      tau: [...spec.moe.tau],
      rff: spec.moe.rff.map((r) => ({ D: r.D, P: r.P, W: Array.from(r.W), b: Array.from(r.b) })),
    };
    metadata['cmm.moe'] = JSON.stringify(moe);
  }
  return g.encode(metadata, `OFDD student bank: ${S} students, ${F} -> ${[...hidden, O].join(' -> ')}, ${spec.activation}`);
}

/** Student s of a bank as a bank of one (normalisation kept, no MoE): for one-session-per-student use. */
export function studentOfBank(spec: StudentBankSpec, s: number): StudentBankSpec {
  if (!Number.isInteger(s) || s < 0 || s >= spec.students) throw expected(`an index in [0, ${spec.students})`, 'student', s);
  const offs = layerOffsets(spec);
  const head = spec.normalize ? 2 * spec.inputs : 0;
  const first = offs[s][0].W;
  const last = offs[s][offs[s].length - 1];
  const end = last.b + last.fout;
  const weights = new Float32Array(head + end - first);
  weights.set(spec.weights.subarray(0, head), 0);
  weights.set(spec.weights.subarray(first, end), head);
  return { students: 1, inputs: spec.inputs, hidden: [...spec.hidden], outputs: spec.outputs, activation: spec.activation, normalize: spec.normalize, weights };
}

export function writeStudentBankOnnx(path: string, spec: StudentBankSpec, opts: StudentOnnxOptions = {}): void {
  fs.writeFileSync(path, studentBankToOnnx(spec, opts));
}
