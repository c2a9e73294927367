// The CMM quote rule (cmm.md "From predictions to quotes"): hand-computed examples, inventory skew direction,
// the one-tick minimum half-spread, outward rounding to the grid, size caps and lots, post-only never crossing,
// and NaN/Inf anywhere -> null (never a NaN price).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../src/errors';
import { Rng } from '../../src/sim/rng';
import { Quote, QuoteMarket, QuoteParams, QuotePrediction, QuoteRule, quoteFromPrediction } from '../../src/cmm/quote';

const SEED = Number(process.env.CMM_TEST_SEED ?? Date.now() % 1_000_000_000);
const P: QuoteParams = { gamma: 0.1, kappa: 1.5, sizeFraction: 0.5, horizon: 10, maxOrderSize: 5, maxPosition: 10 };
const M: QuoteMarket = { mid: 1000.5, bestBid: 1000, bestAsk: 1001, sigma: 0.5, inventory: 2 };
const Y: QuotePrediction = { mid: 0.8, spread: 3, volume: Math.log1p(9) };

function q(pred: Partial<QuotePrediction> = {}, market: Partial<QuoteMarket> = {}, params: Partial<QuoteParams> = {}): Quote | null {
  return quoteFromPrediction({ ...Y, ...pred }, { ...M, ...market }, { ...P, ...params });
}

test('hand-computed example in ticks', () => {
  // r = 1000.5 + 0.8 - 2*0.1*0.5^2*10 = 1000.8;  delta = max(3/2, 1) + ln(1 + 0.1/1.5)/0.1/2 = 1.5 + 0.32269...
  // bid = floor(998.977...) = 998, ask = ceil(1002.622...) = 1003;  size = 0.5 * expm1(log1p 9) = 4.5 -> 4 lots.
  const r = q();
  assert.ok(r);
  assert.ok(Math.abs(r.reservation - 1000.8) < 1e-9);
  assert.ok(Math.abs(r.halfSpread - (1.5 + Math.log(1 + 0.1 / 1.5) / 0.2)) < 1e-12);
  assert.ok(Math.abs(r.halfSpread - 1.8226926) < 1e-6);
  assert.deepEqual([r.bidTicks, r.askTicks, r.bidPrice, r.askPrice, r.bidSize, r.askSize], [998, 1003, 998, 1003, 4, 4]);
});

test('hand-computed example with a 0.5 tick, lots of 2 and a short inventory', () => {
  // r = 100.25 + (-1)(0.5) - (-3)(0.5)(0.2^2)(4) = 99.99;  delta = max(1*0.5/2, 0.5) + ln(1.25)/0.5/2 = 0.72314...
  // bid = floor(99.2669/0.5) = 198 -> 99.0, ask = ceil(100.7131/0.5) = 202 -> 101.0
  // size = 0.25*20 = 5 -> maxOrderSize 3; bid room 4+3 = 7 -> 3 -> 2 (lots of 2); ask room 4-3 = 1 -> 0 (not quoted)
  const r = quoteFromPrediction(
    { mid: -1, spread: 1, volume: Math.log1p(20) },
    { mid: 100.25, bestBid: 100, bestAsk: 100.5, sigma: 0.2, inventory: -3 },
    { gamma: 0.5, kappa: 2, sizeFraction: 0.25, horizon: 4, tick: 0.5, lot: 2, maxOrderSize: 3, maxPosition: 4 },
  );
  assert.ok(r);
  assert.ok(Math.abs(r.reservation - 99.99) < 1e-9);
  assert.ok(Math.abs(r.halfSpread - (0.5 + Math.log(1.25))) < 1e-12);
  assert.deepEqual([r.bidTicks, r.askTicks, r.bidPrice, r.askPrice, r.bidSize, r.askSize], [198, 202, 99, 101, 2, 0]);
});

