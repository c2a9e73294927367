// Bitstamp importer: L3 events sane and order ids consistent, trade aggressor inference, order_book
// snapshots used as checks only, crossed sweeps kept in one message, late changes, and the full log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { EventKind, EventRecord, Side } from '../../src/core/event';
import { importBitstamp } from '../../src/import/bitstamp';
import { fileSource, textSource } from '../../src/import/lines';
import { NO_SHARED_DATA, eventsOf, fixture, isEnd, marketEngineOrSkip, sharedData } from './import-fixtures';

const FIXTURE = fixture('bitstamp', '2015-05-01.head800.log');
const LINES = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.length > 0);

/** Replays L3 events into a plain order map, asserting every id is consistent; calls `atEnd` per message. */
function replayOrders(ev: EventRecord[], atEnd?: (orders: Map<bigint, EventRecord>) => void): Map<bigint, EventRecord> {
  const orders = new Map<bigint, EventRecord>();
  for (const e of ev) {
    if (e.kind === EventKind.Add) {
      assert.ok(e.side === Side.Bid || e.side === Side.Ask);
      assert.ok(e.qty > 0n && e.price > 0n && e.orderId > 0n);
      assert.ok(!orders.has(e.orderId), `Add of live id ${e.orderId}`);
      orders.set(e.orderId, e);
    } else if (e.kind === EventKind.Modify) {
      const o = orders.get(e.orderId);
      assert.ok(o, `Modify of unknown id ${e.orderId}`);
      assert.equal(e.side, o.side);
      if (e.qty === 0n) orders.delete(e.orderId);
      else orders.set(e.orderId, { ...o, qty: e.qty, price: e.price });
    } else if (e.kind === EventKind.Cancel) {
      const o = orders.get(e.orderId);
      assert.ok(o, `Cancel of unknown id ${e.orderId}`);
      assert.equal(e.qty, o.qty, 'a delete cancels the whole remaining amount');
      assert.equal(e.price, o.price);
      orders.delete(e.orderId);
    } else {
      assert.equal(e.kind, EventKind.Trade);
    }
    if (atEnd && isEnd(e)) atEnd(orders);
  }
  return orders;
}

function crossed(orders: Map<bigint, EventRecord>): boolean {
  let bid = -1n;
  let ask = -1n;
  for (const o of orders.values()) {
    if (o.side === Side.Bid && o.price > bid) bid = o.price;
    if (o.side === Side.Ask && (ask < 0n || o.price < ask)) ask = o.price;
  }
  return bid >= 0n && ask >= 0n && bid >= ask;
}

test('fixture: one L3 instrument, sane events, order ids consistent, snapshots not emitted', async () => {
  const r = await importBitstamp([fileSource(FIXTURE)]);
  const rep = r.reports[0];
  assert.equal(rep.errorCount, 0, JSON.stringify(rep.errors));
  assert.deepEqual(r.instruments, [{ id: 0, symbol: 'BTCUSD', venue: 'bitstamp', tickSize: 0.01, lotSize: 1e-8, bookType: 'L3' }]);
  const ev = eventsOf(r.batch);
  replayOrders(ev);
  const count = (name: string) => LINES.filter((l) => l.split(' ')[1] === name).length;
  assert.equal(ev.filter((e) => e.kind === EventKind.Add).length, count('order_created'));
  assert.equal(ev.filter((e) => e.kind === EventKind.Trade).length, count('trade'));
  assert.equal(rep.skipped['order_book (L2 top-20 snapshot of an L3 feed: verification only)'], count('order_book'));
  // Every order_deleted is either a Cancel or an order never seen (resting before the recording).
  const unseen = rep.skipped['order_deleted of an order never seen (rested before the recording)'] ?? 0;
  assert.equal(ev.filter((e) => e.kind === EventKind.Cancel).length + unseen + (rep.skipped['order_deleted repeated'] ?? 0), count('order_deleted'));
  // First event: the first line, exactly.
  assert.deepEqual([ev[0].kind, ev[0].side, ev[0].price, ev[0].qty, ev[0].orderId, ev[0].tsLocal, ev[0].tsExchange],
    [EventKind.Add, Side.Bid, 23647n, 200000000n, 65595247n, 1430438404518000000n, 1430438404518000000n]);
  assert.ok(rep.notes.some((n) => n.startsWith('order_book check:')));
});

