// The kernels a runner (in-process or inside a worker thread) evaluates the students with: the native fused
// StudentBank, or onnxruntime-node on the fused student graph followed by the native Hajek-MoE kernel. Both
// write the same output row (studentBankLayout), so every backend is interchangeable and comparable.
//
// onnxruntime-node's public InferenceSession.run() is asynchronous only because it defers a synchronous native
// call with setImmediate; on the live path that costs an event-loop turn per decision. OrtStudentBank calls the
// package's own binding (onnxruntime-node/dist/binding, version pinned in package.json) synchronously with
// preallocated tensors; runPublic() goes through the public API and a test pins the two together.
// onnxruntime-node is loaded on first use only: native-only workers start faster without it.
import * as fs from 'fs';
import type * as Ort from 'onnxruntime-node';
import { EngineError, expected } from '../../errors';
import { hajekMoeRff } from '../../moe/hajek';
import { StudentBank, StudentBankSpec, studentBankLayout, validateStudentBankSpec } from '../../moe/student-bank';
import { readStudentBankOnnx } from '../../onnx/read-weights';
import { STUDENT_INPUT, STUDENT_OUTPUT, studentBankToOnnx } from '../../onnx/write-mlp';
import type { StudentEngineKind, StudentModelSource } from './types';

/** What a runner needs from a kernel: one decision or B decisions into rows of studentBankLayout. */
export interface StudentEngine {
  readonly kind: StudentEngineKind;
  readonly spec: StudentBankSpec;
  readonly inputs: number;
  readonly outSize: number;
  readonly yOffset: number;
  readonly wOffset: number;
  /** x (inputs floats) -> out (outSize floats); returns MoeStatus bits. Synchronous. */
  run(x: Float32Array, out: Float32Array): number;
  /** B decisions; returns the OR of the MoeStatus bits. Synchronous. */
  runBatch(X: Float32Array, B: number, out: Float32Array): number;
  dispose(): void;
}

/** The model's bytes and spec: an ONNX file is read once (its spec feeds the native bank), a spec is serialised. */
export function loadStudentModel(source: StudentModelSource): { spec: StudentBankSpec; onnx: () => Uint8Array } {
  if (source === null || typeof source !== 'object') throw expected('{ spec } or { onnxPath }', 'model', source);
  let spec: StudentBankSpec;
  let onnx: () => Uint8Array;
  if ('onnxPath' in source) {
    if (typeof source.onnxPath !== 'string' || source.onnxPath === '') throw expected('a file path', 'model.onnxPath', source.onnxPath);
    if (!fs.existsSync(source.onnxPath)) throw new EngineError('E_FILE_NOT_FOUND', `no such student ONNX file: ${source.onnxPath}`);
    const buf = fs.readFileSync(source.onnxPath);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    spec = readStudentBankOnnx(bytes).spec;
    onnx = () => bytes;
  } else if ('spec' in source) {
    spec = source.spec;
    validateStudentBankSpec(spec);
    onnx = () => studentBankToOnnx(spec);
  } else {
    throw expected('{ spec } or { onnxPath }', 'model', Object.keys(source as object).join(','));
  }
  if (!spec.moe) throw new EngineError('E_MODEL', 'the student bank has no Hajek-MoE (cmm.moe): a runner needs one prediction per task');
  return { spec, onnx };
}

/** The native fused bank as a StudentEngine. */
export function nativeStudentEngine(spec: StudentBankSpec): StudentEngine {
  const bank = new StudentBank(spec);
  return {
    kind: 'native', spec, inputs: spec.inputs, outSize: bank.outSize, yOffset: bank.yOffset, wOffset: bank.wOffset,
    run: (x, out) => bank.run(x, out),
    runBatch: (X, B, out) => bank.runBatch(X, B, out),
    dispose: () => undefined,
  };
}

interface OrtNativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, Ort.Tensor>, fetches: Record<string, Ort.Tensor | null>, options: object): Record<string, { data: Float32Array }>;
  dispose(): void;
}
interface OrtBindingModule {
  binding: { InferenceSession: new () => OrtNativeSession };
  initOrt(): void;
}

