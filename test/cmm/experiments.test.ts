// The experiment runner on a tiny generated market with a random student bank (no teacher): well-formed tables,
// JSON and PNGs for main, robustness, data efficiency and latency (no assertion on which strategy wins); the chart
// helpers; and `cmm demo` on the bundled fixtures (skipped, with the reason, when the teacher model is missing).
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CMM_VARIANTS } from '../../src/strategies/cmm';
import {
  ExperimentOptions, MarketSpec, defaultExperimentOptions, rankTable, runDataEfficiency, runLatency, runMain, runRobustness, averageRanks, teacherDatasetOptions, textTable,
} from '../../src/cmm/experiments';
import { randomStudentSet } from '../../src/cmm/experiment-models';
import { asciiLabel, drawBarPanel, drawHistogramPanel, drawLinePanel, panelsPng } from '../../src/cmm/experiment-charts';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-exp-test-'));
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

function options(over: Partial<ExperimentOptions> = {}): ExperimentOptions {
  return {
    ...defaultExperimentOptions(ROOT), cacheDir: path.join(TMP, 'cache'), outDir: path.join(TMP, 'results'), generated: true, generatedMinutes: 5,
    episodes: 3, rlEpochs: 1, skews: [1, 4], latencyDecisions: 30, studentsOverride: randomStudentSet(7), noTeacher: true, dataDir: path.join(TMP, 'no-data'), ...over,
  };
}

const TINY: MarketSpec = { name: 'gen_tiny_s4', kind: 'generated', generate: { minutes: 5, regime: 'switching', trend: 'sideways', seed: 4 }, description: 'tiny generated market' };

function isPng(file: string): boolean {
  const b = fs.readFileSync(file);
  return PNG_SIGNATURE.every((v, i) => b[i] === v);
}

test('main: every baseline and CMM variant on the test split, well-formed rows, tables, JSON and PNGs', async () => {
  const o = options();
  const r = await runMain(o, [TINY]);
  const markets = r.result.markets as { strategies: { name: string; stats: Record<string, { mean: number; std: number }>; episodes: unknown[]; cmm?: { counters: Record<string, number> } }[]; skipped: Record<string, string>; episodes: number; testStartS: number; validationStartS: number }[];
  assert.equal(markets.length, 1);
  const m = markets[0];
  const names = m.strategies.map((s) => s.name);
  assert.deepEqual(names, ['fixed', 'as', 'rl', 'cmm', 'student', 'kd']);
  assert.match(m.skipped.teacher, /teacher/);
  assert.ok(m.validationStartS < m.testStartS);
  for (const s of m.strategies) {
    assert.equal(s.episodes.length, m.episodes);
    for (const k of ['epnl', 'map', 'pnlMap', 'rpt', 'sharpe', 'maxDrawdown', 'fills', 'quotedTime']) {
      assert.ok(Number.isFinite(s.stats[k].mean) && s.stats[k].std >= 0, `${s.name}.${k}`);
    }
  }
  for (const v of ['cmm', 'student', 'kd']) assert.ok(m.strategies.find((s) => s.name === v)!.cmm!.counters.decisions > 0, v);
  assert.match(r.text, /strategy\s+EPnL\s+MAP\s+PnLMAP\s+RPT\s+Sharpe\s+MaxDD\s+Fills\s+Quoted/);
  assert.match(r.text, /skipped teacher:/);
  const files = r.files.map((f) => path.basename(f)).sort();
  assert.deepEqual(files, ['main-curves.png', 'main.json', 'main.png']);
  for (const f of r.files.filter((x) => x.endsWith('.png'))) assert.ok(isPng(f), f);
  const json = JSON.parse(fs.readFileSync(r.files.find((f) => f.endsWith('.json'))!, 'utf8'));
  assert.equal(json.experiment, 'main');
  assert.equal(json.markets[0].strategies.length, 6);
});

test('robustness: the injected crash lies in the test split, its episode is reported, segments are tabulated', async () => {
  const o = options();
  const r = await runRobustness(o, { replayBases: [], generated: [TINY] });
  const sc = r.result.scenarios as { scenario: string; eventEpisode: number | null; segments: string[]; midMoves: number[] }[];
  assert.deepEqual(sc.map((s) => s.scenario), ['gen_tiny_s4', 'gen_tiny_s4_crash']);
  assert.equal(sc[0].eventEpisode, null);
  assert.ok(sc[1].eventEpisode !== null && sc[1].eventEpisode >= 0);
  for (const s of sc) for (const seg of s.segments) assert.ok(['bull', 'bear', 'sideways'].includes(seg));
  for (const s of sc) assert.ok(s.midMoves.length === s.segments.length && s.midMoves.every(Number.isFinite), `${s.scenario} mid moves`);
  assert.match(r.text, /Episode holding the injected event/);
  assert.match(r.text, /segment\s+fixed/);
  assert.ok(r.files.some((f) => f.endsWith('robustness-events.png') && isPng(f)));
});

