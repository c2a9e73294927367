// Student inference for the CMM live path and batch work: createStudentRunner picks the backend by configuration.
//   'native'  in-process fused StudentBank (synchronous, fastest)
//   'ort'     in-process onnxruntime-node on the fused graph + native MoE (the reference)
//   'worker'  one resident worker thread over SharedArrayBuffer + Atomics (live path off the main thread)
//   'pool'    a piscina pool (batch scoring, experiments)
import { expected } from '../../errors';
import { loadStudentModel } from './engine';
import { InProcessRunner } from './in-process-runner';
import { PoolRunner } from './pool-runner';
import { ResidentWorkerRunner } from './resident-runner';
import type { StudentRunner, StudentRunnerConfig } from './types';

export * from './types';
export * from './features';
export { StudentEngine, OrtStudentBank, createStudentEngine, loadStudentModel, nativeStudentEngine, ORT_SESSION_OPTIONS } from './engine';
export { InProcessRunner } from './in-process-runner';
export { ResidentWorkerRunner } from './resident-runner';
export { PoolRunner } from './pool-runner';

/** Builds the configured runner and waits until it can answer (worker / pool threads loaded the model). */
export async function createStudentRunner(config: StudentRunnerConfig): Promise<StudentRunner> {
  if (config === null || typeof config !== 'object') throw expected('a StudentRunnerConfig object', 'config', config);
  const { spec } = loadStudentModel(config.model); // validates the model once, here, with a clear error
  let runner: StudentRunner;
  switch (config.backend) {
    case 'native':
    case 'ort':
      if (config.engine !== undefined && config.engine !== config.backend) throw expected(`engine '${config.backend}' (or none) for backend '${config.backend}'`, 'engine', config.engine);
      runner = InProcessRunner.create(config.backend, config.backend === 'native' ? { spec } : config.model, config);
      break;
    case 'worker':
      runner = new ResidentWorkerRunner(spec, config.model, config);
      break;
    case 'pool':
      runner = new PoolRunner(spec, config.model, config);
      break;
    default:
      throw expected("'native', 'ort', 'worker' or 'pool'", 'backend', (config as { backend: unknown }).backend);
  }
  try {
    await runner.ready();
  } catch (err) {
    await runner.close();
    throw err;
  }
  return runner;
}