let ortModule: typeof Ort | undefined;
function ortApi(): typeof Ort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ortModule ??= require('onnxruntime-node') as typeof Ort;
  return ortModule;
}

let ortBinding: OrtBindingModule | undefined;
function loadOrtBinding(): OrtBindingModule {
  if (ortBinding) return ortBinding;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require('onnxruntime-node/dist/binding') as OrtBindingModule;
    if (typeof m.initOrt !== 'function' || typeof m.binding?.InferenceSession !== 'function') throw new Error('unexpected exports');
    ortBinding = m;
    return m;
  } catch (err) {
    throw new EngineError('E_CONFIG', `onnxruntime-node's synchronous binding (onnxruntime-node/dist/binding) is not usable: ${(err as Error).message}; ` +
      'the ort engine is written against onnxruntime-node 1.30 (package.json)');
  }
}

/** One thread, sequential, all graph optimisations: the latency configuration (and what moe.bench.ts times). */
export const ORT_SESSION_OPTIONS: Ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
};

/** onnxruntime-node on the fused student graph, then the native Hajek-MoE per task. Not thread-safe. */
export class OrtStudentBank implements StudentEngine {
  readonly kind = 'ort' as const;
  readonly inputs: number;
  readonly outSize: number;
  readonly yOffset: number;
  readonly wOffset: number;
  private readonly session: OrtNativeSession;
  private publicSession?: Promise<Ort.InferenceSession>;
  private readonly S: number;
  private readonly O: number;
  private readonly K: number;
  private readonly M: number;
  // Batch-1 buffers and views, allocated once.
  private readonly x1: Float32Array;
  private readonly feeds1: Record<string, Ort.Tensor>;
  private readonly students1: Float32Array;
  private readonly fetches1: Record<string, Ort.Tensor>;
  private readonly row1: Float32Array;
  private readonly u1: Float32Array[];
  private readonly y1: Float32Array[];
  private readonly w1: Float32Array[];

