// Data-efficiency experiment (cmm.md experiment 3): students distilled from the first 10/20/50/100 % (by time) of
// each market's training split — the CMM students with the MoE and, trained on the same fraction, the
// no-distillation and plain-KD baselines — each backtested on the SAME test split, with γ and the size fraction
// chosen on the validation period. Also their test-split prediction R² (from the distillation). The teacher and
// the fixed / AS baselines do not depend on the fraction: they run once, at 100 %, as reference lines.
import { EngineError } from '../errors';
import { LineSeries, drawLinePanel, panelsPng } from './experiment-charts';
import { ExperimentContext, ExperimentOptions, ExperimentOutput, evaluateMarket, fmtNum, marketModels, textTable, writeResults } from './experiment-core';
import { MarketSpec, generatedMarkets, pickMarkets, realMarkets } from './experiment-data';
import { prepareMarket } from './experiment-models';

export const DEFAULT_EFFICIENCY_MARKETS = ['lobster_msft_20120621', 'binance_usdm_btcusdt_20240808', 'gen_switching_sideways'];
const VARIANTS = ['cmm', 'student', 'kd'] as const;
const SCORE_OF: Record<(typeof VARIANTS)[number], string> = { cmm: 'moe', student: 'noDistill', kd: 'plainKd' };

interface FractionRow {
  fraction: number;
  /** Per strategy: EPnL and PnLMAP mean ± std over test episodes. */
  strategies: Record<string, { epnl: { mean: number; std: number }; pnlMap: { mean: number; std: number }; map: { mean: number; std: number } }>;
  /** Test-split R² per task of each variant's predictions (cmm = MoE, student = no-distill routed, kd = plain KD). */
  r2: Record<string, (number | null)[]>;
  /** Why this fraction could not be distilled (e.g. a regime absent from the first 10 % of the training split). */
  error?: string;
}

