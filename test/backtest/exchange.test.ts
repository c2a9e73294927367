// Simulated exchange on hand-made streams: order types, fees, self-liquidity, queue models, FIFO on L3.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { EventKind, Side } from '../../src/core/event';
import { QueueModelId } from '../../src/backtest/queue';
import { Liquidity, ReportKind, TimeInForce } from '../../src/backtest/types';
import { Rng } from '../../src/sim/rng';
import { Driver, Stream } from './helpers';

const twoSided = (): Stream => new Stream().level(0, Side.Bid, 99, 5).level(1, Side.Ask, 101, 5).level(2, Side.Ask, 102, 2);

test('post-only is rejected when it would cross; a GTC crossing order takes liquidity as taker', () => {
  const d = new Driver(twoSided(), 'L2', QueueModelId.RiskAverse, { takerBps: 10, makerBps: -1 }).run();
  const po = d.send(Side.Bid, 101, 1, TimeInForce.PostOnly);
  const rej = d.reports(ReportKind.Rejected);
  assert.equal(rej.length, 1);
  assert.equal(rej[0].clientId, po);
  assert.equal(rej[0].reason, 'post-only-would-cross');
  assert.equal(d.exchange.stats.rejected['post-only-would-cross'], 1);
  const g = d.send(Side.Bid, 101, 3, TimeInForce.Gtc);
  const fills = d.reports(ReportKind.Fill);
  assert.equal(fills.length, 1);
  assert.equal(fills[0].clientId, g);
  assert.equal(fills[0].price, 101);
  assert.equal(fills[0].qty, 3);
  assert.equal(fills[0].liquidity, Liquidity.Taker);
  assert.equal(fills[0].feeTL, (101 * 3 * 10) / 10000);
  assert.equal(d.account.position, 3);
  assert.equal(d.account.cashTL, -303);
  assert.equal(d.exchange.orders.length, 0, 'fully filled: nothing rests');
});

test('IOC takes what it can across levels and the remainder is cancelled', () => {
  const d = new Driver(twoSided(), 'L2', QueueModelId.RiskAverse).run();
  const id = d.send(Side.Bid, 102, 8, TimeInForce.Ioc);
  const fills = d.reports(ReportKind.Fill).map((r) => [r.price, r.qty, r.leaves]);
  assert.deepEqual(fills, [[101, 5, 3], [102, 2, 1]]);
  const cancels = d.reports(ReportKind.Cancelled);
  assert.equal(cancels.length, 1);
  assert.equal(cancels[0].clientId, id);
  assert.equal(cancels[0].qty, 1);
  assert.equal(cancels[0].reason, 'ioc-remainder');
  assert.equal(d.exchange.orders.length, 0);
});

test('liquidity we took is not offered again until venue updates remove it', () => {
  const s = twoSided()
    .level(10, Side.Ask, 101, 7) // grows by 2: consumed 5 stays, 2 new lots available
    .level(11, Side.Ask, 101, 1) // shrinks by 6: the consumed lots (now 7) drop to 1: none available
    .level(12, Side.Ask, 101, 0) // level gone: consumed forgotten
    .level(13, Side.Ask, 101, 4);
  const d = new Driver(s, 'L2', QueueModelId.RiskAverse).run(2);
  d.send(Side.Bid, 101, 5, TimeInForce.Ioc);
  assert.equal(d.filled(), 5);
  d.send(Side.Bid, 101, 5, TimeInForce.Ioc);
  assert.equal(d.filled(), 5, 'the same 5 lots are not taken twice');
  assert.equal(d.exchange.consumedAt(Side.Ask, 101), 5);
  d.run(3);
  const third = d.send(Side.Bid, 101, 5, TimeInForce.Ioc);
  assert.equal(d.filled(third), 2);
  d.run(4);
  const fourth = d.send(Side.Bid, 101, 5, TimeInForce.Ioc);
  assert.equal(d.filled(fourth), 0);
  d.run(6);
  assert.equal(d.exchange.consumedAt(Side.Ask, 101), 0);
  const fifth = d.send(Side.Bid, 101, 5, TimeInForce.Ioc);
  assert.equal(d.filled(fifth), 4);
});