test('inventory skews the reservation price against the position; the predicted mid moves it with the sign', () => {
  const flat = q({}, { inventory: 0 })!, long = q({}, { inventory: 5 })!, short = q({}, { inventory: -5 })!;
  assert.ok(long.reservation < flat.reservation && flat.reservation < short.reservation);
  assert.ok(long.bidTicks <= flat.bidTicks && long.askTicks <= flat.askTicks);
  assert.ok(short.bidTicks >= flat.bidTicks && short.askTicks >= flat.askTicks);
  assert.ok(Math.abs(flat.reservation - long.reservation - 5 * 0.1 * 0.25 * 10) < 1e-9);
  const up = q({ mid: 2 }, { inventory: 0 })!, down = q({ mid: -2 }, { inventory: 0 })!;
  assert.ok(Math.abs(up.reservation - down.reservation - 4) < 1e-9);
  assert.equal(q({}, { inventory: 3 }, { horizon: 0 })!.reservation, q({}, { inventory: 0 }, { horizon: 0 })!.reservation, 'no skew at tau_h = 0');
});

test('half-spread is at least one tick plus the AS term, whatever the predicted spread', () => {
  for (const tick of [1, 0.01, 0.5]) {
    const as = Math.log1p(P.gamma / P.kappa) / P.gamma / 2;
    for (const spread of [-5, 0, 0.3, 1.99, 2]) {
      const r = q({ spread }, { mid: 1000.5 * tick, bestBid: 1000 * tick, bestAsk: 1001 * tick, sigma: 0.5 * tick }, { tick, postOnly: false })!;
      assert.ok(Math.abs(r.halfSpread - (tick + as)) < 1e-12, `spread ${spread}, tick ${tick}`);
      assert.ok(r.askTicks - r.bidTicks >= 2, 'at least two ticks between bid and ask');
    }
    const wide = q({ spread: 8 }, { mid: 1000.5 * tick }, { tick })!;
    assert.ok(Math.abs(wide.halfSpread - (4 * tick + as)) < 1e-12);
  }
});

test('size: fraction of expm1(volume), capped by maxOrderSize and the room to maxPosition, whole lots, never negative', () => {
  assert.equal(q({ volume: Math.log1p(100) })!.bidSize, 5, 'maxOrderSize');
  assert.equal(q({ volume: Math.log1p(3) })!.bidSize, 1, '0.5 * 3 = 1.5 -> 1 lot');
  assert.equal(q({ volume: Math.log1p(1) })!.bidSize, 0, '0.5 lots rounds to none');
  assert.equal(q({ volume: -2 })!.askSize, 0, 'negative log volume: no size');
  const atLimit = q({ volume: Math.log1p(100) }, { inventory: 10 })!;
  assert.deepEqual([atLimit.bidSize, atLimit.askSize], [0, 5], 'long at the limit: sell only');
  const near = q({ volume: Math.log1p(100) }, { inventory: -8 })!;
  assert.deepEqual([near.bidSize, near.askSize], [5, 2], 'short 8 of 10: asks capped to the 2 lots of room');
  const over = q({ volume: Math.log1p(100) }, { inventory: -12 })!;
  assert.deepEqual([over.bidSize, over.askSize], [5, 0], 'beyond the limit: no size on that side');
  assert.equal(q({ volume: Math.log1p(100) }, {}, { lot: 2, maxOrderSize: 5 })!.bidSize, 4, 'lots of 2');
  assert.equal(q({ volume: Math.log1p(100) }, {}, { maxPosition: 0 })!.bidSize, 0);
});

test(`prices are on the grid, rounded outward (bid down, ask up, by less than a tick) (seed ${SEED})`, () => {
  const rng = new Rng(SEED);
  for (let i = 0; i < 2000; i++) {
    const tick = [1, 0.01, 0.25, 5][i % 4];
    const mid = (1000 + rng.normal() * 50) * tick;
    const rule = new QuoteRule({ ...P, tick, postOnly: false, gamma: 0.01 + rng.uniform(), kappa: 0.1 + rng.uniform() * 3 });
    const r = rule.quote({ mid: rng.normal() * 3, spread: rng.uniform() * 6, volume: rng.uniform() * 5 },
      { mid, bestBid: mid - tick / 2, bestAsk: mid + tick / 2, sigma: rng.uniform() * tick, inventory: Math.round(rng.normal() * 4) })!;
    assert.ok(Number.isInteger(r.bidTicks) && Number.isInteger(r.askTicks));
    assert.equal(r.bidPrice, r.bidTicks * tick);
    const lo = (r.reservation - r.halfSpread) / tick, hi = (r.reservation + r.halfSpread) / tick;
    assert.ok(r.bidTicks <= lo + 1e-6 && r.bidTicks > lo - 1, `bid ${r.bidTicks} vs ${lo}`);
    assert.ok(r.askTicks >= hi - 1e-6 && r.askTicks < hi + 1, `ask ${r.askTicks} vs ${hi}`);
  }
  // Within float tolerance (relative 1e-9) of a grid point stays on it: r = 1000, delta = 1 tick + a ~5e-10 AS term.
  const exact = q({ mid: 0, spread: 2 }, { mid: 1000, bestBid: 999, bestAsk: 1001, inventory: 0 }, { gamma: 1e-9, kappa: 1e9 })!;
  assert.deepEqual([exact.bidTicks, exact.askTicks], [999, 1001]);
});