export async function runDataEfficiency(o: ExperimentOptions, override?: MarketSpec[]): Promise<ExperimentOutput> {
  if (o.students === 'bundled' && !o.studentsOverride) throw new EngineError('E_CONFIG', 'the data-efficiency experiment distils students per fraction: use --students distill (the default)');
  const all = [...realMarkets(o.dataDir), ...(o.generated ? generatedMarkets(o.generatedMinutes, o.seed) : [])];
  const markets = override ?? pickMarkets(all, o.markets ?? DEFAULT_EFFICIENCY_MARKETS.join(','));
  if (markets.length === 0) throw new EngineError('E_CONFIG', `no market for the data-efficiency experiment (--markets ${o.markets ?? 'default'})`);
  const fractions = [...o.fractions].sort((a, b) => a - b);
  const ctx = await ExperimentContext.open(o);
  if (!ctx.teacher && !o.studentsOverride) {
    await ctx.close();
    throw new EngineError('E_MODEL', `the data-efficiency experiment needs the teacher to distil students: ${ctx.teacherMissing}`);
  }
  const out: { market: string; description: string; fractions: FractionRow[]; reference: FractionRow['strategies']; testEpisodes: number }[] = [];
  const failed: { market: string; reason: string }[] = [];
  try {
    for (const spec of markets) {
      try {
        o.log(`data efficiency: ${spec.name}`);
        const pm = prepareMarket(spec, o.cacheDir, ctx.datasetOptions(), (l) => o.log(l));
        const rows: FractionRow[] = [];
        let reference: FractionRow['strategies'] = {};
        let episodes = 0;
        for (const frac of fractions) {
          const full = frac === 1;
          let models;
          try {
            models = await marketModels(ctx, pm, { frac, withTeacher: full });
          } catch (err) {
            if (!(err instanceof EngineError) || full) throw err;
            rows.push({ fraction: frac, strategies: {}, r2: {}, error: err.message });
            o.log(`${spec.name}: fraction ${frac} not run (${err.message})`);
            continue;
          }
          const { result } = evaluateMarket(ctx, pm, models, { baselines: full ? ['fixed', 'as'] : [], variants: full ? [...VARIANTS, 'teacher'] : [...VARIANTS] });
          episodes = result.episodes;
          const strategies: FractionRow['strategies'] = {};
          for (const s of result.strategies) strategies[s.name] = { epnl: s.stats.epnl, pnlMap: s.stats.pnlMap, map: s.stats.map };
          const scores = (models.students?.scores ?? {}) as Record<string, { r2: number | null }[] | undefined>;
          const r2: FractionRow['r2'] = {};
          for (const v of VARIANTS) r2[v] = (scores[SCORE_OF[v]] ?? []).map((x) => x?.r2 ?? null);
          const vs = Object.fromEntries(VARIANTS.map((v) => [v, strategies[v]]));
          rows.push({ fraction: frac, strategies: vs, r2 });
          if (full) reference = Object.fromEntries(Object.entries(strategies).filter(([k]) => !(VARIANTS as readonly string[]).includes(k)));
        }
        out.push({ market: spec.name, description: spec.description, fractions: rows, reference, testEpisodes: episodes });
      } catch (err) {
        if (!(err instanceof EngineError)) throw err;
        failed.push({ market: spec.name, reason: err.message });
        o.log(`${spec.name}: skipped (${err.message})`);
      }
    }
  } finally {
    await ctx.close();
  }
  const pmS = (v?: { mean: number; std: number }): string => (v ? `${fmtNum(v.mean)} ± ${fmtNum(v.std)}` : '—');
  const r2S = (v: (number | null)[] | undefined): string => (v && v.length ? v.map((x) => (x === null ? 'n/a' : x.toFixed(3))).join('/') : '—');
  const text = [
    'DATA EFFICIENCY: students distilled on the first fraction of the training split; same test split; EPnL mean ± std over test episodes',
    'R² = test-split prediction R² of mid / spread / volume (cmm: Hájek-MoE, student: no-distillation regime-routed, kd: plain KD)',
    ...out.map((m) => [
      `\n${m.market} — ${m.description} (${m.testEpisodes} test episodes)`,
      textTable([['fraction', ...VARIANTS.map((v) => `${v} EPnL`), ...VARIANTS.map((v) => `${v} R²`)],
        ...m.fractions.map((f) => [`${(f.fraction * 100).toFixed(0)} %`, ...VARIANTS.map((v) => pmS(f.strategies[v]?.epnl)), ...VARIANTS.map((v) => r2S(f.r2[v]))])]),
      ...m.fractions.filter((f) => f.error).map((f) => `  ${(f.fraction * 100).toFixed(0)} % not run: ${f.error}`),
      `  reference at 100 %: ${Object.entries(m.reference).map(([k, v]) => `${k} ${pmS(v.epnl)}`).join(', ') || 'none'}`,
    ].join('\n')),
    ...(failed.length ? ['', 'not run:', ...failed.map((f) => `  ${f.market}: ${f.reason}`)] : []),
  ].join('\n');
  const result = { experiment: 'data-efficiency', createdAt: new Date().toISOString(), seed: o.seed, fractions, markets: out, failed };
  const panels = out.flatMap((m) => {
    const epnl: LineSeries[] = VARIANTS.map((v) => ({ name: v, x: m.fractions.map((f) => f.fraction * 100), y: m.fractions.map((f) => f.strategies[v]?.epnl.mean ?? NaN), err: m.fractions.map((f) => f.strategies[v]?.epnl.std ?? NaN) }));
    for (const [k, v] of Object.entries(m.reference)) epnl.push({ name: `${k} (100 %)`, x: m.fractions.map((f) => f.fraction * 100), y: m.fractions.map(() => v.epnl.mean) });
    const r2: LineSeries[] = VARIANTS.flatMap((v) => ['mid', 'spread', 'volume'].map((task, k) => ({ name: `${v} ${task}`, x: m.fractions.map((f) => f.fraction * 100), y: m.fractions.map((f) => { const r = f.r2[v]?.[k]; return r === null || r === undefined ? NaN : Math.max(r, -1); }) })));
    return [
      (c: Parameters<typeof drawLinePanel>[0], x: number, y: number, w: number, h: number) => drawLinePanel(c, `${m.market}: test EPnL vs training data`, '% of the training split', 'EPnL', epnl, x, y, w, h, true),
      (c: Parameters<typeof drawLinePanel>[0], x: number, y: number, w: number, h: number) => drawLinePanel(c, `${m.market}: test R² vs training data (clipped at -1)`, '% of the training split', 'R²', r2, x, y, w, h, true),
    ];
  });
  const files = writeResults(o.outDir, 'data-efficiency', result, panels.length ? { 'data-efficiency.png': panelsPng(panels, 2, 800, 400, `cmm experiment data-efficiency, seed ${o.seed}`) } : {});
  return { result, text, files };
}
