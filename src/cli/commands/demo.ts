// `cmm demo` (npm run demo): the whole CMM pipeline end to end on BUNDLED data only (test/fixtures + models/), in a
// few minutes on 2 cores: import → replay summary → dataset → probe (bundled teacher) → students → backtest of
// CMM and its baselines on the held-out split → the main result table and PNGs. A step whose model is missing is
// skipped with the reason printed; nothing is faked.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { flagBool, flagString, parseArgs } from '../args';
import { EngineError, expected } from '../../errors';
import { writeReport } from '../../backtest/report';
import { replayFile } from '../../replay/replay';
import { CMM_VARIANTS } from '../../strategies/cmm';
import { formatScoreTable, ScoreTable } from '../../cmm/distill-run';
import { MarketSpec, marketLog } from '../../cmm/experiment-data';
import { bundledStudents, prepareMarket } from '../../cmm/experiment-models';
import {
  ExperimentContext, MarketPictures, MarketResult, defaultExperimentOptions, evaluateMarket, marketHeader, marketModels, marketPictures, picturesPng,
  rankTable, strategyTable, writeResults,
} from '../../cmm/experiment-core';

export const usage = `demo [-o results/demo] [--cache DIR] [--teacher models/teacher] [--students-dir models/students] [--quick] [--json]   CMM end to end on the bundled fixtures
  Runs on test/fixtures (LOBSTER MSFT first 20,000 messages and AMZN full session, best level) and the models shipped
  in models/: import → replay summary → CMM dataset → fluorescent probe of the teacher → students (distilled here
  from the bundled teacher on each fixture's TRAINING split: the bundled students in models/students were trained on
  Binance USD-M data, another market) → backtest of CMM, no-distillation, plain KD, teacher-driven, AS, fixed spread
  and RL on the held-out TEST split → result table, PNGs and an HTML report under -o.
  --quick   one fixture (MSFT) and fewer RL epochs (the test suite uses it)`;

/** The repository root (dist/src/cli/commands → ../../../..). */
function repoRoot(): string {
  return path.resolve(__dirname, '..', '..', '..', '..');
}

