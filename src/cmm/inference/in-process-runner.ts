// Backends 'native' and 'ort': the students run synchronously on the calling thread. The fastest path (no
// handoff); never stale, predict() always answers.
import { createStudentEngine, loadStudentModel, StudentEngine } from './engine';
import { RunnerBase } from './runner-base';
import type { Prediction, StudentModelSource, StudentRunner, StudentRunnerConfig } from './types';

export class InProcessRunner extends RunnerBase implements StudentRunner {
  readonly backend: 'native' | 'ort';
  private seq = 0;

  private constructor(readonly engine: StudentEngine, config: Pick<StudentRunnerConfig, 'tasks'>) {
    super(engine.spec, config, '');
    this.backend = engine.kind;
  }

  static create(kind: 'native' | 'ort', model: StudentModelSource, config: Pick<StudentRunnerConfig, 'tasks'> = {}): InProcessRunner {
    // The ort engine reads the ONNX file itself; the native one only needs the spec.
    const engine = kind === 'native' ? createStudentEngine('native', { spec: loadStudentModel(model).spec }) : createStudentEngine('ort', model);
    return new InProcessRunner(engine, config);
  }

  predict(x: Float32Array): Prediction {
    this.checkX(x);
    const status = this.engine.run(x, this.prediction.row);
    this.count.requests++;
    this.count.answered++;
    return this.finish(++this.seq, status);
  }

  /** In-process answers come with predict() itself: nothing is ever pending. */
  poll(): null {
    return null;
  }

  async predictAsync(x: Float32Array): Promise<Prediction> {
    return this.predict(x);
  }

  async predictBatch(X: Float32Array, B: number, out?: Float32Array): Promise<Float32Array> {
    const o = this.checkBatch(X, B, out);
    this.engine.runBatch(X, B, o);
    return o;
  }

  async ready(): Promise<void> {
    return undefined;
  }

  async close(): Promise<void> {
    this.engine.dispose();
  }
}
