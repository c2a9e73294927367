// Episode metrics, aggregation and time splits on hand-computed cases.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EngineError } from '../../src/errors';
import { EpisodeCurve, episodeMetrics, meanStd, summarize } from '../../src/backtest/metrics';
import { RiskOverlay } from '../../src/backtest/risk';
import { SimExchange } from '../../src/backtest/exchange';
import { episodeWindows, splitByTime } from '../../src/backtest/split';

function curve(equity: number[], position: number[]): EpisodeCurve {
  const c = new EpisodeCurve();
  equity.forEach((e, i) => c.push((i + 1) * 1e9, e, position[i]));
  return c;
}

const base = { episode: 0, startNs: 0, endNs: 4e9, makerFills: 0, takerFills: 0, volume: 0, fees: 0, quotedNs: 3e9, finalPosition: 0, riskRefusals: RiskOverlay.zero(), rejects: SimExchange.emptyStats().rejected };

test('EPnL, MAP, PnLMAP, RPT, Sharpe, max drawdown and quoted time on a known curve', () => {
  const m = episodeMetrics({ ...base, curve: curve([1, -1, 2, 3], [2, -2, 0, 0]), epnl: 3, fills: 4 });
  assert.equal(m.epnl, 3);
  assert.equal(m.map, 1);
  assert.equal(m.pnlMap, 3);
  assert.equal(m.rpt, 0.75);
  // Step PnL 1, -2, 3, 1: mean 0.75, sample std sqrt(4.25).
  assert.ok(Math.abs(m.sharpe - 0.75 / Math.sqrt(4.25)) < 1e-12);
  assert.equal(m.maxDrawdown, 2);
  assert.equal(m.quotedTime, 0.75);
  assert.equal(m.steps, 4);
});

test('PnLMAP with MAP 0 is EPnL per one lot; RPT with no fill is 0 (EPnL is then 0 too)', () => {
  const flat = episodeMetrics({ ...base, curve: curve([0, 0], [0, 0]), epnl: 0, fills: 0 });
  assert.equal(flat.map, 0);
  assert.equal(flat.pnlMap, 0);
  assert.equal(flat.rpt, 0);
  assert.equal(flat.sharpe, 0, 'no variation: Sharpe 0, not NaN');
  const roundTrip = episodeMetrics({ ...base, curve: curve([0, 2], [0, 0]), epnl: 2, fills: 2 });
  assert.equal(roundTrip.pnlMap, 2);
  assert.equal(roundTrip.rpt, 1);
});

test('mean ± sample std over episodes', () => {
  assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1 });
  assert.deepEqual(meanStd([5]), { mean: 5, std: 0 });
  const a = episodeMetrics({ ...base, curve: curve([1], [1]), epnl: 1, fills: 1 });
  const b = episodeMetrics({ ...base, curve: curve([3], [1]), epnl: 3, fills: 1, riskRefusals: { ...RiskOverlay.zero(), 'order-rate': 2 } });
  const s = summarize([a, b]);
  assert.equal(s.episodes, 2);
  assert.equal(s.stats.epnl.mean, 2);
  assert.ok(Math.abs(s.stats.epnl.std - Math.SQRT2) < 1e-12);
  assert.equal(s.riskRefusals['order-rate'], 2);
});

test('time split: training strictly before test, never shuffled; episodes are consecutive test windows', () => {
  const s = splitByTime(1000, 2000, 0.5);
  assert.deepEqual([s.trainStartNs, s.trainEndNs, s.testStartNs, s.testEndNs], [1000, 1500, 1500, 2000]);
  const w = episodeWindows(s.testStartNs, s.testEndNs, 120);
  assert.equal(w.length, 4);
  w.forEach((x, i) => {
    assert.equal(x.startNs, 1500 + 120 * i);
    assert.equal(x.endNs, x.startNs + 120);
  });
  assert.equal(episodeWindows(1500, 2000, 120, 2).length, 2);
});

test('bad splits and episode lengths are configuration errors, not empty results', () => {
  assert.throws(() => splitByTime(0, 100, 0), (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG');
  assert.throws(() => splitByTime(0, 100, 1), EngineError);
  assert.throws(() => splitByTime(5, 5, 0.5), (e: unknown) => e instanceof EngineError && e.code === 'E_BAD_INPUT');
  assert.throws(() => episodeWindows(0, 100, 150), (e: unknown) => e instanceof EngineError && e.code === 'E_CONFIG' && /longer than/.test(e.message));
  assert.throws(() => episodeWindows(0, 100, 30, 4), (e: unknown) => e instanceof EngineError && e.code === 'E_CONFIG');
});
