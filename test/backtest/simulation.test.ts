// Simulation around the exchange: latency, lifecycle, risk overlay, accounting, determinism.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EventFlag, EventKind, Side } from '../../src/core/event';
import { EngineError } from '../../src/errors';
import { replay } from '../../src/backtest/backtest';
import { LatencySpec } from '../../src/backtest/latency';
import { ReplayBook } from '../../src/backtest/replay-book';
import { runBacktest } from '../../src/backtest/run';
import { SimConfig, Simulation } from '../../src/backtest/simulation';
import { Lifecycle } from '../../src/backtest/strategy';
import { Tape } from '../../src/backtest/tape';
import { ReportKind, TimeInForce } from '../../src/backtest/types';
import { AvellanedaStoikovStrategy } from '../../src/strategies/avellaneda-stoikov';
import { FixedSpreadStrategy } from '../../src/strategies/fixed-spread';
import { generateMarket } from '../../src/sim/generator';
import { L2, MS, ScriptedStrategy, Stream } from './helpers';

const zero: LatencySpec = { dist: 'constant', ns: 0 };

function config(over: Partial<SimConfig> = {}): SimConfig {
  return {
    instrument: L2, orderQty: 1, fees: { makerBps: 0, takerBps: 0 }, queue: { model: 'risk-averse' },
    latency: { feed: zero, entry: zero, response: zero },
    risk: { maxPosition: 10, maxOrderQty: 10, maxOrdersPerSecond: 1000, maxLoss: Infinity, fatFingerBps: 100 },
    stepNs: 1e9, warmupNs: 0, seed: 1, ...over,
  };
}

function simulate(stream: Stream, strategy: ScriptedStrategy, over: Partial<SimConfig> = {}): Simulation {
  const tape = Tape.fromEvents([L2], stream.bytes());
  const book = new ReplayBook('L2');
  const sim = new Simulation(strategy, book, config(over));
  replay(tape.batches, book, [sim], [{ index: 0, startNs: 0, endNs: tape.lastNs + 1 }]);
  return sim;
}

test('order-entry latency delays arrival; response latency delays what the strategy learns', () => {
  const s = new Stream().level(0, Side.Bid, 99, 5).level(1, Side.Ask, 101, 5)
    .trade(3, Side.Ask, 100, 3) // before our bid arrives (1 ms + 5 ms): no fill
    .trade(8, Side.Ask, 100, 3) // after: we are alone at 100, the print fills us
    .level(9, Side.Bid, 98, 1)
    .level(11, Side.Bid, 97, 1);
  let sentAt = NaN;
  const strat = new ScriptedStrategy((i, gw) => {
    if (i === 0) {
      sentAt = gw.nowNs;
      gw.limit(Side.Bid, 100, 2, TimeInForce.PostOnly);
    }
  });
  const sim = simulate(s, strat, { latency: { feed: zero, entry: { dist: 'constant', ns: 5 * MS }, response: { dist: 'constant', ns: 2 * MS } } });
  assert.equal(sentAt, 1 * MS);
  const seen = strat.reports.find((r) => r.report.kind === ReportKind.Fill);
  assert.ok(seen, 'the fill reached the strategy');
  assert.equal(seen.report.exchangeNs, 8 * MS, 'filled by the second print only');
  assert.equal(seen.report.notifyNs, 10 * MS);
  assert.equal(seen.atNs, 11 * MS, 'learned at the first event after the response latency');
  const ack = strat.reports.find((r) => r.report.kind === ReportKind.Accepted);
  assert.equal(ack?.report.exchangeNs, 6 * MS);
  assert.equal(sim.episodes[0].fills, 1);
  assert.equal(sim.episodes[0].finalPosition, 2);
});

test('lifecycle: transitions are validated and recorded', () => {
  const l = new Lifecycle();
  l.to('quoting', 1, 'warm');
  l.to('paused', 2, 'stale');
  l.to('quoting', 3, 'ok');
  l.to('flattening', 4, 'loss');
  assert.throws(() => l.to('quoting', 5, 'no'), (e: unknown) => e instanceof EngineError && e.code === 'E_INTERNAL');
  l.to('stopped', 6, 'flat');
  assert.throws(() => l.to('paused', 7, 'no'), EngineError);
  assert.deepEqual(l.transitions.map((t) => `${t.from}->${t.to}`), ['warmingUp->quoting', 'quoting->paused', 'paused->quoting', 'quoting->flattening', 'flattening->stopped']);
  assert.equal(l.counts['quoting->paused'], 1);
});

