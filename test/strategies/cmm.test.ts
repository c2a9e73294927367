// The CMM strategy: its state machine (warming up → quoting → paused on stale / missing / NaN predictions or stale
// data → quoting; risk cool-down; stop loss → flattening → stopped), quotes never carry NaN, quotes are pulled when
// the runner is stale; the prediction sources (routed bank, scheduled teacher); and a run inside the backtester.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Side } from '../../src/core/event';
import { InstrumentInfo } from '../../src/core/instrument';
import { Feature, NUM_FEATURES } from '../../src/market/market-engine';
import { MarketView, OrderGateway, StrategyContext } from '../../src/backtest/strategy';
import { ReplayBook } from '../../src/backtest/replay-book';
import { Simulation } from '../../src/backtest/simulation';
import { replay } from '../../src/backtest/backtest';
import { Tape } from '../../src/backtest/tape';
import { TimeInForce } from '../../src/backtest/types';
import { parseLatency } from '../../src/backtest/latency';
import { generateMarket } from '../../src/sim/generator';
import { StudentBank } from '../../src/moe/student-bank';
import { InProcessRunner } from '../../src/cmm/inference/in-process-runner';
import type { Prediction, StudentRunner } from '../../src/cmm/inference/types';
import {
  BankPredictions, CmmParams, CmmStrategy, MemoPredictions, PredictionSource, RunnerPredictions, ScheduledPredictions,
} from '../../src/strategies/cmm';
import { randomStudentSet } from '../../src/cmm/experiment-models';

const INSTRUMENT: InstrumentInfo = { id: 0, symbol: 'T', venue: 'test', tickSize: 0.01, lotSize: 1, bookType: 'L2' };
const PARAMS: CmmParams = {
  variant: 'cmm', quote: { gamma: 0.1, kappa: 1, sizeFraction: 1, sigma: 1, horizonSeconds: 1 }, regimeCuts: [0.5, 1.5],
};

/** One feature row per call: a valid two-sided book around `mid` (ticks); NaN time-since-trade until `traded`. */
class Rows {
  readonly features = new Float64Array(64 * NUM_FEATURES);
  readonly t = new Float64Array(64);
  readonly stale = new Uint8Array(64);
  n = 0;
  view(): MarketView {
    return { features: this.features, stride: NUM_FEATURES, t: this.t, stale: this.stale, count: this.n };
  }
  row(tNs: number, mid: number, opts: { traded?: boolean; rv?: number; stale?: boolean } = {}): number {
    const r = this.n++;
    const f = (k: Feature, v: number): void => void (this.features[r * NUM_FEATURES + k] = v);
    f(Feature.Mid, mid);
    f(Feature.Microprice, mid + 0.1);
    f(Feature.Spread, 2);
    f(Feature.Imbalance1, 0.1);
    f(Feature.Imbalance5, 0.05);
    f(Feature.Imbalance10, 0);
    f(Feature.Ofi, 3);
    f(Feature.TradeFlow, -2);
    f(Feature.RealisedVol, opts.rv ?? 1);
    f(Feature.Intensity, 20);
    f(Feature.TimeSinceTrade, opts.traded === false ? NaN : 0.5);
    f(Feature.BidPrice, mid - 1);
    f(Feature.AskPrice, mid + 1);
    f(Feature.BidQty, 5);
    f(Feature.AskQty, 7);
    this.t[r] = tNs;
    this.stale[r] = opts.stale ? 1 : 0;
    return r;
  }
}

/** Records every order action; `accept` decides what the risk overlay says. */
class Gateway implements OrderGateway {
  nowNs = 0;
  position = 0;
  cashTL = 0;
  feesTL = 0;
  fills = 0;
  accept = true;
  readonly quotes: { side: Side; price: number; qty: number }[] = [];
  readonly markets: { side: Side; qty: number }[] = [];
  cancels = 0;
  private readonly px = [NaN, NaN, NaN];
  private readonly qty = [0, 0, 0];
  quote(side: Side, price: number, qty: number): boolean {
    this.quotes.push({ side, price, qty });
    if (!this.accept) return false;
    this.px[side] = price;
    this.qty[side] = qty > 0 && price === price ? qty : 0;
    return true;
  }
  cancelQuotes(): void {
    this.cancels++;
    this.qty[1] = this.qty[2] = 0;
  }
  fits(): boolean {
    return true;
  }
  limit(_s: Side, _p: number, _q: number, _tif: TimeInForce): number {
    return 1;
  }
  market(side: Side, qty: number): number {
    this.markets.push({ side, qty });
    return 7;
  }
  cancel(): void {}
  quotePrice(side: Side): number {
    return this.px[side];
  }
  quoteQty(side: Side): number {
    return this.qty[side];
  }
  /** Working quotes right now (what the exchange would hold). */
  resting(): number {
    return this.qty[1] + this.qty[2];
  }
}

