// Tick-to-quote latency of the CMM live path, per backend: one book event -> native MarketEngine.apply (feature
// row) -> studentInput -> 9 students + Hajek-MoE -> QuoteRule. p50/p99 over every event of a real file replayed
// one event at a time (default: LOBSTER MSFT 2012-06-21, 141,507 events). One child process per backend (style
// rule 8), each also timing the in-process native path as its same-process baseline.
// Run: node dist/bench/tick-to-quote.bench.js [--file lobster_message.csv] [--model students.onnx] [--ticks N]
// Writes bench/results/tick-to-quote.json.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseLobsterMessages } from '../src/import/lobster';
import { Feature, MarketEngine, NUM_FEATURES } from '../src/market/market-engine';
import { makeRff } from '../src/moe/rff';
import { StudentBankSpec, randomStudentBank } from '../src/moe/student-bank';
import { readStudentBankOnnxFile } from '../src/onnx/read-weights';
import { STUDENT_INPUTS, StudentRunner, StudentRunnerConfig, createStudentRunner, studentInput } from '../src/cmm/inference';
import { Quote, QuoteMarket, QuoteRule, emptyQuote } from '../src/cmm/quote';
import { runBench } from './market-data-stats';

const ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_FILE = path.resolve(ROOT, '..', 'shared', 'data', 'lobster', 'MSFT_2012-06-21_34200000_37800000_message_50.csv');
const RESULTS = path.join(ROOT, 'bench', 'results', 'tick-to-quote.json');
const BUDGETS = path.join(ROOT, 'bench', 'budgets.json');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Stats { p50: number; p99: number; p999: number; mean: number; max: number; n: number }
function stats(us: Float64Array): Stats {
  const s = Float64Array.from(us).sort();
  let sum = 0;
  for (const v of s) sum += v;
  const at = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), mean: sum / s.length, max: s[s.length - 1], n: s.length };
}

/** A trained student bank from models/ (first student-bank ONNX with an MoE on the 11 student inputs), if any. */
function findTrainedModel(): string | undefined {
  const dir = path.join(ROOT, 'models');
  const walk = (d: string): string[] => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.onnx') ? [path.join(d, e.name)] : []) : []);
  for (const f of walk(dir)) {
    try {
      const { spec } = readStudentBankOnnxFile(f);
      if (spec.moe && spec.inputs === STUDENT_INPUTS) return f;
    } catch { /* not a student bank */ }
  }
  return undefined;
}

/** Production shape: 9 students (3 tasks x 3 regimes) 11 -> 32 -> 32 -> 9 (d' = 8), tanh, MoE D = 64. */
function randomBank(): StudentBankSpec {
  const spec = randomStudentBank({ students: 9, inputs: STUDENT_INPUTS, hidden: [32, 32], outputs: 9, activation: 'tanh', normalize: true }, 1);
  spec.moe = { tasks: 3, rff: [0, 1, 2].map((k) => makeRff({ D: 64, P: 9, lengthScale: 1.5, seed: 20 + k })), tau: [5, 5, 5] };
  return spec;
}

const CASES: Record<string, Omit<StudentRunnerConfig, 'model'>> = {
  native: { backend: 'native' },
  ort: { backend: 'ort' },
  worker: { backend: 'worker', engine: 'native', deadlineMicros: 200, spinMicros: 200, workerSpinMicros: Infinity, maxConsecutiveLate: 1e9, hangMicros: 1e6 },
  'worker-ort': { backend: 'worker', engine: 'ort', deadlineMicros: 200, spinMicros: 200, workerSpinMicros: Infinity, maxConsecutiveLate: 1e9, hangMicros: 1e6 },
  pool: { backend: 'pool', engine: 'native', threads: 1, deadlineMicros: 100_000 },
};

interface Replay {
  bytes: Uint8Array;
  count: number;
  instrument: ReturnType<typeof parseLobsterMessages>['instrument'];
}

