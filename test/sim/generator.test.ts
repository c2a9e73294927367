// The synthetic market: determinism, the event-record contract, regimes, drift, reversal and flash crash.
// Every run is seeded; statistical thresholds are justified next to each assertion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_SIZE, EventKind, Side } from '../../src/core/event';
import { EngineError } from '../../src/errors';
import { MarketGenerator, generateMarket } from '../../src/sim/generator';
import { REGIME_PARAMS, realisedVolByRegime } from '../../src/sim/scenario';
import { checkL2Stream, olsSlope, returnVolBps, std } from './sim-fixtures';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Traded volume by aggressor side (buy, sell) between `from` and `to` seconds after the first event. */
function tradeVolume(bytes: Uint8Array, from: number, to: number): [number, number] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t0 = dv.getBigInt64(0, true);
  let buy = 0;
  let sell = 0;
  for (let o = 0; o < bytes.length; o += EVENT_SIZE) {
    if (dv.getUint8(o + 60) !== EventKind.Trade) continue;
    const t = Number(dv.getBigInt64(o, true) - t0) / 1e9;
    if (t < from || t >= to) continue;
    if (dv.getUint8(o + 61) === Side.Bid) buy += Number(dv.getBigInt64(o + 24, true));
    else sell += Number(dv.getBigInt64(o + 24, true));
  }
  return [buy, sell];
}

test('same seed gives byte-identical events; another seed gives different events', () => {
  const opts = { seconds: 120, regime: 'switching' as const, seed: 42, trend: 'bull' as const, injectors: [{ kind: 'flash-crash' as const, atSeconds: 60, depthPct: 2 }] };
  const a = generateMarket(opts).bytes;
  const b = generateMarket(opts).bytes;
  assert.ok(a.length > 1000 * EVENT_SIZE);
  assert.ok(sameBytes(a, b));
  const c = generateMarket({ ...opts, seed: 43 }).bytes;
  assert.ok(!sameBytes(a, c));
  // Batch size changes only the chunking, never the stream.
  const d = generateMarket({ ...opts, batchEvents: 100 }).bytes;
  assert.ok(sameBytes(a, d));
});

test('the stream opens with a snapshot, chains seq/prev_seq, ends messages, and the book is never crossed', () => {
  const { bytes, summary } = generateMarket({ seconds: 600, regime: 'high', seed: 5, injectors: [{ kind: 'flash-crash', atSeconds: 200, depthPct: 5 }] });
  const chk = checkL2Stream(bytes);
  assert.deepEqual(chk.problems, []);
  assert.equal(chk.crossed, 0);
  assert.equal(chk.emptySide, 0);
  assert.equal(chk.events, summary.events);
  assert.equal(chk.messages, summary.messages);
  // Every message's seq is the previous one + 1 (the generator is a gap-free venue).
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let last = 0n;
  for (let i = 0; i < chk.events; i++) {
    const seq = dv.getBigUint64(i * EVENT_SIZE + 40, true);
    assert.ok(seq === last || seq === last + 1n, `seq ${seq} after ${last}`);
    last = seq;
  }
  // The summary's per-second mid is the book the stream builds (a message landing exactly on a second
  // boundary after ns rounding may differ: allow 0.5 % of seconds).
  let same = 0;
  for (let s = 0; s < summary.midPerSecond.length; s++) if (chk.midPerSecond[s] === summary.midPerSecond[s]) same++;
  assert.ok(same >= 0.995 * summary.midPerSecond.length, `${same} of ${summary.midPerSecond.length} seconds agree`);
});