function ctx(over: Partial<StrategyContext> = {}): StrategyContext {
  return { instrument: INSTRUMENT, orderQty: 2, priceStep: 1, maxPosition: 20, episodeStartNs: 0, episodeEndNs: 1e12, episode: 0, training: false, seed: 1, ...over };
}

/** A source whose answer the test controls. */
class Scripted implements PredictionSource {
  readonly kind = 'scripted';
  readonly inputs = 11;
  why = '';
  value = [1.5, 3, 2];
  calls = 0;
  predict(_x: Float32Array, _r: number, _t: number, out: Float64Array): string {
    this.calls++;
    out[0] = this.value[0];
    out[1] = this.value[1];
    out[2] = this.value[2];
    return this.why;
  }
}

function finiteQuotes(gw: Gateway): void {
  for (const q of gw.quotes) assert.ok(q.qty === 0 || (Number.isFinite(q.price) && Number.isInteger(q.price)), `a quote carried price ${q.price} with qty ${q.qty}`);
}

test('warming up until x_t is valid and the regime known, then quoting on the grid, bid below ask', () => {
  const src = new Scripted();
  const s = new CmmStrategy(PARAMS, src);
  const gw = new Gateway();
  const rows = new Rows();
  s.beginEpisode(ctx());
  s.onBatch(rows.view());
  const a = rows.row(1e6, 1000, { traded: false });
  const b = rows.row(2e6, 1000, { rv: NaN });
  s.onBatch(rows.view());
  gw.nowNs = 1e6;
  s.decide(a, gw);
  gw.nowNs = 2e6;
  s.decide(b, gw);
  assert.equal(s.state, 'warmingUp');
  assert.equal(gw.quotes.length, 0, 'no quote while warming up');
  assert.equal(src.calls, 0, 'no prediction asked for invalid features');
  const c = rows.row(3e6, 1000);
  s.onBatch(rows.view());
  gw.nowNs = 3e6;
  s.decide(c, gw);
  assert.equal(s.state, 'quoting');
  assert.equal(s.lifecycle.transitions[0].from, 'warmingUp');
  const [bid, ask] = [gw.quotes.find((q) => q.side === Side.Bid)!, gw.quotes.find((q) => q.side === Side.Ask)!];
  assert.ok(bid.price < ask.price && bid.qty > 0 && ask.qty > 0);
  // Predicted mid +1.5 ticks, flat: the reservation is above the mid, so the ask is further up than the bid is down.
  assert.ok(ask.price - 1000 > 1000 - bid.price - 1, `quotes ${bid.price} / ${ask.price}`);
  assert.ok(ask.price >= 1001 && bid.price <= 999, 'post-only: neither side crosses the book');
  finiteQuotes(gw);
});

test('stale or missing predictions pause and pull quotes; fresh ones resume; NaN predictions never reach a quote', () => {
  const src = new Scripted();
  const s = new CmmStrategy(PARAMS, src);
  const gw = new Gateway();
  const rows = new Rows();
  s.beginEpisode(ctx());
  const r = [0, 1, 2, 3, 4, 5].map((i) => rows.row((i + 1) * 1e6, 1000 + i));
  s.onBatch(rows.view());
  const step = (i: number): void => {
    gw.nowNs = (i + 1) * 1e6;
    s.decide(r[i], gw);
  };
  step(0);
  assert.equal(s.state, 'quoting');
  assert.ok(gw.resting() > 0);
  src.why = 'predictions stale: the student runner reports stale';
  const before = gw.quotes.length;
  step(1);
  assert.equal(s.state, 'paused');
  assert.equal(gw.resting(), 0, 'quotes pulled');
  assert.equal(gw.quotes.length, before, 'no new quote while stale');
  assert.match(s.lifecycle.transitions.at(-1)!.reason, /stale/);
  src.why = '';
  step(2);
  assert.equal(s.state, 'quoting');
  src.value = [NaN, 3, 2];
  step(3);
  assert.equal(s.state, 'paused');
  assert.equal(gw.resting(), 0);
  assert.match(s.lifecycle.transitions.at(-1)!.reason, /NaN/);
  src.value = [0, Infinity, 2];
  step(4);
  assert.equal(s.state, 'paused');
  src.value = [0, 3, 2];
  step(5);
  assert.equal(s.state, 'quoting');
  finiteQuotes(gw);
  assert.deepEqual(Object.keys(s.lifecycle.counts).sort(), ['paused->quoting', 'quoting->paused', 'warmingUp->quoting']);
  assert.equal(s.lifecycle.counts['quoting->paused'], 2);
});

