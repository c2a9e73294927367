// Feature formulas checked against values worked out by hand (independent of the TS reference):
// mid, microprice, spread, imbalance, OFI e_n, decays by half-life, realised volatility, intensity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';
import { Feature, MarketEngine, NUM_FEATURES } from '../../src/market/market-engine';

const T0 = 1_000_000_000_000n;
const SEC = 1_000_000_000n;
const EOM = EventFlag.EndOfMessage;
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} != ${b}`);

function engine(): MarketEngine {
  return new MarketEngine([{ id: 0, symbol: 'X', venue: 'test', tickSize: 1, lotSize: 1, bookType: 'L2' }], {
    ofiHalfLife: 1, tradeFlowHalfLife: 1, volatilityHalfLife: 10, intensityTimeConstant: 1,
  });
}

test('top of book, imbalance, OFI, volatility, flow and intensity on a hand-worked sequence', () => {
  const e = engine();
  const b = new EventBatch();
  b.push(T0, T0, 0, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, 0n, 0n, EventFlag.Snapshot);
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 100n, 10n, 0n, 0n, 0n, EventFlag.Snapshot);
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 99n, 30n, 0n, 0n, 0n, EventFlag.Snapshot);
  b.push(T0, T0, 0, EventKind.Modify, Side.Ask, 102n, 20n, 0n, 0n, 0n, EventFlag.Snapshot);
  b.push(T0, T0, 0, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, 0n, 0n, EventFlag.Snapshot | EOM);
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 100n, 15n, 0n, 0n, 0n, EOM); // e = +5 (bid size up)
  b.push(T0, T0, 0, EventKind.Modify, Side.Ask, 101n, 4n, 0n, 0n, 0n, EOM); // e = -4 (better ask), mid 101 -> 100.5
  b.push(T0, T0, 0, EventKind.Trade, Side.Bid, 101n, 3n, 0n, 0n, 0n, EOM); // buy aggressor: flow +3
  b.push(T0 + SEC, T0 + SEC, 0, EventKind.Bbo, Side.None, 0n, 0n, 0n, 0n, 0n, EOM); // 1 s later, not counted
  const out = new Float64Array(b.length * NUM_FEATURES);
  e.apply(b.bytes(), b.length, out);
  const row = (i: number): Float64Array => out.subarray(i * NUM_FEATURES, (i + 1) * NUM_FEATURES);

  const snap = row(4);
  assert.equal(snap[Feature.Mid], 101);
  close(snap[Feature.Microprice], (100 * 20 + 102 * 10) / 30, 'microprice');
  assert.equal(snap[Feature.Spread], 2);
  close(snap[Feature.Imbalance1], (10 - 20) / 30, 'imbalance1');
  close(snap[Feature.Imbalance5], (40 - 20) / 60, 'imbalance5');
  assert.equal(snap[Feature.Ofi], 0, 'a snapshot is a baseline, not flow');
  assert.equal(snap[Feature.Intensity], 0, 'snapshot levels do not count as events');

  assert.equal(row(5)[Feature.Ofi], 5);
  const r6 = row(6);
  assert.equal(r6[Feature.Ofi], 1);
  assert.equal(r6[Feature.Mid], 100.5);
  assert.equal(r6[Feature.RealisedVol], 0.5);
  assert.equal(r6[Feature.Intensity], 2);
  const r7 = row(7);
  assert.equal(r7[Feature.TradeFlow], 3);
  assert.equal(r7[Feature.TimeSinceTrade], 0);
  assert.equal(r7[Feature.Intensity], 3);

  const later = row(8); // one OFI / flow half-life later
  close(later[Feature.Ofi], 0.5, 'ofi halves');
  close(later[Feature.TradeFlow], 1.5, 'flow halves');
  close(later[Feature.RealisedVol], Math.sqrt(0.25 * 2 ** -0.1), 'variance decays with its own half-life');
  close(later[Feature.Intensity], 3 * Math.exp(-1), 'intensity decays with tau');
  assert.equal(later[Feature.TimeSinceTrade], 1);
  assert.deepEqual([...e.features(0)], [...later]);
});

test('intensity converges to the event rate; timestamps going back count as no time', () => {
  const e = engine();
  const b = new EventBatch();
  for (let i = 0; i < 5000; i++) {
    const t = T0 + BigInt(i) * 1_000_000n; // 1000 events per second
    b.push(t, t, 0, EventKind.Modify, Side.Bid, 100n, BigInt(1 + (i % 7)), 0n, 0n, 0n, EOM);
  }
  e.apply(b.bytes(), b.length);
  const rate = e.features(0)[Feature.Intensity];
  // Geometric sum of e^(-0.001 k), k < 5000: about 1000 events/s once several tau have passed.
  assert.ok(Math.abs(rate - (1 - Math.exp(-5)) / (1 - Math.exp(-0.001))) < 1e-6, `rate ${rate}`);
  assert.ok(rate > 990 && rate < 1001);
  const back = new EventBatch();
  back.push(T0, T0, 0, EventKind.Trade, Side.Ask, 100n, 2n, 0n, 0n, 0n, EOM);
  e.apply(back.bytes(), 1);
  const f = e.features(0);
  close(f[Feature.Intensity], rate + 1, 'no decay for a timestamp in the past');
  assert.equal(f[Feature.TradeFlow], -2);
  assert.equal(f[Feature.TimeSinceTrade], 0);
});

test('OFI follows Cont-Kukanov-Stoikov when a side empties and refills', () => {
  const e = engine();
  const b = new EventBatch();
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 100n, 10n, 0n, 0n, 0n, EOM); // first consistent book: baseline
  b.push(T0, T0, 0, EventKind.Modify, Side.Ask, 105n, 7n, 0n, 0n, 0n, EOM); // ask from +inf to 105: e = -7
  b.push(T0, T0, 0, EventKind.DeleteLevel, Side.Bid, 100n, 0n, 0n, 0n, 0n, EOM); // bid to -inf: e = -10
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 98n, 6n, 0n, 0n, 0n, EOM); // bid from -inf: e = +6
  b.push(T0, T0, 0, EventKind.Modify, Side.Ask, 106n, 2n, 0n, 0n, 0n, 0); // not at EndOfMessage: no e yet
  b.push(T0, T0, 0, EventKind.Modify, Side.Ask, 105n, 0n, 0n, 0n, 0n, EOM); // ask up 105 -> 106: e = +7
  const out = new Float64Array(b.length * NUM_FEATURES);
  e.apply(b.bytes(), b.length, out);
  const ofi = [0, 1, 2, 3, 4, 5].map((i) => out[i * NUM_FEATURES + Feature.Ofi]);
  assert.deepEqual(ofi, [0, -7, -17, -11, -11, -4]);
  assert.ok(Number.isNaN(out[2 * NUM_FEATURES + Feature.Mid]));
  assert.equal(out[5 * NUM_FEATURES + Feature.RealisedVol], Math.sqrt(0.5 * 0.5), 'mid 101.5 -> 102 (NaN gaps skipped)');
});
