// Robustness experiment (cmm.md experiment 2): a flash crash and a sudden trend reversal injected into the TEST
// part of replayed markets (InjectorOverlay) and generated markets (the generator's own injectors, same seed as
// the clean market), plus bull / bear / sideways segments: generated trending and flat markets, and every clean
// market's test episodes grouped by their mid move (|Δmid| > σ·√T, σ from the training split).
// Students, γ and the teacher's schedule come from the CLEAN market's training/validation data (identical up to the
// injection, which lies in the test split), so the injected event is unseen by every model. By default it runs on
// every real market of the main experiment (those under --data) and on the generated ones.
import { EngineError } from '../errors';
import { BacktestResult } from '../backtest/run';
import { Feature, NUM_FEATURES } from '../market/market-engine';
import { CMM_VARIANTS } from '../strategies/cmm';
import { Injector } from '../sim/scenario';
import { BarGroup, drawBarPanel, panelsPng } from './experiment-charts';
import {
  ExperimentContext, ExperimentOptions, ExperimentOutput, MarketPictures, MarketResult, averageRanks, evaluateMarket, fmtNum, marketHeader, marketModels,
  marketPictures, meanStdText as pmStr, picturesPng, strategyTable, textTable, writeResults,
} from './experiment-core';
import { meanStd } from '../backtest/metrics';
import { MarketSpec, generatedMarkets, pickMarkets, realMarkets } from './experiment-data';
import { PreparedMarket, prepareMarket } from './experiment-models';

interface Scenario {
  name: string;
  spec: MarketSpec;
  base: MarketSpec;
  event?: { kind: Injector['kind']; atSeconds: number };
}

/** Injection time: 30 % into the base's test split (seconds from the first event), and a crash that fits in it. */
function injectors(base: PreparedMarket): { crash: Injector; reversal: Injector; at: number } {
  const t0 = base.tape.firstNs;
  const testS = (base.testStartNs - t0) / 1e9, spanS = (base.tape.lastNs - base.testStartNs) / 1e9;
  const at = Math.round(testS + 0.3 * spanS);
  const crash: Injector = { kind: 'flash-crash', atSeconds: at, depthPct: 3, dropSeconds: Math.max(1, Math.min(30, Math.round(spanS * 0.05))), recoveryFraction: 0.5, recoverySeconds: Math.max(2, Math.min(300, Math.round(spanS * 0.3))) };
  return { crash, reversal: { kind: 'reversal', atSeconds: at }, at };
}

/** Episode mid change (ticks) from the tape: last mid at or before each window's start and end. */
function episodeMoves(bt: BacktestResult, tapeBatches: PreparedMarket['tape']['batches']): number[] {
  const out: number[] = [];
  for (const w of bt.windows) {
    let a = NaN, b = NaN;
    for (const batch of tapeBatches) {
      if (batch.t[0] > w.endNs) break;
      for (let r = 0; r < batch.count; r++) {
        const t = batch.t[r], m = batch.features[r * NUM_FEATURES + Feature.Mid];
        if (m !== m) continue;
        if (t <= w.startNs) a = m;
        if (t <= w.endNs) b = m;
      }
    }
    out.push(b - a);
  }
  return out;
}

type Segment = 'bull' | 'bear' | 'sideways';

/** Each test episode's trend segment, and its mid change in the price currency (ticks × tick size). */
function segmentsOf(bt: BacktestResult, pm: PreparedMarket): { segments: Segment[]; midMoves: number[] } {
  const moves = episodeMoves(bt, pm.tape.batches);
  const k = bt.calibration.sigma * Math.sqrt(bt.config.episodeLenNs / 1e9);
  return { segments: moves.map((d) => (d > k ? 'bull' : d < -k ? 'bear' : 'sideways')), midMoves: moves.map((d) => d * pm.tape.instrument.tickSize) };
}