  constructor(readonly spec: StudentBankSpec, private readonly bytes: Uint8Array) {
    if (!spec.moe) throw new EngineError('E_MODEL', 'OrtStudentBank needs a bank with an MoE');
    const ort = ortApi();
    const b = loadOrtBinding();
    b.initOrt();
    this.session = new b.binding.InferenceSession();
    try {
      this.session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, ORT_SESSION_OPTIONS);
    } catch (err) {
      throw new EngineError('E_MODEL', `onnxruntime-node could not load the student graph: ${(err as Error).message}`);
    }
    const layout = studentBankLayout(spec);
    this.inputs = spec.inputs;
    this.outSize = layout.outSize;
    this.yOffset = layout.yOffset;
    this.wOffset = layout.wOffset;
    this.S = spec.students;
    this.O = spec.outputs;
    this.K = spec.moe.tasks;
    this.M = layout.experts;
    this.x1 = new Float32Array(this.inputs);
    this.feeds1 = { [STUDENT_INPUT]: new ort.Tensor('float32', this.x1, [1, this.inputs]) };
    this.row1 = new Float32Array(this.outSize);
    this.students1 = this.row1.subarray(0, this.S * this.O);
    this.fetches1 = { [STUDENT_OUTPUT]: new ort.Tensor('float32', this.students1, [1, this.S * this.O]) };
    const MO = this.M * this.O;
    this.u1 = Array.from({ length: this.K }, (_, k) => this.row1.subarray(k * MO, (k + 1) * MO));
    this.y1 = Array.from({ length: this.K }, (_, k) => this.row1.subarray(this.yOffset + k, this.yOffset + k + 1));
    this.w1 = Array.from({ length: this.K }, (_, k) => this.row1.subarray(this.wOffset + k * this.M, this.wOffset + (k + 1) * this.M));
  }

  /** Loads a model source (spec or ONNX file) into a session. */
  static fromSource(source: StudentModelSource): OrtStudentBank {
    const m = loadStudentModel(source);
    return new OrtStudentBank(m.spec, m.onnx());
  }

  run(x: Float32Array, out: Float32Array): number {
    if (x.length < this.inputs || out.length < this.outSize) throw expected(`x of >= ${this.inputs} and out of >= ${this.outSize} floats`, 'OrtStudentBank.run', `${x.length} and ${out.length}`);
    for (let i = 0; i < this.inputs; i++) this.x1[i] = x[i];
    this.session.run(this.feeds1, this.fetches1, {});
    let status = 0;
    const { rff, tau } = this.spec.moe!;
    for (let k = 0; k < this.K; k++) status |= hajekMoeRff(this.u1[k], 1, this.M, rff[k], tau[k], this.y1[k], this.w1[k]);
    out.set(this.row1);
    return status;
  }

  runBatch(X: Float32Array, B: number, out: Float32Array): number {
    if (!Number.isInteger(B) || B < 0) throw expected('a non-negative integer', 'B', B);
    if (X.length < B * this.inputs || out.length < B * this.outSize) throw expected(`X of >= ${B * this.inputs} and out of >= ${B * this.outSize} floats`, 'OrtStudentBank.runBatch', `${X.length} and ${out.length}`);
    if (B === 0) return 0;
    const ort = ortApi();
    const feeds = { [STUDENT_INPUT]: new ort.Tensor('float32', X.subarray(0, B * this.inputs), [B, this.inputs]) };
    const students = new Float32Array(B * this.S * this.O);
    this.session.run(feeds, { [STUDENT_OUTPUT]: new ort.Tensor('float32', students, [B, this.S * this.O]) }, {});
    return this.finishBatch(students, B, out);
  }

  /** Same as runBatch through onnxruntime-node's public async API (the reference the sync path is tested against). */
  async runPublic(X: Float32Array, B: number, out: Float32Array): Promise<number> {
    const ort = ortApi();
    this.publicSession ??= ort.InferenceSession.create(this.bytes, ORT_SESSION_OPTIONS);
    const session = await this.publicSession;
    const r = await session.run({ [STUDENT_INPUT]: new ort.Tensor('float32', X.slice(0, B * this.inputs), [B, this.inputs]) });
    return this.finishBatch(r[STUDENT_OUTPUT].data as Float32Array, B, out);
  }

  /** Students (B x S*O) -> per-task MoE -> output rows. */
  private finishBatch(students: Float32Array, B: number, out: Float32Array): number {
    const { S, O, K, M, outSize, yOffset, wOffset } = this;
    const { rff, tau } = this.spec.moe!;
    const MO = M * O;
    const u = new Float32Array(B * MO), y = new Float32Array(B), w = new Float32Array(B * M);
    let status = 0;
    for (let b = 0; b < B; b++) out.set(students.subarray(b * S * O, (b + 1) * S * O), b * outSize);
    for (let k = 0; k < K; k++) {
      for (let b = 0; b < B; b++) u.set(students.subarray(b * S * O + k * MO, b * S * O + (k + 1) * MO), b * MO);
      status |= hajekMoeRff(u, B, M, rff[k], tau[k], y, w);
      for (let b = 0; b < B; b++) {
        out[b * outSize + yOffset + k] = y[b];
        out.set(w.subarray(b * M, (b + 1) * M), b * outSize + wOffset + k * M);
      }
    }
    return status;
  }

  dispose(): void {
    this.session.dispose();
    void this.publicSession?.then((s) => s.release()).catch(() => undefined);
  }
}

/** A kernel of `kind` for a model source. */
export function createStudentEngine(kind: StudentEngineKind, source: StudentModelSource): StudentEngine {
  if (kind === 'native') return nativeStudentEngine(loadStudentModel(source).spec);
  if (kind === 'ort') return OrtStudentBank.fromSource(source);
  throw expected("'native' or 'ort'", 'engine', kind);
}