test('a one-sided book pauses quoting (quotes cancelled) until it is two-sided again', () => {
  const s = new Stream().level(0, Side.Bid, 99, 5).level(1, Side.Ask, 101, 5)
    .level(2, Side.Ask, 101, 0) // ask side empty
    .level(3, Side.Bid, 98, 1)
    .level(4, Side.Ask, 102, 5) // two-sided again
    .level(5, Side.Bid, 97, 1);
  const rows: number[] = [];
  const strat = new ScriptedStrategy((_i, gw, row) => {
    rows.push(row);
    gw.quote(Side.Bid, 98, 1);
  });
  const sim = simulate(s, strat);
  assert.deepEqual(rows, [1, 4, 5], 'no decisions while paused');
  const l = sim.lifecycles[0];
  assert.deepEqual(l.transitions.map((t) => `${t.from}->${t.to}`), ['warmingUp->quoting', 'quoting->paused', 'paused->quoting', 'quoting->stopped']);
  assert.equal(sim.exchange.stats.cancelled >= 1, true, 'the quote was cancelled on pause');
});

test('a sequence gap pauses quoting (stale data) until the next snapshot completes', () => {
  const s = new Stream()
    .event(0, EventKind.Modify, Side.Bid, 99, 5, 1, 0)
    .event(1, EventKind.Modify, Side.Ask, 101, 5, 2, 1)
    .event(2, EventKind.Modify, Side.Bid, 98, 5, 3, 2)
    .event(3, EventKind.Modify, Side.Bid, 97, 5, 10, 7) // prev_seq 7 but the last seq was 3: gap
    .event(4, EventKind.Modify, Side.Bid, 96, 5, 11, 10)
    .event(5, EventKind.SnapshotBegin, Side.None, 0, 0, 12, 11, 0)
    .event(5, EventKind.Modify, Side.Bid, 99, 5, 12, 11, EventFlag.Snapshot)
    .event(5, EventKind.Modify, Side.Ask, 100, 5, 12, 11, EventFlag.Snapshot)
    .event(5, EventKind.SnapshotEnd, Side.None, 0, 0, 12, 11)
    .event(6, EventKind.Modify, Side.Bid, 98, 5, 13, 12);
  const rows: number[] = [];
  const sim = simulate(s, new ScriptedStrategy((_i, gw, row) => {
    rows.push(row);
    gw.quote(Side.Bid, 98, 1);
  }));
  assert.deepEqual(rows, [1, 2, 8, 9]);
  const moves = sim.lifecycles[0].transitions.map((t) => `${t.from}->${t.to}: ${t.reason}`);
  assert.deepEqual(moves.slice(0, 3), ['warmingUp->quoting: warm-up done', 'quoting->paused: stale data: sequence gap, waiting for a snapshot', 'paused->quoting: book fresh and two-sided again']);
});

test('risk overlay refuses bad orders and counts each reason', () => {
  const s = new Stream().level(0, Side.Bid, 99, 5).level(1, Side.Ask, 101, 5);
  for (let i = 0; i < 20; i++) s.level(2 + i, Side.Bid, 98, 1 + i);
  const got: number[] = [];
  const strat = new ScriptedStrategy((i, gw) => {
    if (i !== 0) return;
    got.push(gw.limit(Side.Bid, NaN, 1, TimeInForce.Gtc));
    got.push(gw.limit(Side.Bid, -3, 1, TimeInForce.Gtc));
    got.push(gw.limit(Side.Bid, 99, 0, TimeInForce.Gtc));
    got.push(gw.limit(Side.Bid, 99, Infinity, TimeInForce.Gtc));
    got.push(gw.limit(Side.Bid, 99, 1.5, TimeInForce.Gtc));
    got.push(gw.limit(Side.Bid, 150, 1, TimeInForce.Gtc)); // 50 ticks from a mid of 100: outside max(1%, 5 ticks)
    got.push(gw.limit(Side.Bid, 99, 11, TimeInForce.Gtc)); // > maxOrderQty 10
    got.push(gw.limit(Side.Bid, 98, 6, TimeInForce.Gtc)); // accepted: exposure 6
    got.push(gw.limit(Side.Bid, 97, 6, TimeInForce.Gtc)); // exposure 12 > 10
    got.push(gw.limit(Side.Ask, 102, 2, TimeInForce.Gtc)); // accepted: the 2nd order this second (limit 2/s)
    got.push(gw.limit(Side.Ask, 103, 2, TimeInForce.Gtc)); // order-rate
  });
  const sim = simulate(s, strat, { risk: { maxPosition: 10, maxOrderQty: 10, maxOrdersPerSecond: 2, maxLoss: Infinity, fatFingerBps: 100 } });
  assert.deepEqual(got.map((v) => v > 0), [false, false, false, false, false, false, false, true, false, true, false]);
  const r = sim.episodes[0].riskRefusals;
  assert.deepEqual({ ...r }, {
    'bad-price': 2, 'bad-qty': 3, 'max-order-qty': 1, 'max-position': 1, 'order-rate': 1, 'fat-finger': 1, 'no-reference-price': 0, 'loss-limit': 0,
  });
});