export async function runRobustness(o: ExperimentOptions, override?: { replayBases?: MarketSpec[]; generated?: MarketSpec[] }): Promise<ExperimentOutput> {
  const replayBases = override?.replayBases ?? pickMarkets(realMarkets(o.dataDir), o.markets ?? 'all');
  const genAll = o.generated ? [...generatedMarkets(o.generatedMinutes, o.seed), {
    name: `gen_switching_bear_s${o.seed + 2}`, kind: 'generated' as const, generate: { minutes: o.generatedMinutes, regime: 'switching' as const, trend: 'bear' as const, seed: o.seed + 2 },
    description: `generated: ${o.generatedMinutes} min, switching volatility, bear drift 2 %/h, seed ${o.seed + 2}`,
  }] : [];
  const genBases = override?.generated ?? pickMarkets(genAll, o.markets ?? 'gen_');
  if (replayBases.length + genBases.length === 0) throw new EngineError('E_CONFIG', `no market to run the robustness experiment on (--markets ${o.markets ?? 'default'})`);
  const ctx = await ExperimentContext.open(o);
  const rows: { scenario: string; base: string; event: string; result: MarketResult; eventEpisode: number | null; segments: Segment[]; midMoves: number[] }[] = [];
  const failed: { scenario: string; reason: string }[] = [];
  const pics: MarketPictures[] = [];
  try {
    for (const base of [...replayBases, ...genBases]) {
      let basePm: PreparedMarket;
      let students;
      try {
        o.log(`robustness: base ${base.name}`);
        basePm = prepareMarket(base, o.cacheDir, ctx.datasetOptions(), (l) => o.log(l));
        const models = await marketModels(ctx, basePm);
        students = models.students;
        const { result, backtest } = evaluateMarket(ctx, basePm, models, { baselines: ['fixed', 'as', 'rl'], variants: [...CMM_VARIANTS] });
        rows.push({ scenario: base.name, base: base.name, event: base.generate?.trend ? `none (${base.generate.trend})` : 'none', result, eventEpisode: null, ...segmentsOf(backtest, basePm) });
        pics.push(marketPictures(result, backtest, `${base.name} (clean)`));
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        failed.push({ scenario: base.name, reason: `${err.code}: ${err.message}` });
        o.log(`${base.name}: skipped (${err.message})`);
        continue;
      }
      const inj = injectors(basePm);
      const scenarios: Scenario[] = [];
      const trend = base.generate?.trend;
      if (base.kind !== 'generated' || trend === 'sideways' || trend === undefined) scenarios.push({ name: `${base.name}_crash`, base, spec: { name: `${base.name}_crash`, kind: 'injected', base, inject: [inj.crash], description: `${base.description}, flash crash 3 % at ${inj.at} s` }, event: { kind: 'flash-crash', atSeconds: inj.at } });
      if (base.kind !== 'generated' || trend === 'bull') scenarios.push({ name: `${base.name}_reversal`, base, spec: { name: `${base.name}_reversal`, kind: 'injected', base, inject: [inj.reversal], description: `${base.description}, trend reversal at ${inj.at} s` }, event: { kind: 'reversal', atSeconds: inj.at } });
      for (const sc of scenarios) {
        try {
          o.log(`robustness: ${sc.name}`);
          const p0 = prepareMarket(sc.spec, o.cacheDir, ctx.datasetOptions(), (l) => o.log(l));
          // The clean market's split, regimes and horizon: the models never see the injected part.
          const pmi: PreparedMarket = { ...p0, validationStartNs: basePm.validationStartNs, testStartNs: basePm.testStartNs, trainFrac: basePm.trainFrac, cuts: basePm.cuts, horizonSeconds: basePm.horizonSeconds };
          const models = await marketModels(ctx, pmi, { students });
          const { result, backtest } = evaluateMarket(ctx, pmi, models, { baselines: ['fixed', 'as', 'rl'], variants: [...CMM_VARIANTS] });
          const atNs = sc.event!.atSeconds * 1e9 + pmi.tape.firstNs;
          const ev = backtest.windows.findIndex((w) => atNs >= w.startNs && atNs < w.endNs);
          rows.push({ scenario: sc.name, base: base.name, event: `${sc.event!.kind} at ${sc.event!.atSeconds} s`, result, eventEpisode: ev >= 0 ? ev : null, ...segmentsOf(backtest, pmi) });
          pics.push(marketPictures(result, backtest, sc.name));
        } catch (err) {
          if (!(err instanceof EngineError)) throw err;
          failed.push({ scenario: sc.name, reason: `${err.code}: ${err.message}` });
          o.log(`${sc.name}: skipped (${err.message})`);
        }
      }
    }
  } finally {
    await ctx.close();
  }

  // Event episodes: EPnL and max drawdown of the episode holding the injection.
  const eventRows = rows.filter((r) => r.eventEpisode !== null).map((r) => ({
    scenario: r.scenario,
    episode: r.eventEpisode!,
    strategies: r.result.strategies.map((s) => ({ name: s.name, epnl: s.episodes[r.eventEpisode!]?.epnl ?? NaN, maxDrawdown: s.episodes[r.eventEpisode!]?.maxDrawdown ?? NaN, map: s.episodes[r.eventEpisode!]?.map ?? NaN })),
  }));
  // Segments: every scenario's test episodes grouped by trend, EPnL mean ± std per strategy.
  const names = [...new Set(rows.flatMap((r) => r.result.strategies.map((s) => s.name)))];
  const segTable: Record<Segment, Record<string, { mean: number; std: number; n: number }>> = { bull: {}, bear: {}, sideways: {} };
  for (const seg of ['bull', 'bear', 'sideways'] as Segment[]) {
    for (const n of names) {
      // EPnL is in each market's own currency, so segments pool each strategy's per-episode EPnL rank instead.
      const ranks: number[] = [];
      for (const r of rows) r.segments.forEach((sg, e) => {
        if (sg !== seg) return;
        const i = r.result.strategies.findIndex((s) => s.name === n);
        if (i >= 0) ranks.push(averageRanks(r.result.strategies.map((s) => s.episodes[e]?.epnl ?? NaN))[i]);
      });
      const ms = meanStd(ranks);
      segTable[seg][n] = { mean: ms.mean, std: ms.std, n: ranks.length };
    }
  }
  const cols: [string, 'epnl' | 'maxDrawdown' | 'map' | 'pnlMap'][] = [['EPnL', 'epnl'], ['MaxDD', 'maxDrawdown'], ['MAP', 'map'], ['PnLMAP', 'pnlMap']];
  const text = [
    'ROBUSTNESS: injected flash crash / trend reversal (test split only), trending and flat markets; mean ± std over test episodes',
    ...rows.map((r) => `\n[${r.scenario}] event: ${r.event}${r.eventEpisode !== null ? ` (episode ${r.eventEpisode})` : ''}\n${marketHeader(r.result)}\n${strategyTable(r.result.strategies, cols)}`),
    '', 'Episode holding the injected event: EPnL / max drawdown / MAP',
    textTable([['scenario', ...names], ...eventRows.map((e) => [e.scenario, ...names.map((n) => {
      const s = e.strategies.find((x) => x.name === n);
      return s ? `${fmtNum(s.epnl)} / ${fmtNum(s.maxDrawdown)} / ${fmtNum(s.map)}` : '—';
    })])]),
    '', 'Bull / bear / sideways test episodes (|Δmid| > σ_train·√T): mean EPnL rank per episode among the strategies (1 = best, ties share), ± std, (episodes)',
    textTable([['segment', ...names], ...(['bull', 'bear', 'sideways'] as Segment[]).map((seg) => [seg, ...names.map((n) => {
      const v = segTable[seg][n];
      return v && v.n > 0 ? `${pmStr(v)} (${v.n})` : '—';
    })])]),
    ...(failed.length ? ['', 'not run:', ...failed.map((f) => `  ${f.scenario}: ${f.reason}`)] : []),
  ].join('\n');
  const result = {
    experiment: 'robustness', createdAt: new Date().toISOString(), seed: o.seed, students: o.students,
    scenarios: rows.map((r) => ({ scenario: r.scenario, base: r.base, event: r.event, eventEpisode: r.eventEpisode, segments: r.segments, midMoves: r.midMoves, result: r.result })),
    eventEpisodes: eventRows, segments: segTable, failed,
  };
  const groups: BarGroup[] = eventRows.map((e) => ({ label: e.scenario, bars: e.strategies.map((s) => ({ name: s.name, mean: s.maxDrawdown, std: 0 })) }));
  const sub = `cmm experiment robustness, seed ${o.seed}, test-split episodes only`;
  const pngs: Record<string, Uint8Array> = {};
  if (pics.length) {
    pngs['robustness.png'] = picturesPng(pics, 'bars', sub);
    pngs['robustness-curves.png'] = picturesPng(pics, 'curves', sub);
  }
  if (groups.length) pngs['robustness-events.png'] = panelsPng(groups.map((g) => (c, x, y, w, h) => drawBarPanel(c, `${g.label} (event episode)`, 'MaxDD', [{ ...g, label: 'event episode' }], x, y, w, h)), 2, 800, 380, sub);
  const files = writeResults(o.outDir, 'robustness', result, pngs);
  return { result, text, files };
}