/** Replays `n` events one at a time through engine -> x -> runner -> quote; per-tick µs. */
async function replay(rp: Replay, runner: StudentRunner, n: number, sync: boolean): Promise<{ us: Float64Array; answered: number; quotes: number }> {
  const engine = new MarketEngine([rp.instrument]);
  const row = new Float64Array(NUM_FEATURES);
  const x = new Float32Array(STUDENT_INPUTS);
  const rule = new QuoteRule({ gamma: 0.05, kappa: 1, sizeFraction: 0.2, horizon: 1, maxOrderSize: 10, maxPosition: 50 });
  const market: QuoteMarket = { mid: 0, bestBid: 0, bestAsk: 0, sigma: 0, inventory: 0 };
  const out: Quote = emptyQuote();
  const us = new Float64Array(n);
  let answered = 0, quotes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    engine.apply(rp.bytes.subarray(i * 64, i * 64 + 64), 1, row);
    studentInput(row, x);
    const p = sync ? runner.predict(x) : await runner.predictAsync(x);
    if (p !== null) {
      answered++;
      market.mid = row[Feature.Mid];
      market.bestBid = row[Feature.BidPrice];
      market.bestAsk = row[Feature.AskPrice];
      market.sigma = row[Feature.RealisedVol];
      market.inventory = (i >> 10) % 7 - 3;
      if (rule.quote(p, market, out) !== null) quotes++;
    }
    us[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return { us, answered, quotes };
}

async function child(name: string): Promise<void> {
  const file = arg('--file') ?? DEFAULT_FILE;
  const modelPath = arg('--model');
  const { batch, instrument } = parseLobsterMessages(file);
  const rp: Replay = { bytes: batch.bytes(), count: batch.length, instrument };
  const ticks = Math.min(rp.count, Number(arg('--ticks') ?? rp.count));
  const model = modelPath ? { onnxPath: modelPath } : { spec: randomBank() };
  const measure = async (caseName: string, n: number): Promise<{ stats: Stats; answered: number; quotes: number }> => {
    const runner = await createStudentRunner({ ...CASES[caseName], model } as StudentRunnerConfig);
    const sync = runner.backend !== 'pool';
    await replay(rp, runner, Math.min(20_000, n), sync); // warm-up pass (JIT, caches), not counted
    const r = await replay(rp, runner, n, sync);
    await runner.close();
    return { stats: stats(r.us), answered: r.answered, quotes: r.quotes };
  };
  const result = await measure(name, name === 'pool' ? Math.min(ticks, 100_000) : ticks);
  const baseline = name === 'native' ? undefined : (await measure('native', Math.min(ticks, 50_000))).stats;
  process.stdout.write(JSON.stringify({ name, ...result, baseline }) + '\n');
}

function parent(): void {
  const file = arg('--file') ?? DEFAULT_FILE;
  const modelArg = arg('--model') ?? findTrainedModel();
  const extra = [...(arg('--file') ? ['--file', file] : []), ...(modelArg ? ['--model', modelArg] : []), ...(arg('--ticks') ? ['--ticks', arg('--ticks')!] : [])];
  const cpu = os.cpus()[0]?.model ?? '?';
  const machine = `${cpu}, ${os.cpus().length} cpus, ${os.platform()} ${os.release()}, node ${process.version}`;
  const load = os.loadavg().map((v) => v.toFixed(2)).join(' ');
  const modelNote = modelArg ? `trained students: ${path.relative(ROOT, modelArg)}` : 'RANDOM students (production shape 9 x 11-32-32-9 tanh, MoE D=64): no trained student bank in models/ yet';
  console.log(`machine: ${machine}; load average at start: ${load}`);
  console.log(`file: ${path.basename(file)}; model: ${modelNote}`);
  console.log('tick = MarketEngine.apply(1 event) + studentInput + students/MoE + QuoteRule; every event of the file, after a 20k-event warm-up');
  console.log(`${'backend'.padEnd(28)} ${'ticks'.padStart(7)} ${'p50 µs'.padStart(8)} ${'p99 µs'.padStart(8)} ${'p99.9 µs'.padStart(9)} ${'mean µs'.padStart(8)} ${'answered'.padStart(9)} ${'quotes'.padStart(7)}  vs native p50 (same process)`);
  const cases: Record<string, unknown> = {};
  // Flat metrics for bench/run.ts and bench/budgets.json ("tick-to-quote.<backend>.<metric>").
  const metrics: Record<string, number> = {};
  for (const name of Object.keys(CASES)) {
    const r = spawnSync(process.execPath, [__filename, '--case', name, ...extra], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`${name}: failed (${r.status})\n${r.stderr}`);
      continue;
    }
    const res = JSON.parse(line) as { stats: Stats; answered: number; quotes: number; baseline?: Stats };
    cases[name] = res;
    const s = res.stats;
    metrics[`${name}.p50_us`] = s.p50;
    metrics[`${name}.p99_us`] = s.p99;
    metrics[`${name}.p999_us`] = s.p999;
    metrics[`${name}.answered_frac`] = res.answered / s.n;
    const f = (v: number, w = 8): string => v.toFixed(2).padStart(w);
    const ratio = res.baseline ? `${(s.p50 / res.baseline.p50).toFixed(1)}x (native ${res.baseline.p50.toFixed(2)} µs here)` : '';
    console.log(`${name.padEnd(28)} ${String(s.n).padStart(7)} ${f(s.p50)} ${f(s.p99)} ${f(s.p999, 9)} ${f(s.mean)} ${String(res.answered).padStart(9)} ${String(res.quotes).padStart(7)}  ${ratio}`);
  }
  const doc = { bench: 'tick-to-quote', metrics, date: new Date().toISOString(), machine, loadAverageAtStart: load, file: path.basename(file), model: modelNote, unit: 'µs', cases };
  fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
  fs.writeFileSync(RESULTS, JSON.stringify(doc, null, 2) + '\n');
  console.log(`results: ${path.relative(ROOT, RESULTS)}${fs.existsSync(BUDGETS) ? '; budgets: bench/budgets.json (tick-to-quote.*)' : ''}`);
}

runBench(child, parent);