function fixtures(root: string, quick: boolean): MarketSpec[] {
  const f = (name: string): string => path.join(root, 'test', 'fixtures', 'lobster', name);
  const all: MarketSpec[] = [
    { name: 'demo_lobster_msft_head20000', kind: 'real', venue: 'lobster', inputs: [f('MSFT_2012-06-21_34200000_37800000_message_50.head20000.csv.gz')], description: 'fixture: LOBSTER MSFT 2012-06-21, first 20,000 messages (L3)' },
    { name: 'demo_lobster_amzn_session', kind: 'real', venue: 'lobster', inputs: [f('AMZN_2012-06-21_34200000_57600000_message_1.with_header.csv.gz')], description: 'fixture: LOBSTER AMZN 2012-06-21 full session (L3 messages)' },
  ];
  return (quick ? all.slice(0, 1) : all).filter((m) => m.inputs!.every((p) => fs.existsSync(p)));
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'quick']);
  for (const k of args.flags.keys()) if (!['o', 'out', 'cache', 'teacher', 'students-dir', 'quick', 'json'].includes(k)) throw new EngineError('E_CONFIG', `unknown option --${k} for cmm demo (see cmm demo --help)`);
  if (args.positionals.length > 0) throw expected('options only', 'cmm demo', args.positionals.join(' '));
  const root = repoRoot();
  const quick = flagBool(args, 'quick');
  const o = defaultExperimentOptions(root);
  o.outDir = path.resolve(flagString(args, 'o') ?? flagString(args, 'out') ?? path.join(root, 'results', 'demo'));
  o.cacheDir = path.resolve(flagString(args, 'cache') ?? path.join(os.tmpdir(), 'cmm-demo-cache'));
  if (flagString(args, 'teacher')) o.teacherDir = path.resolve(flagString(args, 'teacher')!);
  if (flagString(args, 'students-dir')) o.studentsDir = path.resolve(flagString(args, 'students-dir')!);
  o.rlEpochs = quick ? 5 : 15;
  o.episodes = 4;
  o.distill = { alphas: [3], betas: [0, 1], training: { maxEpochs: quick ? 25 : 40 } };
  o.skews = [0.5, 2, 8];
  const started = Date.now();
  const say = (line = ''): void => void process.stdout.write(`${line}\n`);
  const step = (n: number, title: string): void => say(`\n== ${n}. ${title} [${((Date.now() - started) / 1000).toFixed(0)} s]`);
  o.log = (line) => process.stderr.write(`  … ${line}\n`);

  const markets = fixtures(root, quick);
  if (markets.length === 0) throw new EngineError('E_FILE_NOT_FOUND', `no fixture under ${path.join(root, 'test', 'fixtures', 'lobster')}: the demo runs on the bundled fixtures`);
  say(`cmm demo: ${markets.length} bundled fixture(s); results in ${path.relative(process.cwd(), o.outDir) || '.'}`);
  const ctx = await ExperimentContext.open(o);
  const skipped: string[] = [];
  if (!ctx.teacher) skipped.push(`probe, distillation and the teacher-driven strategy: ${ctx.teacherMissing} (run scripts/train-models.sh)`);
  const bundled = bundledStudents(o.studentsDir);
  const results: MarketResult[] = [];
  const pics: MarketPictures[] = [];
  const outputs: string[] = [];
  fs.mkdirSync(o.outDir, { recursive: true });
  try {
    for (const spec of markets) {
      say(`\n##### ${spec.name}: ${spec.description}`);
      step(1, 'import (cmm import lobster)');
      const log = marketLog(spec, o.cacheDir, (l) => o.log(l));
      say(`  ${path.relative(root, spec.inputs![0])} -> ${log}`);
      step(2, 'replay summary');
      const rs = await replayFile(log);
      for (const s of rs.symbols) say(`  ${s.venue}:${s.symbol} ${s.bookType}: ${s.events} events, gaps ${s.gaps}, crossed ${s.crossed}, unknown orders ${s.unknownOrders}${s.stale ? ', STALE at the end' : ''}`);
      step(3, 'CMM dataset (h = 50 events, grid every 10, train/validation/test 60/20/20 by time)');
      const pm = prepareMarket(spec, o.cacheDir, ctx.datasetOptions(), (l) => o.log(l));
      const h = pm.ds.header;
      say(`  ${h.samples} decisions: train ${pm.source.samples.train}, validation ${pm.source.samples.validation}, test ${pm.source.samples.test}; regime cut points (train) ${pm.cuts.map((c) => c.toFixed(2)).join(' / ')} ticks; τ_h ${pm.horizonSeconds.toFixed(2)} s`);
      step(4, 'fluorescent probe of the teacher');
      if (ctx.teacher) {
        const { probeTeacher } = await import('../../cmm/probe');
        const { formatProbeTable, renderProbePng } = await import('../../cmm/probe-report');
        const probe = await probeTeacher(pm.ds, ctx.teacher);
        say(formatProbeTable(probe).split('\n').map((l) => `  ${l}`).join('\n'));
        const pj = path.join(o.outDir, `${spec.name}-probe.json`), pp = path.join(o.outDir, `${spec.name}-probe.png`);
        fs.writeFileSync(pj, JSON.stringify(probe, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
        fs.writeFileSync(pp, renderProbePng(probe));
        outputs.push(pj, pp);
      } else say(`  skipped: ${ctx.teacherMissing}`);
      step(5, 'students (OFDD + Hájek-MoE, no-distillation and plain-KD baselines)');
      if (bundled) say(`  bundled students: ${bundled.origin} — another market, so not used on this fixture`);
      const models = await marketModels(ctx, pm);
      if (models.students) {
        const scores = models.students.scores as ScoreTable | undefined;
        if (scores) say(formatScoreTable(scores, h.tasks, '  TEST-split prediction scores').split('\n').map((l) => `  ${l}`).join('\n'));
      } else say(`  skipped: ${models.notes.join('; ') || 'no students'}`);
      step(6, 'backtest on the held-out test split');
      const { result, backtest } = evaluateMarket(ctx, pm, models, { baselines: ['fixed', 'as', 'rl'], variants: [...CMM_VARIANTS] });
      say(marketHeader(result).split('\n').map((l) => `  ${l}`).join('\n'));
      say(strategyTable(result.strategies));
      results.push(result);
      pics.push(marketPictures(result, backtest));
      outputs.push(...writeReport(backtest, path.join(o.outDir, `${spec.name}-backtest.html`)));
    }
  } finally {
    await ctx.close();
  }
  const ranking = rankTable(results);
  const sub = 'cmm demo on bundled fixtures, test-split episodes only';
  const files = writeResults(o.outDir, 'demo', { experiment: 'demo', createdAt: new Date().toISOString(), skipped, markets: results, ranking: ranking.rows },
    results.length ? { 'demo.png': picturesPng(pics, 'bars', sub), 'demo-curves.png': picturesPng(pics, 'curves', sub) } : {});
  step(7, 'result');
  say(`MAIN RESULT (mean ± std over test episodes; EPnL in USD, MAP in shares):`);
  for (const r of results) say(`\n${r.market}\n${strategyTable(r.strategies)}`);
  say(`\nranking across ${results.length} fixture(s):\n${ranking.table}`);
  for (const s of skipped) say(`skipped: ${s}`);
  say(`\nwritten: ${[...files, ...outputs].map((f) => path.relative(process.cwd(), f) || f).join(', ')}`);
  say(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (flagBool(args, 'json')) process.stdout.write(`${JSON.stringify({ skipped, markets: results, files: [...files, ...outputs] }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))}\n`);
  return 0;
}
