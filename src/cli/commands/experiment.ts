// `cmm experiment <main|robustness|data-efficiency|latency>`: the four CMM experiments of ../shared/design/cmm.md,
// printed as text tables (and JSON with --json), written to results/<experiment>.json + PNGs. Progress on stderr.
import * as path from 'path';
import { flagBool, flagNumber, flagString, parseArgs } from '../args';
import { EngineError, expected } from '../../errors';
import { EXPERIMENTS, defaultExperimentOptions, runExperiment } from '../../cmm/experiments';

export const usage = `experiment <main|robustness|data-efficiency|latency> [--data DIR] [--json] [-o results/] [options]   CMM experiments (tables + PNGs)
  main              CMM (students + Hájek-MoE) vs no-distillation students, plain KD, teacher-driven, Avellaneda–Stoikov,
                    fixed spread and RL on every real data set in --data and on generated markets; mean ± std over
                    the test-split episodes
  robustness        flash crash and trend reversal injected into replayed and generated markets (test split only);
                    bull / bear / sideways markets and episodes
  data-efficiency   students distilled from 10/20/50/100 % of the training split, backtested on the same test split
  latency           per-decision latency p50/p99 and energy of students+MoE (native, onnxruntime) vs the teacher
  --data DIR        real recordings (default ../shared/data); imported with cmm import into --cache
  -o, --out DIR     results folder (default results/): <experiment>.json and .png files
  --cache DIR       imported logs, datasets and distilled students (default: <tmp>/cmm-experiment-cache)
  --markets A,B     market names or prefixes (e.g. lobster_msft,gen_); default: every one the experiment uses
  --teacher DIR     teacher model folder (default models/teacher)
  --students MODE   distill (default: per market, from the teacher, on its training split) or bundled (models/students)
  --students-dir D  the bundled students folder (default models/students)
  --no-generated    real markets only; --minutes M: length of the generated markets (default 30)
  --episodes N      test episodes per market (default 8; fewer when the test split is short)
  --horizon H --every G   dataset target horizon and decision grid (1s, 0.05s or a number of events; default:
                    what the teacher was trained with, from its manifest)
  --teacher-every N the teacher-driven strategy decides at most every N grid points (default 1; never before its
                    previous answer is out: its measured latency)
  --rl-epochs N     epochs for RL policies trained here (default 30; saved policies in models/rl-mm are used when
                    they were trained before the test split)
  --fractions LIST  data-efficiency fractions (default 0.1,0.2,0.5,1)
  --decisions N     latency: teacher decisions timed (students: 10 × N; default 2000)
  --watts-per-core W  energy estimate when RAPL is not readable (default 10 W per busy core, stated as an estimate)
  --quick           smaller distillation grid (α 3, β 0/1, ≤ 40 epochs) and γ grid: a fast, coarser run
  --seed S          seed of every random draw (default 1)
  --json            print the result object as one JSON line on stdout after the tables`;

const FLAGS = new Set(['horizon', 'every', 'data', 'o', 'out', 'cache', 'markets', 'teacher', 'students', 'students-dir', 'no-generated', 'minutes', 'episodes', 'teacher-every',
  'rl-epochs', 'fractions', 'decisions', 'watts-per-core', 'quick', 'seed', 'json']);

function positiveInt(v: number | undefined, flag: string): number | undefined {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw expected('a positive integer', flag, v);
  return v;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'no-generated', 'quick']);
  for (const k of args.flags.keys()) if (!FLAGS.has(k)) throw new EngineError('E_CONFIG', `unknown option --${k} for cmm experiment (see cmm experiment --help)`);
  const [name, ...rest] = args.positionals;
  if (!name || !(EXPERIMENTS as readonly string[]).includes(name)) throw expected(EXPERIMENTS.join(' | '), 'cmm experiment', name ?? 'nothing');
  if (rest.length > 0) throw expected('one experiment name', 'cmm experiment', args.positionals.join(' '));
  const o = defaultExperimentOptions();
  const str = (k: string): string | undefined => flagString(args, k);
  if (str('data')) o.dataDir = path.resolve(str('data')!);
  const out = str('o') ?? str('out');
  if (out) o.outDir = path.resolve(out);
  if (str('cache')) o.cacheDir = path.resolve(str('cache')!);
  if (str('teacher')) o.teacherDir = path.resolve(str('teacher')!);
  if (str('students-dir')) o.studentsDir = path.resolve(str('students-dir')!);
  const mode = str('students');
  if (mode !== undefined) {
    if (mode !== 'distill' && mode !== 'bundled') throw expected('distill or bundled', '--students', mode);
    o.students = mode;
  }
  o.markets = str('markets');
  o.generated = !flagBool(args, 'no-generated');
  const minutes = flagNumber(args, 'minutes');
  if (minutes !== undefined) {
    if (!(minutes >= 5 && minutes <= 600)) throw expected('5 to 600 minutes', '--minutes', minutes);
    o.generatedMinutes = minutes;
  }
  o.episodes = positiveInt(flagNumber(args, 'episodes'), '--episodes') ?? o.episodes;
  o.teacherEvery = positiveInt(flagNumber(args, 'teacher-every'), '--teacher-every') ?? o.teacherEvery;
  o.rlEpochs = positiveInt(flagNumber(args, 'rl-epochs'), '--rl-epochs') ?? o.rlEpochs;
  o.latencyDecisions = positiveInt(flagNumber(args, 'decisions'), '--decisions') ?? o.latencyDecisions;
  o.seed = flagNumber(args, 'seed', o.seed)!;
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw expected('a non-negative integer', '--seed', o.seed);
  const w = flagNumber(args, 'watts-per-core');
  if (w !== undefined) {
    if (!(w > 0 && w < 1000)) throw expected('a power in (0, 1000) W', '--watts-per-core', w);
    o.wattsPerCore = w;
  }
  for (const k of ['horizon', 'every'] as const) {
    const v = str(k);
    if (v === undefined) continue;
    const m = /^([0-9]*\.?[0-9]+)(s?)$/.exec(v.trim());
    if (!m || !(Number(m[1]) > 0)) throw expected('seconds like 1s / 0.05s or a whole number of events', `--${k}`, v);
    const unit = m[2] === 's' ? 'seconds' : 'events';
    if (unit === 'events' && !Number.isInteger(Number(m[1]))) throw expected('a whole number of events (or seconds with an s)', `--${k}`, v);
    if (k === 'horizon') o.dataset = { ...o.dataset, horizon: Number(m[1]), horizonUnit: unit };
    else o.dataset = { ...o.dataset, every: Number(m[1]), everyUnit: unit };
  }
  const fr = str('fractions');
  if (fr !== undefined) {
    const v = fr.split(',').map(Number);
    if (v.length === 0 || v.some((x) => !(x > 0 && x <= 1))) throw expected('fractions in (0, 1], comma-separated', '--fractions', fr);
    o.fractions = v;
  }
  if (flagBool(args, 'quick')) {
    o.distill = { ...o.distill, alphas: [3], betas: [0, 1], training: { maxEpochs: 40 } };
    o.skews = [0.5, 2, 8];
  }
  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  o.log = (line) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const r = await runExperiment(name, o);
  process.stdout.write(`${r.text}\n\nwritten: ${r.files.map((f) => path.relative(process.cwd(), f) || f).join(', ')}\n`);
  if (flagBool(args, 'json')) process.stdout.write(`${JSON.stringify(r.result, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
  return 0;
}
