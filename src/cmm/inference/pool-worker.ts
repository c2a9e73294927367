// piscina task file of the 'pool' backend (compiled to dist/src/cmm/inference/pool-worker.js): each pool thread
// loads the students once (workerData: engine kind + model) and scores batches of inputs.
import { Piscina } from 'piscina';
import { workerData } from 'worker_threads';
import { createStudentEngine, StudentEngine } from './engine';
import type { StudentEngineKind, StudentModelSource } from './types';

export interface PoolTask {
  X: Float32Array;
  B: number;
}
export interface PoolResult {
  out: Float32Array;
  status: number;
}

const data = workerData as { engine: StudentEngineKind; model: StudentModelSource };
let engine: StudentEngine | undefined;

export default function scoreStudents(task: PoolTask): unknown {
  engine ??= createStudentEngine(data.engine, data.model);
  const out = new Float32Array(task.B * engine.outSize);
  const status = task.B > 0 ? engine.runBatch(task.X, task.B, out) : 0;
  const result: PoolResult = { out, status };
  // Hand the output buffer back without a copy.
  return Piscina.move({ [Piscina.transferableSymbol]: [out.buffer], [Piscina.valueSymbol]: result } as unknown as Parameters<typeof Piscina.move>[0]);
}
