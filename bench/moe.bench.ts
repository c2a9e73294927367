// Batch-1 decision latency of the CMM student path: native StudentBank + Hajek-MoE vs onnxruntime-node (fused
// graph, nine sessions) vs the TS reference MoE; and MoE throughput per SIMD implementation at B = 256.
// Run: node dist/bench/moe.bench.js   (one child process per case; each also times the native bank as baseline)
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as ort from 'onnxruntime-node';
import { hajekMoeRff, hajekMoeReference, moeImplementation, moeImplementations } from '../src/moe/hajek';
import { makeRff } from '../src/moe/rff';
import { StudentBank, StudentBankSpec, randomStudentBank } from '../src/moe/student-bank';
import { Rng } from '../src/sim/rng';
import { studentBankToOnnx, studentOfBank } from '../src/onnx/write-mlp';
import { runBench } from './market-data-stats';

const F = 24, S = 9, O = 9, K = 3, M = 3, D = 64;
const SESSION: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
};

function makeSpec(): StudentBankSpec {
  const spec = randomStudentBank({ students: S, inputs: F, hidden: [32, 32], outputs: O, activation: 'tanh', normalize: true }, 1);
  spec.moe = { tasks: K, rff: [0, 1, 2].map((k) => makeRff({ D, P: O, lengthScale: 1, seed: 10 + k })), tau: [5, 5, 5] };
  return spec;
}

interface Stats { p50: number; p99: number; mean: number; n: number }

function stats(ns: Float64Array): Stats {
  const s = Float64Array.from(ns).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return { p50: s[Math.floor(s.length * 0.5)], p99: s[Math.floor(s.length * 0.99)], mean: sum / s.length, n: s.length };
}

function timeSync(n: number, warm: number, f: () => void): Stats {
  for (let i = 0; i < warm; i++) f();
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    f();
    t[i] = Number(process.hrtime.bigint() - a);
  }
  return stats(t);
}

async function timeAsync(n: number, warm: number, f: () => Promise<void>): Promise<Stats> {
  for (let i = 0; i < warm; i++) await f();
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    await f();
    t[i] = Number(process.hrtime.bigint() - a);
  }
  return stats(t);
}

function inputs(n: number): Float32Array[] {
  const rng = new Rng(7);
  return Array.from({ length: n }, () => Float32Array.from({ length: F }, () => rng.normal()));
}

function nativeBank(spec: StudentBankSpec, impl: 'auto' | 'scalar' = 'auto', moeImpl: 'auto' | 'scalar' = 'auto', n = 200_000): Stats {
  const bank = new StudentBank(spec, { impl, moeImpl });
  const xs = inputs(64), out = new Float32Array(bank.outSize);
  let i = 0;
  return timeSync(n, 20_000, () => { bank.run(xs[i++ & 63], out); });
}

type CaseResult = { label: string; stats: Stats; extra?: Record<string, number | string> };