test('a stale runner pulls the quotes (RunnerPredictions), a fresh runner quotes again', () => {
  const real = InProcessRunner.create('native', { spec: randomStudentSet(3).moe });
  let stale = false;
  let fresh: Prediction | null = null;
  const fake = {
    backend: 'worker', inputs: 11,
    get stale() {
      return stale;
    },
    predict: (x: Float32Array) => (stale ? null : (fresh = real.predict(x))),
  } as unknown as StudentRunner;
  const s = new CmmStrategy(PARAMS, new RunnerPredictions(fake));
  const gw = new Gateway();
  const rows = new Rows();
  s.beginEpisode(ctx());
  const r = [0, 1, 2].map((i) => rows.row((i + 1) * 1e6, 1000));
  s.onBatch(rows.view());
  gw.nowNs = 1e6;
  s.decide(r[0], gw);
  assert.ok(fresh !== null);
  assert.equal(s.state, 'quoting', `state ${s.state}: ${s.lifecycle.transitions.map((t) => t.reason).join('; ')}`);
  stale = true;
  gw.nowNs = 2e6;
  s.decide(r[1], gw);
  assert.equal(s.state, 'paused');
  assert.equal(gw.resting(), 0);
  assert.match(s.lifecycle.transitions.at(-1)!.reason, /runner reports stale/);
  stale = false;
  gw.nowNs = 3e6;
  s.decide(r[2], gw);
  assert.equal(s.state, 'quoting');
  finiteQuotes(gw);
});

test('stale data (sequence gap) pauses; a risk refusal pauses for the cool-down', () => {
  const src = new Scripted();
  const s = new CmmStrategy({ ...PARAMS, riskPauseNs: 5e6 }, src);
  const gw = new Gateway();
  const rows = new Rows();
  s.beginEpisode(ctx());
  const a = rows.row(1e6, 1000);
  const b = rows.row(2e6, 1000, { stale: true });
  const c = rows.row(3e6, 1000);
  const d = rows.row(4e6, 1000);
  const e = rows.row(9e6, 1000);
  s.onBatch(rows.view());
  gw.nowNs = 1e6;
  s.decide(a, gw);
  gw.nowNs = 2e6;
  s.decide(b, gw);
  assert.equal(s.state, 'paused');
  assert.match(s.lifecycle.transitions.at(-1)!.reason, /stale data/);
  gw.accept = false;
  gw.nowNs = 3e6;
  s.decide(c, gw);
  assert.equal(s.state, 'paused');
  assert.match(s.lifecycle.transitions.at(-1)!.reason, /risk/);
  gw.accept = true;
  const n = gw.quotes.length;
  gw.nowNs = 4e6;
  s.decide(d, gw);
  assert.equal(gw.quotes.length, n, 'no quote during the cool-down');
  gw.nowNs = 9e6;
  s.decide(e, gw);
  assert.equal(s.state, 'quoting');
  assert.equal(s.counters.riskRefused, 1);
});

test('stop loss: flattening by a market order, then stopped for the rest of the episode', () => {
  const s = new CmmStrategy({ ...PARAMS, stopLoss: 5 }, new Scripted());
  const gw = new Gateway();
  const rows = new Rows();
  s.beginEpisode(ctx());
  const r = [0, 1, 2, 3].map((i) => rows.row((i + 1) * 1e6, 1000));
  s.onBatch(rows.view());
  gw.nowNs = 1e6;
  s.decide(r[0], gw);
  assert.equal(s.state, 'quoting');
  // Long 3 lots bought at 1200 ticks, mid 1000: −600 tick·lots = −6.00 in quote currency (tick 0.01).
  gw.position = 3;
  gw.cashTL = -3600;
  gw.nowNs = 2e6;
  s.decide(r[1], gw);
  assert.equal(s.state, 'flattening');
  assert.deepEqual(gw.markets, [{ side: Side.Ask, qty: 3 }]);
  assert.equal(gw.resting(), 0);
  gw.position = 0;
  gw.nowNs = 3e6;
  s.decide(r[2], gw);
  assert.equal(s.state, 'stopped');
  const n = gw.quotes.length;
  gw.nowNs = 4e6;
  s.decide(r[3], gw);
  assert.equal(gw.quotes.length, n, 'no quote after the stop');
  s.endEpisode({ episode: 0, pnl: 0, equityTL: 0, finalMid: 1000, finalPosition: 0 });
  assert.deepEqual(s.lifecycles[0].transitions.map((t) => t.to), ['quoting', 'flattening', 'stopped']);
});