test('loss limit: the overlay flattens the position and stops the strategy for the episode', () => {
  const s = new Stream().level(0, Side.Bid, 99, 50).level(1, Side.Ask, 101, 50);
  // The market falls 1 tick per 100 ms for 3 s.
  for (let i = 1; i <= 30; i++) {
    s.level(100 * i, Side.Ask, 101 - i, 50).level(100 * i + 1, Side.Bid, 99 - i, 50);
  }
  let decisionsAfterBuy = 0;
  const strat = new ScriptedStrategy((i, gw) => {
    if (i === 0) gw.market(Side.Bid, 8);
    else decisionsAfterBuy++;
  });
  const sim = simulate(s, strat, {
    stepNs: 500 * MS, risk: { maxPosition: 10, maxOrderQty: 10, maxOrdersPerSecond: 1000, maxLoss: 0.5, fatFingerBps: 100 },
    instrument: { ...L2, tickSize: 0.01, lotSize: 1 },
  });
  const e = sim.episodes[0];
  const moves = sim.lifecycles[0].transitions.map((t) => `${t.from}->${t.to}`);
  assert.deepEqual(moves, ['warmingUp->quoting', 'quoting->flattening', 'flattening->stopped']);
  assert.equal(e.riskRefusals['loss-limit'], 1);
  assert.equal(e.finalPosition, 0, 'flat after the stop');
  assert.ok(e.epnl < -0.5 + 1e-9, `lost at least the limit: ${e.epnl}`);
  const stopAt = sim.lifecycles[0].transitions[1].atNs;
  assert.ok(stopAt <= 1000 * MS, 'breach caught at a metrics step');
  assert.ok(decisionsAfterBuy < 20, 'no decisions once flattening');
});

test('accounting: cash + inventory × mid reconciles with the fills and fees at every step, exactly', () => {
  const g = generateMarket({ seconds: 240, regime: 'high', seed: 9 });
  const tape = Tape.fromEvents([g.summary.instrument], g.bytes);
  const inst = g.summary.instrument;
  for (const strategy of [new FixedSpreadStrategy({ halfSpreadTicks: 0.5 }), new AvellanedaStoikovStrategy({ gamma: 0.05, sigma: 2, k: 1, A: 1 })]) {
    const book = new ReplayBook(inst.bookType);
    const sim = new Simulation(strategy, book, {
      ...config({ instrument: inst, audit: true, fees: { makerBps: -0.7, takerBps: 3.1 }, queue: { model: 'prob-log' } }),
      latency: { feed: { dist: 'uniform', minNs: 0, maxNs: 2e5 }, entry: { dist: 'lognormal', minNs: 1e5, medianNs: 5e5, sigma: 0.7 }, response: { dist: 'exponential', minNs: 1e5, meanNs: 3e5 } },
    });
    replay(tape.batches, book, [sim], [0, 1, 2].map((i) => ({ index: i, startNs: 60e9 * (i + 1), endNs: 60e9 * (i + 2) })));
    assert.equal(sim.audits.length, 3);
    let fillsSeen = 0;
    sim.audits.forEach((audit, ep) => {
      const v = inst.tickSize * inst.lotSize;
      let k = 0;
      let cash = 0;
      let pos = 0;
      let fees = 0;
      for (const [fillsSoFar, position, cashTL, feesTL, mid, equity] of audit.steps) {
        for (; k < fillsSoFar; k++) {
          const [sign, px, qty, fee] = audit.fills[k];
          pos += sign * qty;
          if (sign > 0) cash -= px * qty;
          else cash += px * qty;
          fees += fee;
        }
        assert.equal(position, pos);
        assert.equal(cashTL, cash);
        assert.ok(Number.isInteger(cashTL), 'trade cash is whole tick·lots');
        assert.equal(feesTL, fees);
        assert.equal(equity, (cash + pos * mid - fees) * v);
      }
      assert.equal(k, audit.fills.length, `episode ${ep}: every fill was booked`);
      assert.equal(sim.episodes[ep].fills, audit.fills.length);
      assert.equal(sim.episodes[ep].epnl, audit.steps[audit.steps.length - 1][5], 'EPnL is the last step equity');
      fillsSeen += audit.fills.length;
    });
    assert.ok(fillsSeen > 20, `${strategy.name}: enough fills to mean something (${fillsSeen})`);
  }
});

test('determinism: same data, strategies and seed give byte-identical results; another seed differs', () => {
  const g = generateMarket({ seconds: 240, regime: 'medium', seed: 4 });
  const tape = Tape.fromEvents([g.summary.instrument], g.bytes, { source: 'generated' });
  const run = (seed: number): string => JSON.stringify(runBacktest({
    tape, strategies: ['fixed', 'as', 'rl'], episodeLenNs: 30e9, seed, trainFrac: 0.5, fees: { makerBps: 0, takerBps: 2 }, queue: { model: 'prob-power' },
    latency: { feed: { dist: 'uniform', minNs: 0, maxNs: 1e6 }, entry: { dist: 'lognormal', minNs: 2e5, medianNs: 1e6, sigma: 0.5 }, response: { dist: 'constant', ns: 1e6 } },
    stepNs: 1e9, rl: { epochs: 2, save: false },
  }));
  const a = run(7);
  assert.equal(run(7), a);
  assert.notEqual(run(8), a);
});
