// Shared machinery of the CMM experiments (src/cmm/experiments.ts): options, the context that holds the teacher
// and its measured latency, per-market models (students + teacher schedule), one backtest per market with the
// CMM variants beside the baselines, result rows, text tables and output files.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EngineError, expected } from '../errors';
import { parseLatency } from '../backtest/latency';
import { splitByTime } from '../backtest/split';
import { EpisodeMetrics, MeanStd, SummaryKey } from '../backtest/metrics';
import { BacktestResult, StrategyName, runBacktest } from '../backtest/run';
import { reportSeries } from '../backtest/report';
import { BarGroup, LineSeries, drawBarPanel, drawLinePanel, panelsPng } from './experiment-charts';
import { DatasetOptions } from './dataset';
import { DistillOptions } from './distill-run';
import { sampleIndices, teacherWindows } from './dataset-file';
import { TeacherFeatures } from './ofdd';
import type { Teacher } from './teacher/teacher';
import { CMM_VARIANTS, CmmStrategy, CmmVariant } from '../strategies/cmm';
import {
  CmmCalibration, LatencyStats, PreparedMarket, StudentSet, bundledStudents, cmmExtraStrategy, distillMarket, teacherFeaturesFor, teacherKey,
  teacherLatency, teacherSchedule, variantSources,
} from './experiment-models';

export interface ExperimentOptions {
  /** Real recordings (../shared/data). */
  dataDir: string;
  /** results/ */
  outDir: string;
  /** Imported / generated logs, datasets and distilled students are cached here. */
  cacheDir: string;
  teacherDir: string;
  studentsDir: string;
  /** 'distill': students distilled per market from the teacher on its train split; 'bundled': models/students. */
  students: 'distill' | 'bundled';
  /** Comma-separated market names or prefixes (default: all). */
  markets?: string;
  /** Include generated markets (default true) and their length in minutes (default 30). */
  generated: boolean;
  generatedMinutes: number;
  seed: number;
  /** Test episodes per market (fewer when the test split is short). */
  episodes: number;
  /** The teacher-driven strategy decides at most every N grid points (and never before its last answer). */
  teacherEvery: number;
  rlEpochs: number;
  rlModelDir: string;
  dataset: DatasetOptions;
  distill: DistillOptions;
  /** γ skews and size multiples searched on the validation period. */
  skews?: number[];
  sizeMults?: number[];
  /** Data efficiency: fractions of the training split. */
  fractions: number[];
  /** Latency: decisions timed per model. */
  latencyDecisions: number;
  /** Energy estimate when RAPL is not readable: watts per fully busy core (stated as an assumption). */
  wattsPerCore: number;
  /** Progress lines (stderr). */
  log: (line: string) => void;
  /** Tests: use this student set everywhere (e.g. randomStudentSet) instead of distilling or loading. */
  studentsOverride?: StudentSet;
  /** Tests: run without the teacher even when one exists. */
  noTeacher?: boolean;
}

export function defaultExperimentOptions(root = process.cwd()): ExperimentOptions {
  return {
    dataDir: path.resolve(root, '..', 'shared', 'data'), outDir: path.resolve(root, 'results'),
    cacheDir: path.join(os.tmpdir(), 'cmm-experiment-cache'),
    teacherDir: path.resolve(root, 'models', 'teacher'), studentsDir: path.resolve(root, 'models', 'students'),
    students: 'distill', generated: true, generatedMinutes: 30, seed: 1, episodes: 8, teacherEvery: 1, rlEpochs: 30,
    rlModelDir: path.resolve(root, 'models', 'rl-mm'), dataset: {}, distill: {}, fractions: [0.1, 0.2, 0.5, 1],
    latencyDecisions: 2000, wattsPerCore: 10, log: () => undefined,
  };
}

/** Everything shared across the markets of one experiment run. */
export class ExperimentContext {
  teacher: Teacher | null = null;
  teacherManifest: Record<string, unknown> | null = null;
  teacherMissing = '';
  /** sha256 of the teacher's manifest when it was loaded (cache key of everything distilled from it). */
  teacherSha = 'none';
  /** Per-window latency of the teacher at batch 1 (µs), measured once on the first market. */
  teacherLatency: LatencyStats | null = null;
  private readonly features = new Map<string, TeacherFeatures>();

