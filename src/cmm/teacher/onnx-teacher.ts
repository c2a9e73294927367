// OnnxTeacher: the exported reference teacher run in onnxruntime-node (CPU, one intra-op thread: best tail
// latency per training-notes.md). Spec and layer count come from the file's own metadata.
import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../../errors';
import { TEACHER_ONNX_HEADS, TEACHER_ONNX_INPUT, TeacherOnnxMeta, hiddenOutputName, readTeacherOnnxMeta } from './export-onnx';
import { Teacher, TeacherInputSpec, TeacherOutput, checkWindows } from './teacher';

/** Session options used for every CMM model. */
export function sessionOptions(threads = 1): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
}

/** Opens a session on bytes, mapping failures to E_MODEL. */
export async function openSession(bytes: Uint8Array, where: string, threads = 1): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, sessionOptions(threads));
  } catch (err) {
    throw new EngineError('E_MODEL', `onnxruntime could not load ${where}: ${(err as Error).message}`);
  }
}

export class OnnxTeacher implements Teacher {
  readonly name: string;
  readonly layers: number;
  readonly hiddenSize: number;
  readonly inputSpec: TeacherInputSpec;

  private constructor(private readonly session: ort.InferenceSession, readonly meta: TeacherOnnxMeta, name: string) {
    this.name = name;
    this.layers = meta.config.layers;
    this.hiddenSize = meta.config.d;
    this.inputSpec = meta.spec;
    for (let l = 0; l < this.layers; l++) {
      if (!session.outputNames.includes(hiddenOutputName(l))) throw new EngineError('E_MODEL', `${name}: ONNX graph lacks output ${hiddenOutputName(l)}`);
    }
  }

  /** From a file path or the serialised bytes. (Checksums are verified by loadTeacher in models.ts.) */
  static async create(source: string | Uint8Array, opts: { name?: string; threads?: number } = {}): Promise<OnnxTeacher> {
    let bytes: Uint8Array;
    const where = typeof source === 'string' ? source : 'teacher ONNX bytes';
    if (typeof source === 'string') {
      try {
        const buf = fs.readFileSync(source);
        bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (err) {
        throw new EngineError('E_MODEL', `teacher model file missing or unreadable: ${(err as Error).message}`, { file: source });
      }
    } else bytes = source;
    const meta = readTeacherOnnxMeta(bytes, where);
    const session = await openSession(bytes, where, opts.threads ?? 1);
    return new OnnxTeacher(session, meta, opts.name ?? 'transformer-onnx');
  }

  async run(windows: Float32Array, B: number): Promise<TeacherOutput> {
    checkWindows(this.inputSpec, windows, B);
    const { T, F } = this.inputSpec;
    if (B === 0) return { hidden: Array.from({ length: this.layers }, () => new Float32Array(0)), heads: new Float32Array(0) };
    const input = new ort.Tensor('float32', windows, [B, T, F]);
    const out = await this.session.run({ [TEACHER_ONNX_INPUT]: input });
    const hidden = Array.from({ length: this.layers }, (_, l) => out[hiddenOutputName(l)].data as Float32Array);
    return { hidden, heads: out[TEACHER_ONNX_HEADS].data as Float32Array };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