test('post-only: the bid never reaches the best ask nor the ask the best bid, even on a strong signal; off: it may cross', () => {
  const rng = new Rng(SEED + 1);
  for (let i = 0; i < 2000; i++) {
    const bestBid = 1000 + Math.round(rng.normal() * 3), bestAsk = bestBid + 1 + Math.floor(rng.uniform() * 3);
    const r = q({ mid: rng.normal() * 20, spread: rng.uniform() * 4 }, { mid: (bestBid + bestAsk) / 2, bestBid, bestAsk, inventory: Math.round(rng.normal() * 8) })!;
    assert.ok(r.bidTicks < bestAsk && r.askTicks > bestBid, `bid ${r.bidTicks} ask ${r.askTicks} book ${bestBid}/${bestAsk}`);
    assert.ok(r.bidTicks < r.askTicks);
  }
  const strongUp = q({ mid: 30 });
  assert.equal(strongUp!.bidTicks, 1000, 'clamped one tick below the best ask');
  const strongDown = q({ mid: -30 });
  assert.equal(strongDown!.askTicks, 1001, 'clamped one tick above the best bid');
  assert.ok(q({ mid: 30 }, {}, { postOnly: false })!.bidTicks >= 1001, 'crossing allowed when configured');
});

test('NaN or Inf in any input pulls the quote (null); no NaN price ever', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (const k of ['mid', 'spread', 'volume'] as const) assert.equal(q({ [k]: bad }), null, `pred.${k} = ${bad}`);
    for (const k of ['mid', 'bestBid', 'bestAsk', 'sigma', 'inventory'] as const) assert.equal(q({}, { [k]: bad }), null, `market.${k} = ${bad}`);
  }
  const rng = new Rng(SEED + 2);
  const pick = (): number => [NaN, Infinity, 1e308, -1e308, 0, rng.normal() * 1e3][Math.floor(rng.uniform() * 6)];
  for (let i = 0; i < 3000; i++) {
    const r = q({ mid: pick(), spread: pick(), volume: pick() }, { mid: pick(), bestBid: pick(), bestAsk: pick(), sigma: pick(), inventory: pick() });
    if (r === null) continue;
    for (const v of Object.values(r)) assert.ok(Number.isFinite(v), JSON.stringify(r));
  }
});

test('QuoteRule reuses the out object; parameters are validated with clear errors', () => {
  const rule = new QuoteRule(P);
  const out: Quote = { reservation: 0, halfSpread: 0, bidTicks: 0, askTicks: 0, bidPrice: 0, askPrice: 0, bidSize: 0, askSize: 0 };
  assert.equal(rule.quote(Y, M, out), out);
  assert.equal(out.bidTicks, 998);
  const bad = (p: Partial<QuoteParams>, re: RegExp): void =>
    assert.throws(() => new QuoteRule({ ...P, ...p } as QuoteParams), (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG' && re.test(e.message));
  bad({ gamma: 0 }, /quote\.gamma/);
  bad({ kappa: -1 }, /quote\.kappa/);
  bad({ sizeFraction: NaN }, /quote\.sizeFraction/);
  bad({ horizon: -1 }, /quote\.horizon/);
  bad({ tick: 0 }, /quote\.tick/);
  bad({ lot: Infinity }, /quote\.lot/);
  bad({ maxOrderSize: -1 }, /quote\.maxOrderSize/);
  bad({ postOnly: 'yes' as unknown as boolean }, /quote\.postOnly/);
});
