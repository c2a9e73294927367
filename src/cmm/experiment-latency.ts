// Latency and energy experiment (cmm.md experiment 4): per-decision latency (p50 / p99) and energy of the students +
// Hájek-MoE versus the teacher, measured in ONE process on the same decisions (a market's test-split samples):
//   students native  x_t → InProcessRunner('native') (fused C++ bank + SIMD MoE) → QuoteRule
//   students ort     the same bank's ONNX graph in onnxruntime-node (+ native MoE) → QuoteRule: same runtime as the teacher
//   teacher          its T×F window → onnxruntime-node, batch 1 (await) → QuoteRule on its heads
// Energy: Intel RAPL (/sys/class/powercap/intel-rapl*/energy_uj, package domains) when readable; otherwise an
// ESTIMATE = process CPU time × a stated watts-per-busy-core figure (labelled as such in every output).
import * as fs from 'fs';
import * as path from 'path';
import { EngineError } from '../errors';
import { QuoteRule, emptyQuote } from './quote';
import { InProcessRunner } from './inference/in-process-runner';
import type { StudentRunner } from './inference/types';
import { sampleIndices, teacherWindows } from './dataset-file';
import { drawHistogramPanel, panelsPng } from './experiment-charts';
import { ExperimentContext, ExperimentOptions, ExperimentOutput, fmtNum, marketModels, textTable, writeResults } from './experiment-core';
import { MarketSpec, generatedMarkets, pickMarkets, realMarkets } from './experiment-data';
import { LatencyStats, PreparedMarket, StudentSet, bundledStudents, latencyStats, prepareMarket, randomStudentSet } from './experiment-models';

export const DEFAULT_LATENCY_MARKETS = ['lobster_msft_20120621', 'gen_switching_sideways'];

/** Sum of the package-level RAPL counters (µJ), or null when none is readable. */
export function readRaplMicroJoules(root = '/sys/class/powercap'): number | null {
  let dirs: string[];
  try {
    dirs = fs.readdirSync(root).filter((d) => /^intel-rapl:\d+$/.test(d));
  } catch {
    return null;
  }
  let sum = 0, any = false;
  for (const d of dirs) {
    try {
      sum += Number(fs.readFileSync(path.join(root, d, 'energy_uj'), 'utf8').trim());
      any = true;
    } catch { /* not readable (permissions) */ }
  }
  return any && Number.isFinite(sum) ? sum : null;
}

export interface ModelTiming {
  model: string;
  runtime: string;
  parameters: number | null;
  decisions: number;
  latencyUs: LatencyStats;
  /** Process CPU time per decision (µs), from a run without per-decision timers. */
  cpuUsPerDecision: number;
  /** Energy per decision (µJ) and how it was obtained. */
  energyUjPerDecision: number;
  energySource: 'rapl' | 'estimate';
  /** All latencies (µs), for the histogram (not in the JSON). */
  samples?: Float64Array;
}

interface Measure {
  us: Float64Array;
  cpuUs: number;
  energyUj: number | null;
}

/** One model under measurement: its decision step, decisions to time, warm-up. */
interface Subject {
  n: number;
  warmup: number;
  step: (i: number) => Promise<void> | void;
}

/**
 * Latency: each decision timed alone (hrtime around it). CPU time and energy: a second pass over the same
 * decisions with no timer inside the loop, so the per-decision figures carry the model's cost and not the
 * harness's (two hrtime reads, a stored sample and, for a synchronous step, no await). The subjects take turns
 * in `rounds` blocks in both passes, so a slow spell of a shared machine falls on every model alike instead of on
 * whichever happened to run then (the ratios are what the budgets read).
 */
async function measureInterleaved(subjects: Subject[], rounds = 20): Promise<Measure[]> {
  for (const s of subjects) for (let i = 0; i < s.warmup; i++) await s.step(i);
  const us = subjects.map((s) => new Float64Array(s.n));
  const span = (s: Subject, r: number): [number, number] => [Math.floor((s.n * r) / rounds), Math.floor((s.n * (r + 1)) / rounds)];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < subjects.length; k++) {
      const s = subjects[k];
      const [from, to] = span(s, r);
      for (let i = from; i < to; i++) {
        const t0 = process.hrtime.bigint();
        const p = s.step(i);
        if (p) await p;
        us[k][i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
    }
  }
  const cpuUs = subjects.map(() => 0);
  const energy: (number | null)[] = subjects.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < subjects.length; k++) {
      const s = subjects[k];
      const [from, to] = span(s, r);
      const e0 = readRaplMicroJoules();
      const c0 = process.cpuUsage();
      for (let i = from; i < to; i++) {
        const p = s.step(i);
        if (p) await p;
      }
      const c = process.cpuUsage(c0);
      const e1 = readRaplMicroJoules();
      cpuUs[k] += c.user + c.system;
      const e = energy[k];
      energy[k] = e !== null && e0 !== null && e1 !== null && e1 >= e0 ? e + (e1 - e0) : null;
    }
  }
  return subjects.map((_, k) => ({ us: us[k], cpuUs: cpuUs[k], energyUj: energy[k] }));
}

