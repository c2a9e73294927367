// One backtest end to end: tape → time split → calibration / training on the training split only →
// every requested strategy replayed together over consecutive episodes of the test split → result
// object (deterministic for a given data file, configuration and seed: no wall-clock values inside).
import * as path from 'path';
import { EngineError, expected } from '../errors';
import { AvellanedaStoikovStrategy } from '../strategies/avellaneda-stoikov';
import { MarketCalibration, calibrateMarket } from '../strategies/as-calibration';
import { FixedSpreadStrategy } from '../strategies/fixed-spread';
import { RlMarketMaker, RlParams } from '../strategies/rl-mm';
import { RlTrainingLog, loadPolicy, policyFile, roundWeights, savePolicy, trainRl } from '../strategies/rl-train';
import { replay } from './backtest';
import { LatencySpec } from './latency';
import { EpisodeCurve, EpisodeMetrics, MetricsSummary, meanStd, summarize } from './metrics';
import { QueueModelConfig } from './queue';
import { ReplayBook } from './replay-book';
import { RiskLimits } from './risk';
import { SimConfig, Simulation } from './simulation';
import { EpisodeWindow, TimeSplit, episodeWindows, splitByTime } from './split';
import { Strategy } from './strategy';
import { Tape } from './tape';
import { FeeSchedule } from './types';

