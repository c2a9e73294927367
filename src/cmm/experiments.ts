// The four experiments of ../shared/design/cmm.md ("Experiments the project must be able to run"), each printed as
// text tables, returned as JSON and drawn as PNGs under results/:
//   main             CMM vs no-distillation, plain KD, teacher-driven, Avellaneda–Stoikov, fixed spread and RL on
//                    every real data set and on generated markets; mean ± std over the test-split episodes
//   robustness       flash crash and trend reversal injected into replayed and generated markets; bull, bear and
//                    sideways segments (experiment-robustness.ts)
//   data-efficiency  students distilled from 10/20/50/100 % of the training split, same test split (experiment-efficiency.ts)
//   latency          per-decision latency p50/p99 and energy of students+MoE vs the teacher, one run (experiment-latency.ts)
// Honesty rules: students, γ, κ, the size fraction, AS and RL see training data only; every number reported is
// from the time-held-out test split (the CMM dataset's test split, which the backtest's test episodes cover).
import { EngineError, expected } from '../errors';
import { CMM_VARIANTS } from '../strategies/cmm';
import {
  ExperimentContext, ExperimentOptions, ExperimentOutput, MarketPictures, MarketResult, evaluateMarket, marketHeader, marketModels, marketPictures,
  picturesPng, rankTable, strategyTable, writeResults,
} from './experiment-core';
import { MarketSpec, generatedMarkets, realMarkets, selectMarkets } from './experiment-data';
import { prepareMarket } from './experiment-models';
import { runDataEfficiency } from './experiment-efficiency';
import { runLatency } from './experiment-latency';
import { runRobustness } from './experiment-robustness';

export * from './experiment-core';
export { realMarkets, generatedMarkets, marketLog, selectMarkets, defaultCacheDir } from './experiment-data';
export type { MarketSpec } from './experiment-data';
export { runDataEfficiency } from './experiment-efficiency';
export { runLatency } from './experiment-latency';
export { runRobustness } from './experiment-robustness';

export const EXPERIMENTS = ['main', 'robustness', 'data-efficiency', 'latency'] as const;
export type ExperimentName = (typeof EXPERIMENTS)[number];

/** Markets of the main experiment: the real ones present under dataDir, then generated ones. */
export function mainMarkets(o: ExperimentOptions, override?: MarketSpec[]): MarketSpec[] {
  const all = override ?? [...realMarkets(o.dataDir), ...(o.generated ? generatedMarkets(o.generatedMinutes, o.seed) : [])];
  return selectMarkets(all, o.markets);
}

export async function runMain(o: ExperimentOptions, override?: MarketSpec[]): Promise<ExperimentOutput> {
  const markets = mainMarkets(o, override);
  const ctx = await ExperimentContext.open(o);
  const results: MarketResult[] = [];
  const failed: { market: string; reason: string }[] = [];
  const pics: MarketPictures[] = [];
  try {
    for (const [k, spec] of markets.entries()) {
      o.log(`[${k + 1}/${markets.length}] ${spec.name}`);
      try {
        const pmk = prepareMarket(spec, o.cacheDir, ctx.datasetOptions(), (l) => o.log(l));
        const models = await marketModels(ctx, pmk);
        const { result, backtest } = evaluateMarket(ctx, pmk, models, { baselines: ['fixed', 'as', 'rl'], variants: [...CMM_VARIANTS] });
        results.push(result);
        pics.push(marketPictures(result, backtest));
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        failed.push({ market: spec.name, reason: `${err.code}: ${err.message}` });
        o.log(`${spec.name}: skipped (${err.message})`);
      }
    }
  } finally {
    await ctx.close();
  }
  const ranking = rankTable(results);
  const text = [
    'MAIN: CMM vs baselines, mean ± std over test-split episodes (EPnL, PnLMAP, RPT, MaxDD in quote currency; MAP in lots)',
    ...results.map((r) => `\n${marketHeader(r)}\n${strategyTable(r.strategies)}`),
    ...(failed.length ? ['', 'not run:', ...failed.map((f) => `  ${f.market}: ${f.reason}`)] : []),
    '', `across ${results.length} markets (rank 1 = highest mean):`, ranking.table,
  ].join('\n');
  const result = { experiment: 'main', createdAt: new Date().toISOString(), seed: o.seed, students: o.students, markets: results, failed, ranking: ranking.rows };
  const sub = `cmm experiment main, seed ${o.seed}, students ${o.students}, test-split episodes only`;
  const files = writeResults(o.outDir, 'main', result, results.length ? { 'main.png': picturesPng(pics, 'bars', sub), 'main-curves.png': picturesPng(pics, 'curves', sub) } : {});
  return { result, text, files };
}

export async function runExperiment(name: string, o: ExperimentOptions): Promise<ExperimentOutput> {
  switch (name) {
    case 'main': return runMain(o);
    case 'robustness': return runRobustness(o);
    case 'data-efficiency': return runDataEfficiency(o);
    case 'latency': return runLatency(o);
    default: throw expected(EXPERIMENTS.join(', '), 'experiment', name);
  }
}