test('trade aggressor: the newer of the two orders filled at the trade price', async () => {
  const r = await importBitstamp([fileSource(FIXTURE)]);
  const trades = eventsOf(r.batch).filter((e) => e.kind === EventKind.Trade);
  // Trade 1: buy 65595247 (new, 2.0 @ 236.47) meets the resting sell 65595187 -> buyer aggressor.
  assert.deepEqual([trades[0].side, trades[0].orderId, trades[0].price, trades[0].qty], [Side.Bid, 65595187n, 23647n, 21144331n]);
  // Trade 2: the new sell 65595250 (236.46) takes what is left of bid 65595247 at 236.47 -> seller aggressor.
  // The amount is printed as the float 1.7885566900000001: rounded to 178855669 lots.
  assert.deepEqual([trades[1].side, trades[1].orderId, trades[1].price, trades[1].qty], [Side.Ask, 65595247n, 23647n, 178855669n]);
  assert.ok(trades.every((t) => t.side !== Side.None), 'every trade of the fixture has a party at its price');
});

test('a sweep that crosses the book stays one message until uncrossed', async () => {
  const r = await importBitstamp([fileSource(FIXTURE)]);
  const ev = eventsOf(r.batch);
  let held = 0;
  ev.forEach((e) => (held += isEnd(e) ? 0 : 1));
  assert.ok(held > 0, 'the fixture has crossed moments');
  replayOrders(ev, (orders) => assert.ok(!crossed(orders), 'crossed at an EndOfMessage'));
});

test('order_changed after its order_deleted is skipped; a change of a never-seen order adds it', async () => {
  const text = [
    '1000 order_created {"price": "10.00", "amount": "1.00000000", "datetime": "1", "id": 1, "order_type": 0}',
    '1001 order_deleted {"price": "10.00", "amount": "0.00000000", "datetime": "1", "id": 1, "order_type": 0}',
    '1002 order_changed {"price": "10.00", "amount": "0.50000000", "datetime": "1", "id": 1, "order_type": 0}',
    '1003 order_changed {"price": "11.00", "amount": "2.00000000", "datetime": "1", "id": 7, "order_type": 1}',
    '1004 order_deleted {"price": "9.00", "amount": "3.00000000", "datetime": "1", "id": 8, "order_type": 1}',
  ];
  const r = await importBitstamp([textSource('mini.log', text)]);
  const ev = eventsOf(r.batch);
  // Lot 0.1: the finest size step in the input ("0.50000000").
  assert.equal(r.instruments[0].lotSize, 0.1);
  assert.deepEqual(ev.map((e) => [e.kind, e.orderId, e.qty]), [[EventKind.Add, 1n, 10n], [EventKind.Cancel, 1n, 10n], [EventKind.Add, 7n, 20n]]);
  assert.equal(r.reports[0].skipped['order_changed after its order_deleted (late message)'], 1);
  assert.equal(r.reports[0].skipped['order_deleted of an order never seen (rested before the recording)'], 1);
  assert.equal(r.reports[0].errorCount, 0);
});

test('a trade with no fill at its price keeps Side.None', async () => {
  const text = [
    '1000 order_created {"price": "10.00", "amount": "1.00000000", "datetime": "1", "id": 1, "order_type": 0}',
    '1001 trade {"price": 12.5, "amount": 0.25, "id": 5}',
  ];
  const r = await importBitstamp([textSource('mini.log', text)]);
  const t = eventsOf(r.batch)[1];
  // The trade's floats refine the scale: tick 0.1 (12.5), lot 0.01 (0.25).
  assert.deepEqual([r.instruments[0].tickSize, r.instruments[0].lotSize], [0.1, 0.01]);
  assert.deepEqual([t.kind, t.side, t.price, t.qty, t.orderId], [EventKind.Trade, Side.None, 125n, 25n, 0n]);
  assert.ok(r.reports[0].notes.some((n) => n.includes('1 trades without an inferable aggressor')));
});

test('full log: order ids consistent, never crossed at EndOfMessage, engine sees no unknown order', async (t) => {
  const file = sharedData('bitstamp/2015-05-01.log');
  if (!file) return t.skip(NO_SHARED_DATA);
  const r = await importBitstamp([fileSource(file)]);
  assert.equal(r.reports[0].errorCount, 0);
  const ev = eventsOf(r.batch);
  const live = replayOrders(ev);
  assert.ok(live.size > 0);
  const sided = ev.filter((e) => e.kind === EventKind.Trade && e.side !== Side.None).length;
  const trades = ev.filter((e) => e.kind === EventKind.Trade).length;
  assert.ok(sided / trades > 0.95, `${sided}/${trades} trades with an aggressor`);
  const MarketEngine = marketEngineOrSkip();
  if (MarketEngine) {
    const engine = new MarketEngine(r.instruments);
    engine.apply(r.batch.bytes(), r.batch.length);
    assert.equal(engine.stats().crossedEpisodes, 0);
    assert.equal(engine.stats().unknownOrders, 0);
  }
});