export const STRATEGY_NAMES = ['fixed', 'as', 'rl'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/**
 * Registration hook for strategies defined outside this module (CMM: src/cmm/experiments.ts builds them from
 * models): each is built after the split and the training-split calibration exist and is replayed in the same
 * pass as the built-in strategies, after them. build() may use training data only.
 */
export interface ExtraStrategy {
  name: string;
  build(ctx: ExtraStrategyContext): { strategy: Strategy; params: Record<string, unknown> };
}

export interface ExtraStrategyContext {
  tape: Tape;
  split: TimeSplit;
  calibration: MarketCalibration;
  sim: Omit<SimConfig, 'seed' | 'training'>;
  seed: number;
  episodeLenNs: number;
}

export interface BacktestOptions {
  tape: Tape;
  /** Strategies built by the caller (see ExtraStrategy), scored after the built-in ones. */
  extra?: ExtraStrategy[];
  /** Name used for the RL policy file (default: the data file's base name). */
  dataset?: string;
  strategies: StrategyName[];
  episodeLenNs: number;
  episodes?: number;
  seed: number;
  trainFrac: number;
  /** Quote size in lots (default: the training split's median trade size, at least 1). */
  orderQty?: number;
  fees: FeeSchedule;
  queue: QueueModelConfig;
  latency: { feed: LatencySpec; entry: LatencySpec; response: LatencySpec };
  /** Risk limits; unset fields default from orderQty (position 10 clips, order 10 clips, 100 orders/s, no loss limit, 100 bps band). */
  risk?: Partial<RiskLimits>;
  stepNs: number;
  warmupNs?: number;
  /** Fixed γ for AS (skips the training-split grid search). */
  asGamma?: number;
  rl?: { epochs?: number; decisionNs?: number; eta?: number; modelDir?: string; save?: boolean; policyFile?: string };
}

export interface StrategyResult {
  name: string;
  params: Record<string, unknown>;
  summary: MetricsSummary;
  episodes: EpisodeMetrics[];
  /** Per episode, downsampled: seconds from the episode start, equity, position. */
  curves: { t: number[]; equity: number[]; position: number[] }[];
  lifecycle: { counts: Record<string, number>; first: { atNs: number; from: string; to: string; reason: string }[] }[];
}

/** The whole result of runBacktest (what --json prints). Infinite limits (no limit) serialise as null. */
export interface BacktestResult {
  command: 'backtest';
  data: { source: string; dataset: string; instrument: { symbol: string; venue: string; tickSize: number; lotSize: number; bookType: string }; events: number; spanNs: number; originNs: string };
  config: {
    seed: number; trainFrac: number; episodeLenNs: number; episodes: number; stepNs: number; warmupNs: number; orderQty: number;
    fees: FeeSchedule; queue: QueueModelConfig; latency: BacktestOptions['latency']; risk: RiskLimits;
  };
  split: TimeSplit;
  windows: EpisodeWindow[];
  calibration: MarketCalibration;
  asGammaSearch?: { gamma: number; meanEpnl: number }[];
  rlTraining?: RlTrainingLog & { policy?: string };
  strategies: StrategyResult[];
}

const MAX_CURVE_POINTS = 300;

function downsample(c: EpisodeCurve, startNs: number): StrategyResult['curves'][number] {
  const n = c.t.length;
  const every = Math.max(1, Math.ceil(n / MAX_CURVE_POINTS));
  const out = { t: [] as number[], equity: [] as number[], position: [] as number[] };
  for (let i = 0; i < n; i += every) push(i);
  if (n > 0 && (n - 1) % every !== 0) push(n - 1);
  return out;
  function push(i: number): void {
    out.t.push((c.t[i] - startNs) / 1e9);
    out.equity.push(c.equity[i]);
    out.position.push(c.position[i]);
  }
}

function resultOf(sim: Simulation, params: Record<string, unknown>): StrategyResult {
  return {
    name: sim.strategy.name,
    params,
    summary: summarize(sim.episodes),
    episodes: sim.episodes,
    curves: sim.curves.map((c, i) => downsample(c, sim.episodes[i].startNs)),
    lifecycle: sim.lifecycles.map((l) => ({ counts: l.counts, first: l.transitions.slice(0, 20) })),
  };
}

/** Training windows: consecutive episodes of the training split (one shorter window when it is short). */
function trainingWindows(split: TimeSplit, lenNs: number): EpisodeWindow[] {
  const span = split.trainEndNs - split.trainStartNs;
  return episodeWindows(split.trainStartNs, split.trainEndNs, Math.min(lenNs, span), undefined, 'the training split');
}

export function runBacktest(o: BacktestOptions): BacktestResult {
  const tape = o.tape;
  if (!Array.isArray(o.strategies) || (o.strategies.length === 0 && !(o.extra?.length))) throw expected(`one or more of ${STRATEGY_NAMES.join(', ')}`, 'strategies', o.strategies);
  for (const s of o.strategies) if (!STRATEGY_NAMES.includes(s)) throw new EngineError('E_CONFIG', `unknown strategy ${JSON.stringify(s)}: expected fixed, as, rl or all`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw expected('a non-negative integer', 'seed', o.seed);
  const split = splitByTime(tape.firstNs, tape.lastNs, o.trainFrac);
  const windows = episodeWindows(split.testStartNs, split.testEndNs, o.episodeLenNs, o.episodes);
  const calibration = calibrateMarket(tape, split.trainStartNs, split.trainEndNs);
  if (calibration.rows === 0) throw new EngineError('E_BAD_INPUT', `${tape.source}: the training split has no events`);
  const orderQty = o.orderQty ?? Math.max(1, Math.round(Number.isFinite(calibration.medianTradeQty) ? calibration.medianTradeQty : 1));
  const risk: RiskLimits = {
    maxPosition: 10 * orderQty, maxOrderQty: 10 * orderQty, maxOrdersPerSecond: 100, maxLoss: Infinity, fatFingerBps: 100, ...o.risk,
  };
  const warmupNs = o.warmupNs ?? 0;
  const base: Omit<SimConfig, 'seed' | 'training'> = {
    instrument: tape.instrument, orderQty, priceStep: calibration.priceStep, fees: o.fees, queue: o.queue, latency: o.latency, risk, stepNs: o.stepNs, warmupNs,
  };
  const dataset = o.dataset ?? path.basename(tape.source).replace(/\.[^.]*$/, '');
  const strategies: { strategy: Strategy; params: Record<string, unknown> }[] = [];
  const result: Partial<BacktestResult> = {};

  for (const name of o.strategies) {
    if (name === 'fixed') {
      const h = Math.max(0.5 * calibration.priceStep, (Number.isFinite(calibration.medianSpread) ? calibration.medianSpread : 1) / 2);
      strategies.push({ strategy: new FixedSpreadStrategy({ halfSpreadTicks: h }), params: { halfSpreadTicks: h } });
    } else if (name === 'as') {
      let gamma = o.asGamma;
      if (gamma === undefined) {
        const search = searchGamma(tape, split, calibration, base, o);
        result.asGammaSearch = search;
        gamma = search.reduce((a, b) => (b.meanEpnl > a.meanEpnl ? b : a)).gamma;
      }
      const p = { gamma, sigma: calibration.sigma, k: calibration.k, A: calibration.A };
      strategies.push({ strategy: new AvellanedaStoikovStrategy(p), params: p });
    } else {
      const { agent, log, policy } = prepareRl(tape, split, calibration, base, o, risk.maxPosition);
      result.rlTraining = log ? { ...log, policy } : undefined;
      strategies.push({ strategy: agent, params: { ...agent.params } as unknown as Record<string, unknown> });
    }
  }

  for (const x of o.extra ?? []) strategies.push(x.build({ tape, split, calibration, sim: base, seed: o.seed, episodeLenNs: o.episodeLenNs }));

  const book = new ReplayBook(tape.instrument.bookType);
  const sims = strategies.map((s) => new Simulation(s.strategy, book, { ...base, seed: o.seed }));
  replay(tape.batches, book, sims, windows);
  const out: BacktestResult = {
    command: 'backtest',
    data: {
      source: tape.source, dataset,
      instrument: { symbol: tape.instrument.symbol, venue: tape.instrument.venue, tickSize: tape.instrument.tickSize, lotSize: tape.instrument.lotSize, bookType: tape.instrument.bookType },
      events: tape.count, spanNs: tape.lastNs - tape.firstNs, originNs: tape.originNs.toString(),
    },
    config: { seed: o.seed, trainFrac: o.trainFrac, episodeLenNs: o.episodeLenNs, episodes: windows.length, stepNs: o.stepNs, warmupNs, orderQty, fees: o.fees, queue: o.queue, latency: o.latency, risk },
    split, windows, calibration,
    ...result,
    strategies: sims.map((s, i) => resultOf(s, strategies[i].params)),
  };
  const rlIdx = o.strategies.indexOf('rl');
  if (rlIdx >= 0 && out.rlTraining && (o.rl?.save ?? true) && !o.rl?.policyFile) {
    const rl = sims[rlIdx];
    const agent = rl.strategy as RlMarketMaker;
    const ms = (k: 'epnl' | 'pnlMap' | 'rpt' | 'map'): { mean: number; std: number } => meanStd(rl.episodes.map((e) => e[k]));
    const file = savePolicy(o.rl?.modelDir ?? path.join('models', 'rl-mm'), policyFile(agent, dataset, tape.instrument.symbol), {
      dataset, data: tape.source, provenance: tape.provenance, instrument: tape.instrument.symbol,
      split: { trainFrac: split.trainFrac, trainStartNs: split.trainStartNs, trainEndNs: split.trainEndNs, testStartNs: split.testStartNs, testEndNs: split.testEndNs },
      seed: o.seed, training: out.rlTraining,
      evaluation: { episodes: rl.episodes.length, episodeLenNs: o.episodeLenNs, epnl: ms('epnl'), pnlMap: ms('pnlMap'), rpt: ms('rpt'), map: ms('map') },
    });
    out.rlTraining.policy = path.basename(file);
  }
  return out;
}

/** γ grid: the AS inventory skew γσ²τ̄ (τ̄ = half an episode) of 0.25 … 8 price steps per clip; best mean EPnL on training episodes. */
function searchGamma(tape: Tape, split: TimeSplit, cal: MarketCalibration, base: Omit<SimConfig, 'seed' | 'training'>, o: BacktestOptions): { gamma: number; meanEpnl: number }[] {
  const windows = trainingWindows(split, o.episodeLenNs);
  const tauBar = (windows[0].endNs - windows[0].startNs) * 0.5e-9;
  const skews = [0.25, 0.5, 1, 2, 4, 8];
  const book = new ReplayBook(tape.instrument.bookType);
  const gammas = skews.map((s) => (s * cal.priceStep) / (cal.sigma * cal.sigma * tauBar));
  const sims = gammas.map((g) => new Simulation(new AvellanedaStoikovStrategy({ gamma: g, sigma: cal.sigma, k: cal.k, A: cal.A }), book, { ...base, seed: o.seed }));
  replay(tape.batches, book, sims, windows);
  return sims.map((s, i) => ({ gamma: gammas[i], meanEpnl: meanStd(s.episodes.map((e) => e.epnl)).mean }));
}

function prepareRl(
  tape: Tape, split: TimeSplit, cal: MarketCalibration, base: Omit<SimConfig, 'seed' | 'training'>, o: BacktestOptions, maxPosition: number,
): { agent: RlMarketMaker; log?: RlTrainingLog; policy?: string } {
  if (o.rl?.policyFile) return { agent: loadPolicy(o.rl.policyFile, o.seed), policy: o.rl.policyFile };
  const fin = (v: number, d: number): number => (Number.isFinite(v) && v > 0 ? v : d);
  const params: RlParams = {
    decisionNs: o.rl?.decisionNs ?? 500e6,
    eta: o.rl?.eta ?? 0.5,
    alpha: 0.1,
    discount: 0.97,
    epsilon: 0.2,
    scaling: { maxPosition, spreadHi: fin(cal.p95Spread, 2), volHi: fin(cal.p95RealisedVol, 1), flowHi: fin(cal.p95AbsTradeFlow, 1) },
    tiling: { jointBins: 3, lineBins: 10, tilings: 4 },
  };
  const agent = new RlMarketMaker(params, o.seed);
  const log = trainRl(agent, tape, base, split.trainStartNs, split.trainEndNs, o.episodeLenNs, {
    epochs: o.rl?.epochs ?? 30, epsilonStart: 0.2, epsilonEnd: 0.02, seed: o.seed,
  });
  roundWeights(agent.weights);
  return { agent, log };
}
