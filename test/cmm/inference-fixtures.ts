// Shared by the inference tests: a student bank of the production shape (9 students on the 11 student inputs,
// 32-32 tanh, d' = 8, 3-task Hajek-MoE) with random weights, fresh random inputs, and the native answer for x.
import { makeRff } from '../../src/moe/rff';
import { StudentBank, StudentBankSpec, randomStudentBank } from '../../src/moe/student-bank';
import { Rng } from '../../src/sim/rng';
import { STUDENT_INPUTS } from '../../src/cmm/inference/features';

export const SEED = Number(process.env.CMM_TEST_SEED ?? Date.now() % 1_000_000_000);

export function bankSpec(seed = 1): StudentBankSpec {
  const spec = randomStudentBank({ students: 9, inputs: STUDENT_INPUTS, hidden: [32, 32], outputs: 9, activation: 'tanh', normalize: true }, seed);
  spec.moe = { tasks: 3, rff: [0, 1, 2].map((k) => makeRff({ D: 64, P: 9, lengthScale: 1.5, seed: 40 + k + seed })), tau: [4, 5, 6] };
  return spec;
}

export function randomInputs(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n * STUDENT_INPUTS }, () => rng.normal() * 1.5);
}

/** The in-process native bank's row for x (the reference every backend is held to). */
export function nativeRow(bank: StudentBank, x: Float32Array): Float32Array {
  const out = new Float32Array(bank.outSize);
  bank.run(x, out);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    d = Math.max(d, Math.abs(x - y));
  }
  return d;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves when `cond` holds, polling every few ms; rejects after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}
