// Avellaneda–Stoikov quotes and the training-split calibration (σ, k, A) on markets with known parameters.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';
import { InstrumentInfo } from '../../src/core/instrument';
import { Tape } from '../../src/backtest/tape';
import { runBacktest } from '../../src/backtest/run';
import { AvellanedaStoikovStrategy } from '../../src/strategies/avellaneda-stoikov';
import { calibrateMarket } from '../../src/strategies/as-calibration';
import { generateMarket } from '../../src/sim/generator';
import { Rng } from '../../src/sim/rng';

test('AS quotes: inventory skews the reservation price, the spread widens with γσ²τ', () => {
  const as = new AvellanedaStoikovStrategy({ gamma: 0.1, sigma: 2, k: 1.5, A: 10, qty: 1 });
  const [fb, fa] = as.quotesAt(1000, 0, 10);
  // Flat: symmetric around the mid, total spread γσ²τ + (2/γ)ln(1 + γ/k) = 4 + 1.29 ticks.
  assert.equal(1000 - fb, fa - 1000);
  assert.equal(fa - fb, 2 * Math.ceil((4 + (2 / 0.1) * Math.log(1 + 0.1 / 1.5)) / 2));
  const [lb, la] = as.quotesAt(1000, 3, 10);
  assert.ok(lb < fb && la < fa, 'long: both quotes move down to sell more, buy less');
  const [sb, sa] = as.quotesAt(1000, -3, 10);
  assert.ok(sb > fb && sa > fa, 'short: both quotes move up');
  const [eb, ea] = as.quotesAt(1000, 3, 0);
  assert.ok(ea - eb < fa - fb, 'at the horizon the inventory term vanishes');
  assert.ok(eb >= lb && ea >= la);
});

/** A market with known σ (±1 tick every 100 ms: σ² = 10 ticks²/s) and print depths d = 1 + floor(Exp(k)). */
function knownMarket(seconds: number, k: number, seed: number): { bytes: Uint8Array; instrument: InstrumentInfo } {
  const instrument: InstrumentInfo = { id: 0, symbol: 'K', venue: 'test', tickSize: 0.01, lotSize: 1, bookType: 'L2' };
  const rng = new Rng(seed);
  const b = new EventBatch(1 << 16);
  let m = 10000;
  const level = (t: bigint, side: Side, px: number, q: number, last: boolean): void =>
    b.push(t, t, 0, EventKind.Modify, side, BigInt(px), BigInt(q), 0n, 0n, 0n, last ? EventFlag.EndOfMessage : 0);
  level(0n, Side.Bid, m - 1, 10, false);
  level(0n, Side.Ask, m + 1, 10, true);
  let nextTrade = rng.exponential(5);
  for (let step = 1; step <= seconds * 10; step++) {
    const tStep = step * 0.1;
    while (nextTrade < tStep) {
      const t = BigInt(Math.round(nextTrade * 1e9));
      const d = 1 + Math.floor(rng.exponential(k));
      const buy = rng.uniform() < 0.5;
      b.push(t, t, 0, EventKind.Trade, buy ? Side.Bid : Side.Ask, BigInt(buy ? m + d : m - d), 1n, 0n, 0n, 0n, EventFlag.EndOfMessage);
      nextTrade += rng.exponential(5);
    }
    const t = BigInt(Math.round(tStep * 1e9));
    const next = m + (rng.uniform() < 0.5 ? 1 : -1);
    level(t, Side.Bid, m - 1, 0, false);
    level(t, Side.Ask, m + 1, 0, false);
    level(t, Side.Bid, next - 1, 10, false);
    level(t, Side.Ask, next + 1, 10, true);
    m = next;
  }
  return { bytes: b.bytes().slice(), instrument };
}

test('calibration recovers σ from mid changes and k from the decay of print intensity with depth', () => {
  const k = 0.7;
  const { bytes, instrument } = knownMarket(900, k, 11);
  const tape = Tape.fromEvents([instrument], bytes);
  const cal = calibrateMarket(tape, tape.firstNs, tape.lastNs);
  assert.deepEqual(cal.warnings, []);
  assert.equal(cal.priceStep, 1);
  assert.equal(cal.medianSpread, 2);
  assert.ok(Math.abs(cal.sigma - Math.sqrt(10)) / Math.sqrt(10) < 0.1, `σ ${cal.sigma} vs ${Math.sqrt(10)}`);
  assert.ok(Math.abs(cal.k - k) / k < 0.15, `k ${cal.k} vs ${k}`);
  // At the touch (δ = 1) every print counts: λ(1) = 5 prints/s over two sides = 2.5 per side.
  assert.ok(Math.abs(cal.points[0].rate - 2.5) / 2.5 < 0.1, `λ(1) ${cal.points[0].rate}`);
  assert.ok(cal.fitR2 > 0.95);
});

test('calibration only sees the range it is given (no test data leaks into it)', () => {
  const { bytes, instrument } = knownMarket(200, 0.7, 12);
  const tape = Tape.fromEvents([instrument], bytes);
  const half = tape.firstNs + (tape.lastNs - tape.firstNs) / 2;
  const a = calibrateMarket(tape, tape.firstNs, half);
  let rows = 0;
  tape.forEachRow(tape.firstNs, half, () => rows++);
  assert.equal(a.rows, rows);
  assert.ok(a.rows < tape.count);
  assert.equal(a.toNs, half);
});

test('AS with calibrated σ, k and γ chosen on the training split holds less inventory than the fixed spread', () => {
  const g = generateMarket({ seconds: 600, regime: 'medium', seed: 3 });
  const tape = Tape.fromEvents([g.summary.instrument], g.bytes, { source: 'generated' });
  const r = runBacktest({
    tape, strategies: ['fixed', 'as'], episodeLenNs: 60e9, seed: 1, trainFrac: 0.5, fees: { makerBps: 0, takerBps: 2 }, queue: { model: 'prob-power' },
    latency: { feed: { dist: 'constant', ns: 0 }, entry: { dist: 'constant', ns: 1e6 }, response: { dist: 'constant', ns: 1e6 } }, stepNs: 1e9,
  });
  const [fixed, as] = r.strategies;
  assert.equal(as.summary.episodes, 4);
  assert.ok(r.asGammaSearch && r.asGammaSearch.length === 6);
  assert.ok(as.summary.stats.map.mean < fixed.summary.stats.map.mean, `MAP as ${as.summary.stats.map.mean} vs fixed ${fixed.summary.stats.map.mean}`);
  assert.ok(as.summary.stats.fills.mean > 0);
});