test('data efficiency and latency produce their tables (random students: shape only, no claim)', async () => {
  const o = options({ fractions: [0.5, 1] });
  const d = await runDataEfficiency(o, [TINY]);
  const m = (d.result.markets as { fractions: { fraction: number; strategies: Record<string, unknown> }[] }[])[0];
  assert.deepEqual(m.fractions.map((f) => f.fraction), [0.5, 1]);
  for (const f of m.fractions) assert.deepEqual(Object.keys(f.strategies).sort(), ['cmm', 'kd', 'student']);
  assert.match(d.text, /fraction\s+cmm EPnL/);
  const l = await runLatency(o, [TINY]);
  const timings = l.result.timings as { model: string; runtime: string; latencyUs: { p50: number; p99: number }; energySource: string; energyUjPerDecision: number }[];
  assert.ok(timings.length >= 1);
  assert.ok(timings[0].latencyUs.p50 > 0 && timings[0].latencyUs.p99 >= timings[0].latencyUs.p50);
  assert.ok(timings[0].energyUjPerDecision > 0);
  assert.ok(['rapl', 'estimate'].includes(timings[0].energySource));
  assert.match(l.text, /teacher \/ students ratio: not available/);
  assert.ok(l.files.some((f) => f.endsWith('latency.png') && isPng(f)));
});

test('tables and charts: aligned text, ranks by mean EPnL, PNG panels of every kind', () => {
  const t = textTable([['a', 'bb'], ['ccc', 'd']]);
  assert.deepEqual(t.split('\n'), ['a    bb', 'ccc   d']);
  const row = (name: string, epnl: number) => ({ name, params: {}, episodes: [], lifecycle: {}, stats: Object.fromEntries(['epnl', 'map', 'pnlMap', 'rpt', 'sharpe', 'maxDrawdown', 'fills', 'quotedTime', 'volume', 'fees'].map((k) => [k, { mean: k === 'pnlMap' ? -epnl : epnl, std: 0 }])) });
  const fake = (strategies: ReturnType<typeof row>[]) => ({ strategies }) as unknown as Parameters<typeof rankTable>[0][number];
  const rank = rankTable([fake([row('a', 0), row('b', -1), row('c', 2)]), fake([row('a', 1), row('b', 0), row('c', NaN)]), fake([row('a', 0), row('b', 0), row('c', 0)])]);
  assert.deepEqual(rank.rows.map((r) => [r.strategy, r.meanRank, r.wins]), [['a', 1.6666666666666667, 1], ['c', 2, 1], ['b', 2.3333333333333335, 0]]);
  assert.deepEqual(averageRanks([3, 1, 3, NaN]), [1.5, 3, 1.5, 4]);
  const png = panelsPng([
    (c, x, y, w, h) => drawBarPanel(c, 'bars', 'y', [{ label: 'g', bars: [{ name: 'p', mean: 1, std: 0.5 }, { name: 'q', mean: NaN, std: NaN }] }], x, y, w, h),
    (c, x, y, w, h) => drawLinePanel(c, 'lines', 'x', 'y', [{ name: 's', x: [10, 20, 50, 100], y: [1, 2, NaN, 3], err: [0.1, 0.2, 0, 0.3] }], x, y, w, h, true),
    (c, x, y, w, h) => drawHistogramPanel(c, 'hist', 'µs', [{ name: 'a', values: [1, 2, 3, 100] }, { name: 'b', values: [] }], x, y, w, h),
  ], 3, 300, 200);
  assert.deepEqual(Array.from(png.subarray(0, 4)), PNG_SIGNATURE);
  assert.ok(CMM_VARIANTS.length === 4);
  assert.equal(asciiLabel('Hájek R² µs — a; b ± c'), 'Hajek R2 us - a, b ± c');
});

test('the dataset horizon and grid follow the teacher manifest\'s data description', () => {
  const data = 'binance.usdm:BTCUSDT (x.cmmlog, 5 events); horizon 1 seconds, grid every 0.05 seconds, window T 32 × F 13';
  assert.deepEqual(teacherDatasetOptions({ training: { data } }), { horizon: 1, horizonUnit: 'seconds', every: 0.05, everyUnit: 'seconds' });
  assert.deepEqual(teacherDatasetOptions({ training: { data: 'horizon 50 events, grid every 10 events' } }), { horizon: 50, horizonUnit: 'events', every: 10, everyUnit: 'events' });
  assert.deepEqual(teacherDatasetOptions(null), {});
});

test('cmm demo runs end to end on the bundled fixtures', (t) => {
  if (!fs.existsSync(path.join(ROOT, 'models', 'teacher', 'manifest.json'))) {
    t.skip('models/teacher is missing (scripts/train-models.sh trains it): the demo would skip its probe, students and CMM strategies');
    return;
  }
  const out = path.join(TMP, 'demo');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'src', 'cli', 'cmm.js'), 'demo', '--quick', '-o', out, '--cache', path.join(TMP, 'demo-cache')], { encoding: 'utf8', maxBuffer: 1 << 26, cwd: ROOT });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  for (const step of ['1. import', '2. replay summary', '3. CMM dataset', '4. fluorescent probe', '5. students', '6. backtest', '7. result']) assert.ok(r.stdout.includes(step), step);
  assert.match(r.stdout, /MAIN RESULT/);
  assert.match(r.stdout, /\ncmm +-?\d/, 'the CMM row is in the table');
  for (const f of ['demo.json', 'demo.png', 'demo-curves.png']) assert.ok(fs.existsSync(path.join(out, f)), f);
});