test('routed bank reads the regime\'s student per task; per-task bank reads student k', () => {
  const set = randomStudentSet(5);
  const x = Float32Array.from({ length: 11 }, (_, i) => Math.sin(i));
  const bank = new StudentBank({ ...set.noDistill!, moe: undefined });
  const row = new Float32Array(bank.outSize);
  bank.run(x, row);
  const O = set.noDistill!.outputs;
  const out = new Float64Array(3);
  const routed = new BankPredictions(set.noDistill!, 'routed');
  for (let regime = 0; regime < 3; regime++) {
    assert.equal(routed.predict(x, regime, 0, out), '');
    for (let k = 0; k < 3; k++) assert.equal(out[k], row[(k * 3 + regime) * O + O - 1]);
  }
  const kd = new BankPredictions(set.plainKd!, 'perTask');
  const kb = new StudentBank({ ...set.plainKd!, moe: undefined });
  const krow = new Float32Array(kb.outSize);
  kb.run(x, krow);
  kd.predict(x, 2, 0, out);
  for (let k = 0; k < 3; k++) assert.equal(out[k], krow[(k + 1) * O - 1]);
  assert.throws(() => new BankPredictions(set.plainKd!, 'routed'), /9 students/);
});

test('scheduled teacher answers: usable only after their latency, stale after maxAge, cursor rewinds per episode', () => {
  const sp = new ScheduledPredictions(Float64Array.from([10, 20]), Float64Array.from([15, 25]), Float32Array.from([1, 2, 3, 4, 5, 6]), 8);
  const out = new Float64Array(3);
  const x = new Float32Array(11);
  sp.reset(0);
  assert.match(sp.predict(x, 0, 12, out), /no teacher answer/);
  assert.equal(sp.predict(x, 0, 15, out), '');
  assert.deepEqual(Array.from(out), [1, 2, 3]);
  assert.match(sp.predict(x, 0, 19, out), /too old/, 'decided at 10, 9 ns old with maxAge 8');
  assert.equal(sp.predict(x, 0, 26, out), '');
  assert.deepEqual(Array.from(out), [4, 5, 6]);
  sp.reset(16);
  assert.equal(sp.predict(x, 0, 17, out), '');
  assert.deepEqual(Array.from(out), [1, 2, 3]);
  const memo = new MemoPredictions(new Scripted());
  const m1 = memo.predict(x, 1, 5, out);
  const m2 = memo.predict(x, 1, 5, out);
  assert.equal(m1, m2);
  assert.equal((memo.inner as Scripted).calls, 1, 'the same x, regime and time: answered from the memo');
});

test('inside the backtester: warms up, quotes, never sends a NaN or off-grid price, lifecycle recorded', () => {
  const { bytes, summary } = generateMarket({ seconds: 90, regime: 'medium', seed: 3 });
  const tape = Tape.fromEvents([summary.instrument], bytes);
  const set = randomStudentSet(2);
  const runner = InProcessRunner.create('native', { spec: set.moe });
  const strat = new CmmStrategy({ ...PARAMS, quote: { ...PARAMS.quote, gamma: 0.05, kappa: 0.5 } }, new RunnerPredictions(runner));
  const book = new ReplayBook('L2');
  const sim = new Simulation(strat, book, {
    instrument: summary.instrument, orderQty: 1, priceStep: 1, fees: { makerBps: 0, takerBps: 2 }, queue: { model: 'prob-power' },
    latency: { feed: parseLatency('0'), entry: parseLatency('1ms'), response: parseLatency('1ms') },
    risk: { maxPosition: 10, maxOrderQty: 10, maxOrdersPerSecond: 200, maxLoss: Infinity, fatFingerBps: 100 }, stepNs: 1e9, warmupNs: 0, seed: 1,
  });
  replay(tape.batches, book, [sim], [{ index: 0, startNs: 10e9, endNs: 80e9 }]);
  assert.equal(sim.episodes.length, 1);
  assert.equal(strat.lifecycles.length, 1);
  const lc = strat.lifecycles[0];
  assert.equal(lc.transitions[0].from, 'warmingUp');
  assert.equal(lc.state, 'stopped');
  assert.ok(strat.counters.decisions > 100 && strat.counters.predictions > 0);
  const refusals = sim.episodes[0].riskRefusals;
  assert.equal(refusals['bad-price'], 0, 'no NaN / off-grid price reached the risk overlay');
  assert.equal(refusals['bad-qty'], 0);
  assert.ok(Number.isFinite(sim.episodes[0].epnl));
});