async function runCase(name: string): Promise<CaseResult[]> {
  const spec = makeSpec();
  const xs = inputs(64);
  switch (name) {
    case 'timer':
      return [{ label: 'hrtime pair overhead (subtract from native figures)', stats: timeSync(200_000, 10_000, () => {}) }];
    case 'native':
      return [
        { label: `(a) native StudentBank + MoE [${new StudentBank(spec).implementation.students}/${moeImplementation()}]`, stats: nativeBank(spec) },
        { label: '(a) native students only, no MoE', stats: nativeBank({ ...spec, moe: undefined }) },
        { label: '(a) native StudentBank + MoE, scalar/scalar', stats: nativeBank(spec, 'scalar', 'scalar', 50_000) },
      ];
    case 'ort-fused':
    case 'ort-fused-batched': {
      const style = name === 'ort-fused' ? 'per-student' : 'batched';
      const session = await ort.InferenceSession.create(studentBankToOnnx(spec, { style }), SESSION);
      let i = 0;
      const st = await timeAsync(20_000, 2_000, async () => {
        await session.run({ x: new ort.Tensor('float32', xs[i++ & 63], [1, F]) });
      });
      return [{ label: `(b) onnxruntime-node fused 9-student graph (${style}), students only`, stats: st }];
    }
    case 'ort-separate': {
      const sessions = await Promise.all(Array.from({ length: S }, (_, s) => ort.InferenceSession.create(studentBankToOnnx(studentOfBank(spec, s)), SESSION)));
      let i = 0;
      const st = await timeAsync(5_000, 500, async () => {
        const x = new ort.Tensor('float32', xs[i++ & 63], [1, F]);
        for (const sess of sessions) await sess.run({ x });
      });
      return [{ label: '(c) onnxruntime-node 9 separate sessions, students only', stats: st }];
    }
    case 'ts-moe': {
      const bank = new StudentBank(spec);
      const out = new Float32Array(bank.outSize);
      bank.run(xs[0], out);
      const u = out.slice(0, S * O);
      const st = timeSync(50_000, 5_000, () => {
        for (let k = 0; k < K; k++) hajekMoeReference(u.subarray(k * M * O, (k + 1) * M * O), 1, M, spec.moe!.rff[k], 5);
      });
      return [{ label: '(d) TS float64 reference MoE, 3 tasks (MoE only)', stats: st }];
    }
    case 'moe-throughput': {
      const B = 256, rff = spec.moe!.rff[0];
      const rng = new Rng(3);
      const u = Float32Array.from({ length: B * M * O }, () => rng.normal());
      const y = new Float32Array(B), w = new Float32Array(B * M);
      return moeImplementations().map((impl) => {
        const st = timeSync(impl === 'scalar' ? 500 : 5_000, 200, () => { hajekMoeRff(u, B, M, rff, 5, y, w, impl); });
        return { label: `MoE B=256 x M=3, P=9, D=64: ${impl}`, stats: st, extra: { nsPerDecision: st.p50 / B, decisionsPerSec: Math.round((B * 1e9) / st.p50) } };
      });
    }
    default:
      throw new Error(`unknown case ${name}`);
  }
}

const CASES = ['timer', 'native', 'ort-fused', 'ort-fused-batched', 'ort-separate', 'ts-moe', 'moe-throughput'];

async function child(name: string): Promise<void> {
  const results = await runCase(name);
  // Baseline in the same process (style rule 8): the native bank + MoE.
  const baseline = name === 'native' || name === 'timer' || name === 'moe-throughput' ? undefined : nativeBank(makeSpec(), 'auto', 'auto', 100_000);
  process.stdout.write(JSON.stringify({ name, results, baseline }) + '\n');
}

function us(ns: number): string {
  return (ns / 1000).toFixed(2).padStart(8);
}

function parent(): void {
  console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} cpus, ${os.platform()} ${os.release()}, node ${process.version}, onnxruntime-node ${ort.env.versions?.node ?? '?'}`);
  console.log(`MoE implementations: ${moeImplementations().join(', ')} (auto = ${moeImplementation()}); 9 students 24 -> 32 -> 32 -> 9 tanh, 3 tasks x 3 experts, D = 64`);
  console.log(`${'case'.padEnd(72)}  p50 us   p99 us   mean us   x native p50`);
  for (const name of CASES) {
    const r = spawnSync(process.execPath, [__filename, '--case', name], { encoding: 'utf8' });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`${name}: failed (${r.status})\n${r.stderr}`);
      continue;
    }
    const { results, baseline } = JSON.parse(line) as { results: CaseResult[]; baseline?: Stats };
    for (const c of results) {
      const ratio = baseline ? `${(c.stats.p50 / baseline.p50).toFixed(1)}x (native ${us(baseline.p50).trim()} us here)` : '';
      const extra = c.extra ? `  ${c.extra.nsPerDecision.toString().slice(0, 6)} ns/decision, ${c.extra.decisionsPerSec} decisions/s` : '';
      console.log(`${c.label.padEnd(72)} ${us(c.stats.p50)} ${us(c.stats.p99)} ${us(c.stats.mean)}   ${ratio}${extra}`);
    }
  }
}

runBench(child, parent);