test('a book snapshot voids the record of liquidity we took: the rebuilt level is offered in full', () => {
  const s = twoSided()
    .event(10, EventKind.SnapshotBegin, Side.None, 0, 0, 20, 0, 0)
    .event(10, EventKind.Modify, Side.Bid, 99, 5, 20, 0, 0)
    .event(10, EventKind.Modify, Side.Ask, 101, 5, 20, 0, 0)
    .event(10, EventKind.SnapshotEnd, Side.None, 0, 0, 20, 0);
  const d = new Driver(s, 'L2', QueueModelId.RiskAverse).run(2);
  d.send(Side.Bid, 101, 5, TimeInForce.Ioc);
  assert.equal(d.exchange.consumedAt(Side.Ask, 101), 5);
  d.run();
  assert.equal(d.exchange.consumedAt(Side.Ask, 101), 0, 'forgotten at the snapshot');
  assert.equal(d.filled(d.send(Side.Bid, 101, 5, TimeInForce.Ioc)), 5);
});

test('risk-averse queue: cancellations ahead never fill us; only trades printed at our level do', () => {
  const s = new Stream().level(0, Side.Bid, 99, 5).level(1, Side.Ask, 101, 5)
    .level(2, Side.Bid, 99, 3) // cancels ahead: front capped to 3, no fill
    .level(3, Side.Bid, 99, 0) // level empty: front 0, still no fill
    .level(4, Side.Bid, 99, 6) // new orders join behind us
    .trade(5, Side.Bid, 101, 2) // a buy print at the ask: never hits our bid
    .trade(6, Side.Ask, 99, 1); // a sell print at our level: we are at the head
  const d = new Driver(s, 'L2', QueueModelId.RiskAverse).run(1);
  const id = d.send(Side.Bid, 99, 2, TimeInForce.PostOnly);
  assert.equal(d.exchange.orders[0].front, 5);
  d.run(5);
  assert.equal(d.filled(), 0);
  assert.equal(d.exchange.orders[0].front, 0);
  d.run(6);
  assert.equal(d.filled(id), 1);
  assert.equal(d.reports(ReportKind.Fill)[0].liquidity, Liquidity.Maker);
});

test('risk-averse queue: trades at our level consume the queue ahead first, the excess fills us', () => {
  const s = new Stream().level(0, Side.Bid, 99, 5).level(1, Side.Ask, 101, 5).trade(2, Side.Ask, 99, 3).trade(3, Side.Ask, 99, 4);
  const d = new Driver(s, 'L2', QueueModelId.RiskAverse).run(1);
  d.send(Side.Bid, 99, 10, TimeInForce.PostOnly);
  d.run(2);
  assert.equal(d.filled(), 0);
  assert.equal(d.exchange.orders[0].front, 2);
  d.run(3);
  assert.equal(d.filled(), 2);
  assert.equal(d.exchange.orders[0].leaves, 8);
});

test('risk-averse queue never fills on random depth churn without prints at our level', () => {
  const rng = new Rng(42);
  const s = new Stream().level(0, Side.Bid, 99, 50).level(1, Side.Ask, 101, 50);
  for (let i = 0; i < 2000; i++) {
    const r = rng.uniform();
    if (r < 0.6) s.level(2 + i, Side.Bid, 99 - rng.int(3), rng.int(80));
    else if (r < 0.8) s.trade(2 + i, Side.Bid, 101, 1 + rng.int(5)); // buy prints at the ask
    else s.level(2 + i, Side.Ask, 101 + rng.int(3), rng.int(80));
  }
  const d = new Driver(s, 'L2', QueueModelId.RiskAverse).run(1);
  d.send(Side.Bid, 99, 5, TimeInForce.PostOnly);
  d.run();
  assert.equal(d.filled(), 0);
  assert.equal(d.exchange.orders.length, 1);
});

test('probabilistic queue (power 2): a cancellation is split between ahead and behind by f(back)/(f(back)+f(front))', () => {
  const s = new Stream().level(0, Side.Bid, 99, 10).level(1, Side.Ask, 101, 5)
    .level(2, Side.Bid, 99, 6) // -4, nobody behind us: all of it was ahead
    .level(3, Side.Bid, 99, 9) // +3 joins behind
    .level(4, Side.Bid, 99, 6); // -3: P(behind) = 3²/(3²+6²) = 0.2
  const prob = new Driver(s, 'L2', QueueModelId.ProbPower).run(1);
  prob.send(Side.Bid, 99, 1, TimeInForce.PostOnly);
  prob.run(2);
  assert.equal(prob.exchange.orders[0].front, 6);
  prob.run(4);
  // est = front − (1 − p)·chg + min(back − p·chg, 0) = 6 − 0.8·3 + 0 = 3.6
  assert.ok(Math.abs(prob.exchange.orders[0].front - 3.6) < 1e-12, String(prob.exchange.orders[0].front));
  const averse = new Driver(s, 'L2', QueueModelId.RiskAverse).run(1);
  averse.send(Side.Bid, 99, 1, TimeInForce.PostOnly);
  averse.run(4);
  assert.equal(averse.exchange.orders[0].front, 6, 'risk-averse only caps front at the level size');
});