  private constructor(readonly o: ExperimentOptions) {}

  static async open(o: ExperimentOptions): Promise<ExperimentContext> {
    const ctx = new ExperimentContext(o);
    fs.mkdirSync(o.cacheDir, { recursive: true });
    if (o.noTeacher) ctx.teacherMissing = 'teacher disabled for this run';
    else if (!fs.existsSync(path.join(o.teacherDir, 'manifest.json'))) ctx.teacherMissing = `no teacher model in ${o.teacherDir} (manifest.json missing)`;
    else {
      const { loadTeacher } = await import('./teacher/manifest');
      const { teacher, manifest } = await loadTeacher(o.teacherDir);
      ctx.teacher = teacher;
      ctx.teacherManifest = manifest as unknown as Record<string, unknown>;
      ctx.teacherSha = teacherKey(o.teacherDir);
    }
    return ctx;
  }

  log(line: string): void {
    this.o.log(line);
  }

  /**
   * Dataset options: the horizon and grid the teacher was trained with (read from its manifest's data
   * description), its window length, then whatever the caller set explicitly.
   */
  datasetOptions(): DatasetOptions {
    return { ...teacherDatasetOptions(this.teacherManifest), ...this.o.dataset, window: this.teacher?.inputSpec.T ?? this.o.dataset.window };
  }

