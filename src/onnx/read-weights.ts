// Reads a student-bank ONNX file (write-mlp.ts's naming contract) back into the native StudentBank's flat
// weight layout, so the native kernel runs exactly the initializers onnxruntime-node runs. Checks the
// graph against its metadata: the activation ops present, Gemm attributes, initializer shapes.
import * as fs from 'fs';
import { EngineError } from '../errors';
import { StudentActivation, StudentBankShape, StudentBankSpec, studentFlatSize, validateStudentBankSpec } from '../moe/student-bank';
import { decodeModel, metadataOf, tensorFloats, toNumber } from './builder';
import { MoeMetadata, STUDENT_BANK_FORMAT, STUDENT_INPUT, STUDENT_OUTPUT, StudentGraphStyle } from './write-mlp';

export interface StudentBankOnnx {
  spec: StudentBankSpec;
  style: StudentGraphStyle;
  /** Every metadata_props entry (the caller's and the cmm.* ones). */
  metadata: Record<string, string>;
}

const ACTIVATION_OPS: Record<StudentActivation, string | null> = { tanh: 'Tanh', relu: 'Relu', gelu: 'Erf', identity: null };

function modelError(msg: string): EngineError {
  return new EngineError('E_MODEL', `student ONNX: ${msg}`);
}

function parseJson<T>(meta: Record<string, string>, key: string): T {
  try {
    return JSON.parse(meta[key]) as T;
  } catch {
    throw modelError(`metadata ${key} is not valid JSON`);
  }
}

/** Parses ONNX bytes written by studentBankToOnnx (either style) into a validated StudentBankSpec. */
export function readStudentBankOnnx(bytes: Uint8Array): StudentBankOnnx {
  const model = decodeModel(bytes);
  const meta = metadataOf(model);
  if (meta['cmm.format'] !== STUDENT_BANK_FORMAT) throw modelError(`expected metadata cmm.format = ${STUDENT_BANK_FORMAT}, got ${JSON.stringify(meta['cmm.format'] ?? null)}`);
  const style = meta['cmm.style'] as StudentGraphStyle;
  if (style !== 'per-student' && style !== 'batched') throw modelError(`unknown cmm.style ${JSON.stringify(style)}`);
  const shape = parseJson<StudentBankShape>(meta, 'cmm.shape');
  const graph = model.graph;
  if (!graph) throw modelError('no graph');

  // The graph must compute what the metadata says: input/output names and sizes, activation ops, plain Gemms.
  const input = graph.input?.find((v) => v.name === STUDENT_INPUT);
  const inDims = input?.type?.tensorType?.shape?.dim ?? [];
  if (!input || inDims.length !== 2 || toNumber(inDims[1].dimValue) !== shape.inputs)
    throw modelError(`expected input ${STUDENT_INPUT} [batch, ${shape.inputs}]`);
  const output = graph.output?.find((v) => v.name === STUDENT_OUTPUT);
  const outDims = output?.type?.tensorType?.shape?.dim ?? [];
  if (!output || outDims.length !== 2 || toNumber(outDims[1].dimValue) !== shape.students * shape.outputs)
    throw modelError(`expected output ${STUDENT_OUTPUT} [batch, ${shape.students * shape.outputs}]`);
  const ops = new Set((graph.node ?? []).map((n) => n.opType ?? ''));
  for (const [act, op] of Object.entries(ACTIVATION_OPS)) {
    if (op === null) continue;
    const wanted = shape.hidden.length > 0 && act === shape.activation;
    if (ops.has(op) !== wanted) throw modelError(`activation ${shape.activation} in metadata but the graph ${ops.has(op) ? 'has' : 'lacks'} ${op} nodes`);
  }
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Gemm') continue;
    for (const a of n.attribute ?? []) {
      const v = a.name === 'alpha' || a.name === 'beta' ? a.f : toNumber(a.i);
      const plain = a.name === 'alpha' || a.name === 'beta' ? v === 1 : v === 0;
      if (!plain) throw modelError(`Gemm ${n.name} has ${a.name} = ${v}; only alpha = beta = 1, transA = transB = 0 are read`);
    }
  }

  const inits = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const t of graph.initializer ?? []) if (t.name && t.dataType === 1) inits.set(t.name, tensorFloats(t));
  const take = (name: string, dims: number[]): Float32Array => {
    const t = inits.get(name);
    if (!t) throw modelError(`missing initializer ${name}`);
    if (t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i]))
      throw modelError(`initializer ${name} has dims [${t.dims}], expected [${dims}]`);
    return t.data;
  };

  const { students: S, inputs: F, hidden, outputs: O } = shape;
  const weights = new Float32Array(studentFlatSize(shape));
  let p = 0;
  const put = (v: Float32Array): void => {
    weights.set(v, p);
    p += v.length;
  };
  if (shape.normalize) {
    put(take('x_mean', [F]));
    put(take('x_std', [F]));
  }
  const widths = [F, ...hidden, O];
  const L = hidden.length;
  if (style === 'per-student') {
    for (let s = 0; s < S; s++)
      for (let l = 0; l <= L; l++) {
        put(take(`s${s}_l${l}_W`, [widths[l], widths[l + 1]]));
        put(take(`s${s}_l${l}_b`, [widths[l + 1]]));
      }
  } else {
    const n0 = widths[1];
    const W0 = take('l0_W', [F, S * n0]), b0 = take('l0_b', [S * n0]);
    const Wl = [null, ...Array.from({ length: L }, (_, i) => take(`l${i + 1}_W`, [S, widths[i + 1], widths[i + 2]]))];
    const bl = [null, ...Array.from({ length: L }, (_, i) => take(`l${i + 1}_b`, [S, 1, widths[i + 2]]))];
    for (let s = 0; s < S; s++) {
      for (let i = 0; i < F; i++) put(W0.subarray(i * S * n0 + s * n0, i * S * n0 + (s + 1) * n0));
      put(b0.subarray(s * n0, (s + 1) * n0));
      for (let l = 1; l <= L; l++) {
        const fin = widths[l], fout = widths[l + 1];
        put(Wl[l]!.subarray(s * fin * fout, (s + 1) * fin * fout));
        put(bl[l]!.subarray(s * fout, (s + 1) * fout));
      }
    }
  }

  const spec: StudentBankSpec = { ...shape, hidden: [...hidden], weights };
  if (meta['cmm.moe'] !== undefined) {
    const moe = parseJson<MoeMetadata>(meta, 'cmm.moe');
    spec.moe = {
      tasks: moe.tasks,
      tau: moe.tau,
      rff: moe.rff.map((r) => ({ D: r.D, P: r.P, W: Float32Array.from(r.W), b: Float32Array.from(r.b) })),
    };
  }
  try {
    validateStudentBankSpec(spec);
  } catch (err) {
    throw modelError((err as Error).message);
  }
  return { spec, style, metadata: meta };
}

export function readStudentBankOnnxFile(path: string): StudentBankOnnx {
  if (!fs.existsSync(path)) throw new EngineError('E_FILE_NOT_FOUND', `no such ONNX file: ${path}`);
  const buf = fs.readFileSync(path);
  return readStudentBankOnnx(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
}