test('realised volatility is ordered low < medium < high, measured on the generated mids', () => {
  // σ of the latent price steps ×2.5 between regimes; with microstructure noise the 1 s ratios observed are
  // ≈1.6–2.2, and the std of a 1200-sample vol estimate is ≈2 %, so a 1.25× margin cannot fail by chance.
  const vol: Record<string, number> = {};
  for (const regime of ['low', 'medium', 'high'] as const) {
    const { bytes } = generateMarket({ seconds: 1200, regime, seed: 9 });
    vol[regime] = returnVolBps(checkL2Stream(bytes).midPerSecond);
  }
  assert.ok(vol.medium > 1.25 * vol.low, JSON.stringify(vol));
  assert.ok(vol.high > 1.25 * vol.medium, JSON.stringify(vol));
  // At 10 s the bid-ask bounce averages out and the mid follows the latent σ (ticks/√s ≈ bp/√s at 10,000 ticks).
  for (const regime of ['low', 'medium', 'high'] as const) {
    const { summary } = generateMarket({ seconds: 1200, regime, seed: 10 });
    const m = Array.from(summary.midPerSecond).filter((_, i) => i % 10 === 0);
    const perRootSecond = returnVolBps(m) / Math.sqrt(10);
    const sigma = REGIME_PARAMS[regime].sigmaTicks;
    assert.ok(perRootSecond > 0.8 * sigma && perRootSecond < 1.5 * sigma, `${regime}: ${perRootSecond} vs σ ${sigma}`);
  }
});

test('switching follows a labelled Markov path and the labels order realised volatility', () => {
  const { summary } = generateMarket({ seconds: 3600, regime: 'switching', seed: 21 });
  const seen = new Set(summary.regimes.map((r) => r.regime));
  assert.equal(seen.size, 3, 'an hour visits all three regimes with this seed');
  for (let i = 1; i < summary.regimes.length; i++) {
    assert.equal(summary.regimes[i].startSeconds, summary.regimes[i - 1].endSeconds);
    assert.notEqual(summary.regimes[i].regime, summary.regimes[i - 1].regime);
  }
  const v = summary.realisedVolByRegime;
  assert.ok(v.low! < v.medium! && v.medium! < v.high!, JSON.stringify(v));
  assert.deepEqual(realisedVolByRegime(summary.midPerSecond, summary.regimes), v);
});

test('bull and bear drift the price; a reversal flips the sign of the drift', () => {
  // Drift 6 %/h of 10,000 ticks = 0.167 tick/s. The OLS slope of a Brownian path over T seconds has standard
  // error ≈ σ·√(6/(5T)) = 0.018 tick/s for σ = 0.4 (low), T = 600, so half the drift is 4.6 standard errors
  // from both zero and the nominal drift.
  for (const seed of [1, 2, 3]) {
    const { summary } = generateMarket({ seconds: 1200, regime: 'low', seed, trend: 'bull', trendPctPerHour: 6, injectors: [{ kind: 'reversal', atSeconds: 600 }] });
    const mids = Array.from(summary.midPerSecond);
    const before = olsSlope(mids.slice(0, 600));
    const after = olsSlope(mids.slice(600));
    assert.ok(before > 0.083, `seed ${seed}: slope before ${before}`);
    assert.ok(after < -0.083, `seed ${seed}: slope after ${after}`);
  }
  // The default 2 %/h (0.056 tick/s) over 1800 s: standard error ≈ 0.4·√(6/9000) = 0.010 tick/s.
  const bear = generateMarket({ seconds: 1800, regime: 'low', seed: 4, trend: 'bear' }).summary.midPerSecond;
  assert.ok(olsSlope(Array.from(bear)) < -0.025);
});

test('a flash crash drops about the requested depth with sell pressure, then recovers the stated fraction', () => {
  const depthPct = 5;
  const { bytes, summary } = generateMarket({ seconds: 900, regime: 'medium', seed: 8, injectors: [{ kind: 'flash-crash', atSeconds: 300, depthPct, dropSeconds: 30, recoveryFraction: 0.5, recoverySeconds: 300 }] });
  const mids = summary.midPerSecond;
  const m0 = mids[300];
  const low = Math.min(...Array.from(mids.subarray(300, 340)));
  const drop = (m0 - low) / m0 * 100;
  // medium σ over the 30 s fall is ≈ 5.5 ticks (0.06 %): the fall is the requested 5 % ± noise.
  assert.ok(drop > 0.85 * depthPct && drop < 1.15 * depthPct, `drop ${drop} %`);
  const settled = Array.from(mids.subarray(640, 700)).reduce((a, b) => a + b, 0) / 60;
  const recovered = (settled - low) / (m0 - low);
  // σ over the 6-minute recovery is ≈ 19 ticks against a 500-tick fall: ±0.15 is > 3 standard deviations.
  assert.ok(recovered > 0.35 && recovered < 0.65, `recovered ${recovered}`);
  // The fall is made by the flow: aggressive sells dominate while it falls.
  const during = checkL2Stream(bytes);
  assert.deepEqual(during.problems, []);
  assert.equal(during.crossed, 0);
  const [buys, sells] = tradeVolume(bytes, 300, 330);
  assert.ok(sells > 3 * buys, `sells ${sells} vs buys ${buys} during the fall`);
  assert.deepEqual(summary.injectorWindows.map((w) => [w.phase, w.startSeconds, w.endSeconds]), [['drop', 300, 330], ['recovery', 330, 630]]);
});