  async teacherFeatures(pm: PreparedMarket): Promise<TeacherFeatures | null> {
    if (!this.teacher) return null;
    const key = `${pm.spec.name}:${pm.ds.header.createdAt}`;
    let tf = this.features.get(key);
    if (!tf) {
      const t0 = Date.now();
      let last = 0;
      tf = await teacherFeaturesFor(pm, this.teacher, (done, total) => {
        if (Date.now() - last > 2000) {
          last = Date.now();
          this.log(`${pm.spec.name}: teacher ${done}/${total} windows`);
        }
      });
      this.log(`${pm.spec.name}: teacher features for ${pm.ds.header.samples} windows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      this.features.clear(); // one market's features at a time (they are large)
      this.features.set(key, tf);
    }
    if (!this.teacherLatency) {
      const rows = sampleIndices(pm.ds, 'test').slice(0, 256);
      this.teacherLatency = await teacherLatency(this.teacher, teacherWindows(pm.ds, rows), 200);
      this.log(`teacher latency per decision (batch 1, onnxruntime): p50 ${this.teacherLatency.p50.toFixed(0)} µs, p99 ${this.teacherLatency.p99.toFixed(0)} µs`);
    }
    return tf;
  }

  /**
   * When the teacher was trained on this very instrument (its manifest names it), its training data must end
   * before the market's validation period: E_CONFIG otherwise (the test split would not be held out from the
   * teacher). Returns a note saying what was checked, or '' when the teacher never saw this market.
   */
  teacherSaw(pm: PreparedMarket): string {
    const m = this.teacherManifest as { training?: { data?: string; split?: { validation?: { timeTo?: number } } } } | null;
    const data = m?.training?.data ?? '';
    const i = pm.tape.instrument;
    if (!data.includes(`${i.venue}:${i.symbol}`)) return '';
    const until = m?.training?.split?.validation?.timeTo;
    const valStart = pm.source.splitTimes.validation?.[0];
    if (typeof until !== 'number' || valStart === undefined || !(valStart > until)) {
      throw new EngineError('E_CONFIG', `${pm.spec.name}: the teacher was trained on ${i.venue}:${i.symbol} data up to ${until} ns, not before this market's validation period (${valStart} ns): its test split would not be held out`);
    }
    return `the teacher was trained on this instrument's data up to ${new Date(until / 1e6).toISOString()}, before the validation period (${new Date(valStart / 1e6).toISOString()}): the test split is unseen`;
  }

  /** A saved RL policy (models/rl-mm) for this market whose training ended before the test split, if any. */
  rlPolicy(name: string, instrument: string, testStartNs: number): { file: string; note: string } | undefined {
    const mf = path.join(this.o.rlModelDir, 'manifest.json');
    if (!fs.existsSync(mf)) return undefined;
    try {
      const m = JSON.parse(fs.readFileSync(mf, 'utf8')) as { models: { dataset: string; file: string; instrument: string; split: { trainEndNs: number } }[] };
      const e = m.models.find((x) => x.dataset === name && x.instrument === instrument);
      if (!e || !(e.split.trainEndNs <= testStartNs)) return undefined;
      const file = path.join(this.o.rlModelDir, e.file);
      return fs.existsSync(file) ? { file, note: `saved policy ${path.basename(file)} (trained on [0, ${(e.split.trainEndNs / 1e9).toFixed(1)} s), before the test split)` } : undefined;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.teacher?.dispose?.();
    this.teacher = null;
  }
}

/** Horizon and grid from a teacher manifest's data description ("horizon 1 seconds, grid every 0.05 seconds"). */
export function teacherDatasetOptions(manifest: Record<string, unknown> | null): DatasetOptions {
  const data = (manifest?.training as { data?: string } | undefined)?.data ?? '';
  const m = /horizon ([0-9.]+) (events|seconds), grid every ([0-9.]+) (events|seconds)/.exec(data);
  if (!m) return {};
  return { horizon: Number(m[1]), horizonUnit: m[2] as 'events' | 'seconds', every: Number(m[3]), everyUnit: m[4] as 'events' | 'seconds' };
}

export interface MarketModels {
  students: StudentSet | null;
  teacherSched: ReturnType<typeof teacherSchedule> | null;
  notes: string[];
}

export interface ModelChoice {
  /** Fraction of the training split the students are distilled on (default 1). */
  frac?: number;
  /** Build the teacher-driven schedule (default true). */
  withTeacher?: boolean;
  /** Use these students (e.g. the clean base market's for an injected replay) instead of distilling here. */
  students?: StudentSet | null;
}

/** Students (distilled here on the market's train split, bundled, or the test override) and the teacher's schedule. */
export async function marketModels(ctx: ExperimentContext, pm: PreparedMarket, choice: ModelChoice = {}): Promise<MarketModels> {
  const o = ctx.o, notes: string[] = [];
  const seen = ctx.teacherSaw(pm);
  if (seen) notes.push(seen);
  const frac = choice.frac ?? 1, withTeacher = choice.withTeacher ?? true;
  const tf = await ctx.teacherFeatures(pm);
  let students: StudentSet | null = null;
  if (choice.students !== undefined) students = choice.students;
  else if (o.studentsOverride) students = o.studentsOverride;
  else if (o.students === 'bundled') {
    students = bundledStudents(o.studentsDir);
    if (!students) notes.push(`no bundled students in ${o.studentsDir}: CMM, no-distillation and plain-KD strategies skipped`);
  } else if (tf) {
    const t0 = Date.now();
    ctx.log(`${pm.spec.name}: distilling students (data fraction ${frac}) from the teacher on the train split`);
    students = distillMarket(pm, tf, ctx.teacherSha, o.cacheDir, { ...o.distill, dataFrac: frac, seed: o.seed }, (l) => ctx.log(l));
    ctx.log(`${pm.spec.name}: students ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${students.origin})`);
  } else notes.push(`students not distilled: ${ctx.teacherMissing}`);
  let teacherSched: MarketModels['teacherSched'] = null;
  if (withTeacher && tf && ctx.teacherLatency) {
    const latNs = ctx.teacherLatency.p50 * 1000;
    const maxAgeNs = Math.max(1e9, 2 * pm.horizonSeconds * 1e9);
    teacherSched = teacherSchedule(pm, tf.heads, latNs, o.teacherEvery, maxAgeNs);
  } else if (withTeacher) notes.push(`teacher-driven strategy skipped: ${ctx.teacherMissing || 'no teacher features'}`);
  return { students, teacherSched, notes };
}

/** One test episode's row in the results file. */
export type EpisodeRow = Pick<EpisodeMetrics, 'episode' | 'epnl' | 'map' | 'pnlMap' | 'rpt' | 'sharpe' | 'maxDrawdown' | 'fills' | 'quotedTime' | 'finalPosition'>;

export interface StrategyRow {
  name: string;
  params: Record<string, unknown>;
  stats: Record<SummaryKey, MeanStd>;
  episodes: EpisodeRow[];
  /** Simulator lifecycle transitions summed over episodes. */
  lifecycle: Record<string, number>;
  /** CMM variants: decision counters and the strategy's own state-machine transitions, summed over episodes. */
  cmm?: { counters: Record<string, number>; lifecycle: Record<string, number>; firstTransitions: { atS: number; from: string; to: string; reason: string }[] };
}

export interface MarketResult {
  market: string;
  description: string;
  kind: string;
  instrument: string;
  bookType: string;
  events: number;
  spanSeconds: number;
  /** Tape seconds: validation (CMM calibration) period and the test split. */
  validationStartS: number;
  testStartS: number;
  episodes: number;
  episodeSeconds: number;
  horizonSeconds: number;
  orderQty: number;
  models: { students: string; teacher: string; teacherDecisions?: number; teacherLatencyUs?: number; rl: string };
  skipped: Record<string, string>;
  calibrations: Partial<Record<CmmVariant, CmmCalibration>>;
  strategies: StrategyRow[];
  notes: string[];
  seconds: number;
}

const EPISODE_KEYS = ['epnl', 'map', 'pnlMap', 'rpt', 'sharpe', 'maxDrawdown', 'fills', 'quotedTime', 'finalPosition'] as const;

export interface EvaluateOptions {
  baselines: StrategyName[];
  variants: CmmVariant[];
  episodes?: number;
}

/** One backtest of a market: the baselines and the CMM variants on the same test episodes. */
export function evaluateMarket(ctx: ExperimentContext, pm: PreparedMarket, models: MarketModels, eo: EvaluateOptions): { result: MarketResult; backtest: BacktestResult } {
  const o = ctx.o, t0 = Date.now();
  const tape = pm.tape;
  const { sources, missing } = variantSources(models.students, models.teacherSched?.source ?? null);
  if (models.teacherSched === null && ctx.teacherMissing) missing.teacher = ctx.teacherMissing;
  const calibrations: MarketResult['calibrations'] = {};
  const built: Partial<Record<CmmVariant, CmmStrategy>> = {};
  const extra = eo.variants.filter((v) => sources[v]).map((v) => cmmExtraStrategy(v, sources[v]!, pm, { skews: o.skews, sizeMults: o.sizeMults, calibrations, built }));
  const skipped: Record<string, string> = {};
  for (const v of eo.variants) if (!sources[v]) skipped[v] = missing[v] ?? 'no model';
  // The test split exactly as runBacktest will cut it (floating point may move the cut by a few ns).
  const split = splitByTime(tape.firstNs, tape.lastNs, pm.trainFrac);
  const testSpan = split.testEndNs - split.testStartNs;
  const episodes = Math.max(1, Math.min(eo.episodes ?? o.episodes, Math.floor(testSpan / 1e9)));
  const episodeLenNs = Math.floor(testSpan / episodes) - 1;
  if (!(episodeLenNs > 0)) throw new EngineError('E_BAD_INPUT', `${pm.spec.name}: the test split spans no time`);
  // An injected market shares its clean base's training data: the base's saved policy applies to it too.
  const policy = eo.baselines.includes('rl') ? ctx.rlPolicy(pm.spec.base?.name ?? pm.spec.name, tape.instrument.symbol, pm.testStartNs) : undefined;
  ctx.log(`${pm.spec.name}: backtest ${[...eo.baselines, ...extra.map((x) => x.name)].join(', ')} on ${episodes} test episodes of ${(episodeLenNs / 1e9).toFixed(1)} s` +
    (eo.baselines.includes('rl') ? (policy ? ` (RL: ${policy.note})` : ` (RL: training ${o.rlEpochs} epochs on the training split)`) : ''));
  const bt = runBacktest({
    tape, dataset: pm.spec.name, strategies: eo.baselines, extra, episodeLenNs, episodes, seed: o.seed, trainFrac: pm.trainFrac,
    fees: { makerBps: 0, takerBps: 2 },
    queue: { model: tape.instrument.bookType === 'L3' ? 'fifo' : 'prob-power' },
    latency: { feed: parseLatency('0'), entry: parseLatency('1ms'), response: parseLatency('1ms') },
    risk: { maxOrdersPerSecond: 200 },
    stepNs: Math.min(1e9, Math.max(1e6, Math.floor(episodeLenNs / 50))), warmupNs: 0,
    rl: { epochs: o.rlEpochs, save: false, policyFile: policy?.file },
  });
  const strategies: StrategyRow[] = bt.strategies.map((s) => {
    const lifecycle: Record<string, number> = {};
    for (const l of s.lifecycle) for (const [k, v] of Object.entries(l.counts)) lifecycle[k] = (lifecycle[k] ?? 0) + v;
    const cs = built[s.name as CmmVariant];
    let cmm: StrategyRow['cmm'];
    if (cs) {
      const own: Record<string, number> = {};
      for (const l of cs.lifecycles) for (const [k, v] of Object.entries(l.counts)) own[k] = (own[k] ?? 0) + v;
      const first = cs.lifecycles.flatMap((l) => l.transitions).slice(0, 12).map((t) => ({ atS: t.atNs / 1e9, from: t.from, to: t.to, reason: t.reason }));
      cmm = { counters: { ...cs.counters }, lifecycle: own, firstTransitions: first };
    }
    return {
      name: s.name, params: s.params, stats: s.summary.stats, lifecycle, cmm,
      episodes: s.episodes.map((e) => Object.fromEntries([['episode', e.episode], ...EPISODE_KEYS.map((k) => [k, e[k]])]) as unknown as EpisodeRow),
    };
  });
  const i = tape.instrument;
  const result: MarketResult = {
    market: pm.spec.name, description: pm.spec.description, kind: pm.spec.kind, instrument: `${i.venue}:${i.symbol}`, bookType: i.bookType,
    events: tape.count, spanSeconds: (tape.lastNs - tape.firstNs) / 1e9, validationStartS: pm.validationStartNs / 1e9, testStartS: pm.testStartNs / 1e9,
    episodes, episodeSeconds: episodeLenNs / 1e9, horizonSeconds: pm.horizonSeconds, orderQty: bt.config.orderQty,
    models: {
      students: models.students?.origin ?? 'none', teacher: ctx.teacher ? `${ctx.teacher.name}` : `none (${ctx.teacherMissing})`,
      teacherDecisions: models.teacherSched?.decisions, teacherLatencyUs: ctx.teacherLatency?.p50,
      rl: !eo.baselines.includes('rl') ? 'not run' : policy ? policy.note : `trained here (${o.rlEpochs} epochs, training split)`,
    },
    skipped, calibrations, strategies, notes: [...models.notes, ...(models.students?.notes ?? [])], seconds: (Date.now() - t0) / 1000,
  };
  return { result, backtest: bt };
}

// ---- tables -------------------------------------------------------------------------------------------

export const fmtNum = (v: number): string => {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'n/a' : String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return v.toFixed(a >= 100 ? 1 : a >= 1 ? 3 : 4);
};

export const meanStdText = (s: MeanStd): string => `${fmtNum(s.mean)} ± ${fmtNum(s.std)}`;

/** Left-aligned first column, right-aligned others. */
export function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

export const TABLE_COLUMNS: [string, SummaryKey][] = [
  ['EPnL', 'epnl'], ['MAP', 'map'], ['PnLMAP', 'pnlMap'], ['RPT', 'rpt'], ['Sharpe', 'sharpe'], ['MaxDD', 'maxDrawdown'], ['Fills', 'fills'], ['Quoted', 'quotedTime'],
];

export function strategyTable(rows: StrategyRow[], cols = TABLE_COLUMNS): string {
  const out = [['strategy', ...cols.map((c) => c[0])]];
  for (const s of rows) out.push([s.name, ...cols.map(([, k]) => meanStdText(s.stats[k]))]);
  return textTable(out);
}

export function marketHeader(r: MarketResult): string {
  return `${r.market} — ${r.description}\n  ${r.instrument} ${r.bookType}, ${r.events} events over ${r.spanSeconds.toFixed(1)} s; CMM calibration ${r.validationStartS.toFixed(1)}–${r.testStartS.toFixed(1)} s, ` +
    `test ${r.episodes} × ${r.episodeSeconds.toFixed(1)} s from ${r.testStartS.toFixed(1)} s; quote size ${r.orderQty} lots; τ_h ${r.horizonSeconds.toFixed(3)} s\n` +
    `  students: ${r.models.students}; teacher: ${r.models.teacher}${r.models.teacherDecisions !== undefined ? ` (${r.models.teacherDecisions} decisions, answer usable ${fmtNum(r.models.teacherLatencyUs ?? NaN)} µs after each)` : ''}; RL: ${r.models.rl}` +
    Object.entries(r.skipped).map(([k, v]) => `\n  skipped ${k}: ${v}`).join('') + r.notes.map((n) => `\n  note: ${n}`).join('');
}

/** Ranks (1 = highest) of values, ties sharing their average rank; NaN ranks last. */
export function averageRanks(values: number[]): number[] {
  const v = values.map((x) => (Number.isFinite(x) ? x : -Infinity));
  const order = v.map((_, i) => i).sort((a, b) => v[b] - v[a]);
  const ranks = new Array<number>(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** Across markets: mean rank by mean EPnL and by mean PnLMAP (1 = best, ties share) and markets won outright. */
export function rankTable(results: MarketResult[]): { table: string; rows: { strategy: string; markets: number; wins: number; meanRank: number; meanPnlMapRank: number }[] } {
  const names = [...new Set(results.flatMap((r) => r.strategies.map((s) => s.name)))];
  const acc = new Map(names.map((n) => [n, { markets: 0, wins: 0, rank: 0, prank: 0 }]));
  for (const r of results) {
    const e = averageRanks(r.strategies.map((s) => s.stats.epnl.mean));
    const p = averageRanks(r.strategies.map((s) => s.stats.pnlMap.mean));
    r.strategies.forEach((s, i) => {
      const a = acc.get(s.name)!;
      a.markets++;
      a.rank += e[i];
      a.prank += p[i];
      if (e[i] === 1) a.wins++;
    });
  }
  const rows = names.map((n) => {
    const a = acc.get(n)!;
    return { strategy: n, markets: a.markets, wins: a.wins, meanRank: a.rank / Math.max(1, a.markets), meanPnlMapRank: a.prank / Math.max(1, a.markets) };
  }).sort((a, b) => a.meanRank - b.meanRank);
  const table = textTable([['strategy', 'markets', 'best EPnL (alone)', 'mean EPnL rank', 'mean PnLMAP rank'], ...rows.map((r) => [r.strategy, String(r.markets), String(r.wins), r.meanRank.toFixed(2), r.meanPnlMapRank.toFixed(2)])]);
  return { table, rows };
}

/** Writes results/<name>.json (non-finite numbers as null) and the PNGs; returns the paths. */
export function writeResults(outDir: string, name: string, json: unknown, pngs: Record<string, Uint8Array>): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const jf = path.join(outDir, `${name}.json`);
  fs.writeFileSync(jf, JSON.stringify(json, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
  files.push(jf);
  for (const [file, bytes] of Object.entries(pngs)) {
    const p = path.join(outDir, file);
    fs.writeFileSync(p, bytes);
    files.push(p);
  }
  return files;
}

export function checkVariants(v: string[]): CmmVariant[] {
  for (const x of v) if (!(CMM_VARIANTS as readonly string[]).includes(x)) throw expected(CMM_VARIANTS.join(', '), 'variant', x);
  return v as CmmVariant[];
}


export interface ExperimentOutput {
  /** What --json prints and results/<name>.json holds. */
  result: Record<string, unknown>;
  /** The tables as text. */
  text: string;
  files: string[];
}

/** PnL-curve and EPnL-bar panels of one market (drawn later; the backtest itself is not kept). */
export interface MarketPictures {
  bars: BarGroup;
  curves: LineSeries[];
  title: string;
}

export function marketPictures(r: MarketResult, bt: BacktestResult, title = r.market): MarketPictures {
  const { pnl } = reportSeries(bt);
  return {
    title,
    bars: { label: 'test episodes', bars: r.strategies.map((s) => ({ name: s.name, mean: s.stats.epnl.mean, std: s.stats.epnl.std })) },
    curves: pnl.map((s) => ({ name: s.name, x: s.x, y: s.y })),
  };
}

export function picturesPng(pics: MarketPictures[], what: 'bars' | 'curves', subtitle: string): Uint8Array {
  return panelsPng(pics.map((p) => (c, x, y, w, h) => {
    if (what === 'bars') drawBarPanel(c, `${p.title}: EPnL (mean, std)`, 'EPnL', [p.bars], x, y, w, h);
    else drawLinePanel(c, `${p.title}: cumulative PnL`, 'seconds into the test split', 'PnL', p.curves, x, y, w, h);
  }), 2, 800, 380, subtitle);
}