test('a print through our price fills us; a book crossing our price fills us at our price as maker', () => {
  const s = new Stream().level(0, Side.Bid, 99, 5).level(1, Side.Ask, 101, 5)
    .trade(2, Side.Ask, 98, 2) // sell print below our bid at 99: through
    .level(3, Side.Ask, 99, 3); // an ask appears at our bid price: the book crosses us
  const d = new Driver(s, 'L2', QueueModelId.RiskAverse, { makerBps: -2 }).run(1);
  const id = d.send(Side.Bid, 99, 4, TimeInForce.PostOnly);
  d.run(2);
  assert.equal(d.filled(id), 2);
  d.run(3);
  const fills = d.reports(ReportKind.Fill);
  assert.deepEqual(fills.map((r) => [r.price, r.qty, r.liquidity]), [[99, 2, Liquidity.Maker], [99, 2, Liquidity.Maker]]);
  assert.equal(fills[1].feeTL, (99 * 2 * -2) / 10000, 'maker rebate');
  assert.equal(d.exchange.consumedAt(Side.Ask, 99), 2, 'the crossing liquidity we traded with is used up');
});

test('modify: a smaller size keeps the queue place, a new price goes to the back', () => {
  const s = new Stream().level(0, Side.Bid, 99, 5).level(1, Side.Ask, 101, 5).level(2, Side.Bid, 98, 7).level(3, Side.Bid, 99, 2);
  const d = new Driver(s, 'L2', QueueModelId.RiskAverse).run(2);
  const id = d.send(Side.Bid, 99, 4, TimeInForce.PostOnly);
  d.run(3);
  assert.equal(d.exchange.orders[0].front, 2);
  d.modify(id, 99, 3);
  assert.equal(d.exchange.orders[0].front, 2);
  assert.equal(d.exchange.orders[0].leaves, 3);
  d.modify(id, 98, 3);
  assert.equal(d.exchange.orders[0].front, 7);
  d.modify(id, 101, 3); // post-only repriced through the ask: refused, order unchanged
  assert.equal(d.exchange.stats.rejected['modify-would-cross'], 1);
  assert.equal(d.exchange.orders[0].price, 98);
});

test('FIFO on L3: exact queue position from the orders resting at our arrival', () => {
  const s = new Stream()
    .add(0, 1, Side.Bid, 100, 5) // A
    .add(1, 2, Side.Bid, 100, 3) // B
    .add(2, 9, Side.Ask, 102, 10)
    // our order arrives here (after row 2): front = 8
    .add(3, 3, Side.Bid, 100, 4) // C, behind us
    .cancel(4, 3, Side.Bid, 100, 4) // C cancelled: no change
    .exec(5, 1, Side.Ask, 100, 5) // A executed: front 3
    .cancel(6, 2, Side.Bid, 100, 1) // B reduced: front 2
    .exec(7, 2, Side.Ask, 100, 2) // B executed: front 0, no fill
    .add(8, 4, Side.Bid, 100, 6) // D behind us
    .exec(9, 4, Side.Ask, 100, 1); // D executed before us: FIFO says we were first
  const d = new Driver(s, 'L3', QueueModelId.Fifo).run(2);
  const id = d.send(Side.Bid, 100, 3, TimeInForce.PostOnly);
  const o = d.exchange.orders[0];
  assert.equal(o.front, 8);
  const fronts: number[] = [];
  for (let r = 3; r <= 8; r++) {
    d.run(r);
    fronts.push(o.front);
  }
  assert.deepEqual(fronts, [8, 8, 3, 2, 0, 0]);
  assert.equal(d.filled(), 0);
  d.run(9);
  assert.equal(d.filled(id), 1);
  assert.equal(o.leaves, 2);
});

test('FIFO on L3: an execution of an order behind us fills us even if we think orders are ahead', () => {
  const s = new Stream().add(0, 1, Side.Bid, 100, 5).add(1, 9, Side.Ask, 102, 1).add(2, 2, Side.Bid, 100, 4).exec(3, 2, Side.Ask, 100, 4);
  const d = new Driver(s, 'L3', QueueModelId.Fifo).run(1);
  d.send(Side.Bid, 100, 2, TimeInForce.PostOnly);
  d.run();
  assert.equal(d.filled(), 2);
});