function timing(model: string, runtime: string, parameters: number | null, m: Measure, wattsPerCore: number): ModelTiming {
  const n = m.us.length;
  const estimate = (m.cpuUs * wattsPerCore) / n; // µs × W = µJ
  return {
    model, runtime, parameters, decisions: n, latencyUs: latencyStats(m.us), cpuUsPerDecision: m.cpuUs / n,
    energyUjPerDecision: m.energyUj !== null ? m.energyUj / n : estimate, energySource: m.energyUj !== null ? 'rapl' : 'estimate', samples: m.us,
  };
}

function bankParameters(s: StudentSet): number {
  const spec = s.moe;
  return spec.weights.length - (spec.normalize ? 2 * spec.inputs : 0);
}

export async function runLatency(o: ExperimentOptions, override?: MarketSpec[]): Promise<ExperimentOutput> {
  const all = [...realMarkets(o.dataDir), ...generatedMarkets(o.generatedMinutes, o.seed)];
  const candidates = override ?? pickMarkets(all, o.markets ?? DEFAULT_LATENCY_MARKETS.join(','));
  const ctx = await ExperimentContext.open(o);
  const notes: string[] = [];
  const timings: ModelTiming[] = [];
  let market = '';
  try {
    let pm: PreparedMarket | null = null;
    for (const spec of candidates) {
      try {
        pm = prepareMarket(spec, o.cacheDir, ctx.datasetOptions(), (l) => o.log(l));
        market = spec.name;
        break;
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        notes.push(`${spec.name}: ${err.message}`);
      }
    }
    if (!pm) throw new EngineError('E_BAD_INPUT', `no market to take decisions from: ${notes.join('; ') || 'none selected'}`);
    let students: StudentSet | null = o.studentsOverride ?? null;
    if (!students && o.students === 'bundled') students = bundledStudents(o.studentsDir);
    if (!students && ctx.teacher) students = (await marketModels(ctx, pm, { withTeacher: false })).students;
    if (!students) {
      students = randomStudentSet(o.seed, [32, 32]);
      notes.push('students: RANDOM weights of the production shape (no teacher to distil from, no bundled students): latency and energy only, no predictive value');
    }
    const rows = sampleIndices(pm.ds, 'test');
    const F = pm.ds.header.studentFeatures.length;
    const nStudents = Math.max(o.latencyDecisions, 1) * 10;
    const nTeacher = Math.max(o.latencyDecisions, 1);
    const X = new Float32Array(rows.length * F);
    rows.forEach((r, i) => X.set(pm!.ds.x.subarray(r * F, (r + 1) * F), i * F));
    const rule = new QuoteRule({ gamma: 0.1, kappa: 1, sizeFraction: 0.5, horizon: 1, maxOrderSize: 10, maxPosition: 100 });
    const market0 = { mid: 10000, bestBid: 9999, bestAsk: 10001, sigma: 1, inventory: 0 };
    const q = emptyQuote();
    const decide = (runner: StudentRunner, i: number): void => {
      const k = i % rows.length;
      const p = runner.predict(X.subarray(k * F, (k + 1) * F));
      if (p) rule.quote(p, market0, q);
    };
    o.log(`latency: ${nStudents} student decisions per runtime, ${nTeacher} teacher decisions, on ${market} test samples`);
    // Every model is loaded first, then all are timed in turns (measureInterleaved).
    const labels: { model: string; runtime: string; parameters: number | null }[] = [];
    const subjects: Subject[] = [];
    const runners: StudentRunner[] = [];
    const native = InProcessRunner.create('native', { spec: students.moe });
    runners.push(native);
    labels.push({ model: 'students + Hájek-MoE', runtime: 'native (C++ SIMD, in-process)', parameters: bankParameters(students) });
    subjects.push({ n: nStudents, warmup: 2000, step: (i) => decide(native, i) });
    try {
      const ort = InProcessRunner.create('ort', { spec: students.moe });
      runners.push(ort);
      labels.push({ model: 'students + Hájek-MoE', runtime: 'onnxruntime-node (students) + native MoE', parameters: bankParameters(students) });
      subjects.push({ n: nStudents, warmup: 2000, step: (i) => decide(ort, i) });
    } catch (err) {
      notes.push(`students on onnxruntime not measured: ${(err as Error).message}`);
    }
    if (ctx.teacher) {
      const teacher = ctx.teacher;
      const W = teacherWindows(pm.ds, rows.subarray(0, Math.min(rows.length, 512)));
      const per = teacher.inputSpec.T * teacher.inputSpec.F;
      const count = W.length / per;
      const params = typeof ctx.teacherManifest?.parameters === 'number' ? ctx.teacherManifest.parameters as number : null;
      labels.push({ model: 'teacher', runtime: 'onnxruntime-node, batch 1', parameters: params });
      subjects.push({ n: nTeacher, warmup: 20, step: async (i) => {
        const k = i % count;
        const out = await teacher.run(W.subarray(k * per, (k + 1) * per), 1);
        rule.quote({ mid: out.heads[0], spread: out.heads[1], volume: out.heads[2] }, market0, q);
      } });
    } else notes.push(`teacher not measured: ${ctx.teacherMissing}`);
    try {
      const measured = await measureInterleaved(subjects);
      measured.forEach((m, k) => timings.push(timing(labels[k].model, labels[k].runtime, labels[k].parameters, m, o.wattsPerCore)));
    } finally {
      for (const r of runners) await r.close();
    }
  } finally {
    await ctx.close();
  }
  const base = timings[0];
  const teacher = timings.find((t) => t.model === 'teacher');
  const ratio = teacher && base ? {
    p50: teacher.latencyUs.p50 / base.latencyUs.p50, p99: teacher.latencyUs.p99 / base.latencyUs.p99,
    energy: teacher.energyUjPerDecision / base.energyUjPerDecision, parameters: teacher.parameters && base.parameters ? teacher.parameters / base.parameters : null,
  } : null;
  const energyNote = timings.some((t) => t.energySource === 'estimate')
    ? `energy: ESTIMATE = process CPU time × ${o.wattsPerCore} W per busy core (an assumed figure; RAPL counters not readable here)`
    : 'energy: Intel RAPL package counters (whole package, includes other load on the machine)';
  const text = [
    `LATENCY AND ENERGY per decision, one process, decisions from ${market} test samples`,
    textTable([['model', 'runtime', 'params', 'decisions', 'p50 µs', 'p99 µs', 'mean µs', 'CPU µs', 'energy µJ', 'vs native p50'],
      ...timings.map((t) => [t.model, t.runtime, t.parameters === null ? '?' : String(t.parameters), String(t.decisions), fmtNum(t.latencyUs.p50), fmtNum(t.latencyUs.p99),
        fmtNum(t.latencyUs.mean), fmtNum(t.cpuUsPerDecision), `${fmtNum(t.energyUjPerDecision)}${t.energySource === 'estimate' ? ' (est.)' : ''}`, `${(t.latencyUs.p50 / base.latencyUs.p50).toFixed(1)}x`])]),
    ratio ? `teacher / students (native): latency p50 ${ratio.p50.toFixed(1)}x, p99 ${ratio.p99.toFixed(1)}x, energy per decision ${ratio.energy.toFixed(1)}x${ratio.parameters ? `, parameters ${ratio.parameters.toFixed(1)}x` : ''}` : 'teacher / students ratio: not available (no teacher)',
    energyNote,
    ...notes.map((n) => `note: ${n}`),
  ].join('\n');
  const result = {
    experiment: 'latency', createdAt: new Date().toISOString(), market, wattsPerCore: o.wattsPerCore, energyNote,
    timings: timings.map(({ samples: _s, ...t }) => t), ratio, notes,
  };
  const png = panelsPng([(c, x, y, w, h) => drawHistogramPanel(c, 'Per-decision latency (log scale)', 'microseconds', timings.map((t) => ({ name: `${t.model} (${t.runtime.split(/[ ,(]/)[0]})`, values: t.samples! })), x, y, w, h)], 1, 1100, 460, `cmm experiment latency on ${market}`);
  const files = writeResults(o.outDir, 'latency', result, timings.length ? { 'latency.png': png } : {});
  return { result, text, files };
}