test('Hawkes market orders cluster: per-second counts are over-dispersed compared with plain Poisson', () => {
  const fano = (hawkes: boolean): number => {
    const { bytes } = generateMarket({ seconds: 1200, regime: 'medium', seed: 12, flow: hawkes ? {} : { hawkes: null } });
    const c = checkL2Stream(bytes).tradeMessagesPerSecond;
    const m = c.reduce((a, b) => a + b, 0) / c.length;
    return std(c) ** 2 / m;
  };
  const withHawkes = fano(true);
  const without = fano(false);
  // Branching ratio 0.4 gives a long-run Fano factor ≈ 1/(1−0.4)² ≈ 2.8 at horizons ≫ 1/β; at 1 s it is smaller.
  assert.ok(withHawkes > 1.2 * without, `Fano ${withHawkes} vs ${without}`);
});

test('streaming matches the in-memory result and reports progress', () => {
  const gen = new MarketGenerator({ seconds: 60, regime: 'medium', seed: 3, batchEvents: 256 });
  const parts: Uint8Array[] = [];
  let lastProgress = 0;
  for (let b = gen.next(); b; b = gen.next()) {
    parts.push(b.slice());
    assert.ok(gen.progress >= lastProgress);
    lastProgress = gen.progress;
  }
  assert.equal(lastProgress, 1);
  assert.equal(gen.next(), null);
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((off, p) => (joined.set(p, off), off + p.length), 0);
  assert.ok(sameBytes(joined, generateMarket({ seconds: 60, regime: 'medium', seed: 3 }).bytes));
  const noWarmup = generateMarket({ seconds: 10, regime: 'low', seed: 3, warmupSeconds: 0 });
  assert.deepEqual(checkL2Stream(noWarmup.bytes).problems, []);
});

test('bad generator options give "expected X for Y, got Z" errors', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ seconds: 0, regime: 'low', seed: 1 }, /expected a duration .* for the generated length, got 0/],
    [{ seconds: 60, regime: 'calm', seed: 1 }, /expected low, medium, high or switching for the regime, got "calm"/],
    [{ seconds: 60, regime: 'low', seed: -3 }, /expected a non-negative integer for the seed, got -3/],
    [{ seconds: 60, regime: 'low', seed: 1, trend: 'up' }, /expected bull, bear or sideways for the trend, got "up"/],
    [{ seconds: 60, regime: 'low', seed: 1, injectors: [{ kind: 'reversal', atSeconds: 10 }] }, /expected a bull or bear trend .* got "sideways"/],
    [{ seconds: 60, regime: 'low', seed: 1, injectors: [{ kind: 'flash-crash', atSeconds: 10, depthPct: 80 }] }, /expected a depth in \(0, 50\] % for flash-crash depth, got 80/],
    [{ seconds: 60, regime: 'low', seed: 1, injectors: [{ kind: 'flash-crash', atSeconds: 90, depthPct: 5 }] }, /expected a time before the end \(60 s\) for flash-crash at/],
    [{ seconds: 60, regime: 'low', seed: 1, flow: { hawkes: { alpha: 3, beta: 2 } } }, /expected 0 ≤ alpha < beta .* for flow.hawkes, got "alpha 3, beta 2"/],
  ];
  for (const [opts, re] of bad) {
    assert.throws(() => new MarketGenerator(opts as never), (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG' && re.test(e.message), JSON.stringify(opts));
  }
});
