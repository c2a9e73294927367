// The native books against the plain TS reference books: on the real MSFT L3 day (full file from
// ../shared/data when present, else a 20,000-row fixture) and on seeded random operation streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBatch, EventFlag, EventKind, Side, readEvent } from '../../src/core/event';
import { OrderBook } from '../../src/book/order-book';
import { BookStatus, ReferenceL2Book, ReferenceL3Book } from '../../src/book/reference-book';
import { parseLobsterMessages } from '../../src/import/lobster';
import { Ev, assertSameBook, batchOf, msftMessages, rng } from './book-fixtures';

const opposite = (s: Side): Side => (s === Side.Bid ? Side.Ask : Side.Bid);

test('MSFT L3 day: native L3 book equals the reference after every event; L2 replay of its levels too', () => {
  const msgs = parseLobsterMessages(msftMessages());
  assert.equal(msgs.skipped, 0);
  const bytes = msgs.batch.bytes();
  const n = msgs.batch.length;
  const l3 = OrderBook.l3();
  const ref3 = new ReferenceL3Book();
  const l2Stream = new EventBatch(n); // the L3 day as absolute level updates
  for (let i = 0; i < n; i++) {
    const e = readEvent(bytes, i);
    const applied = l3.apply(bytes, 1, i);
    const status = ref3.apply(e);
    assert.equal(applied === 1, status === BookStatus.Ok, `event ${i}: status`);
    const price = Number(e.price);
    const side = e.kind === EventKind.Trade ? opposite(e.side) : e.side;
    if (side === Side.Bid || side === Side.Ask) {
      const qty = ref3.levelQty(side, price);
      if (l3.levelQty(side, price) !== qty) assert.fail(`event ${i} (line ${msgs.line[i]}): level ${price} native ${l3.levelQty(side, price)} reference ${qty}`);
      l2Stream.push(e.tsExchange, e.tsLocal, 0, EventKind.Modify, side, e.price, BigInt(qty), 0n, 0n, 0n, EventFlag.EndOfMessage);
    }
    if (e.orderId !== 0n && l3.queueAhead(e.orderId) !== ref3.queueAhead(e.orderId)) {
      assert.fail(`event ${i}: queue ahead of order ${e.orderId}: native ${l3.queueAhead(e.orderId)} reference ${ref3.queueAhead(e.orderId)}`);
    }
    if (l3.bestPrice(Side.Bid) !== (ref3.best(Side.Bid)?.price ?? NaN) && !(Number.isNaN(l3.bestPrice(Side.Bid)) && ref3.best(Side.Bid) === null)) {
      assert.fail(`event ${i}: best bid native ${l3.bestPrice(Side.Bid)} reference ${ref3.best(Side.Bid)?.price}`);
    }
    if (i % 1000 === 0) assertSameBook(l3, ref3, `event ${i}`);
  }
  assertSameBook(l3, ref3, 'end of file');
  const stats = l3.stats();
  assert.equal(stats.unknownOrders, ref3.unknownOrders);
  assert.ok(stats.unknownOrders > 0, 'the MSFT file starts with orders resting before it: some ids are unknown');
  assert.equal(stats.orders, ref3.orderCount);
  for (const id of ref3.liveOrderIds()) assert.equal(l3.queueAhead(id), ref3.queueAhead(id), `order ${id}`);

  const l2 = OrderBook.l2();
  const ref2 = new ReferenceL2Book();
  const l2Bytes = l2Stream.bytes();
  for (let i = 0; i < l2Stream.length; i++) {
    l2.apply(l2Bytes, 1, i);
    const e = readEvent(l2Bytes, i);
    ref2.apply(e);
    if (l2.levelQty(e.side, Number(e.price)) !== ref2.levelQty(e.side, Number(e.price))) assert.fail(`L2 event ${i}`);
    if (i % 1000 === 0) assertSameBook(l2, ref2, `L2 event ${i}`);
  }
  assertSameBook(l2, ref2, 'L2 end');
  assertSameBook(l2, ref3, 'L2 replay equals the L3 book');
});

/** One random event over a small price range, so levels collide, cross and empty often. */
function randomL3Event(r: () => number, live: bigint[]): Ev {
  const side = r() < 0.5 ? Side.Bid : Side.Ask;
  const price = side === Side.Bid ? 95 + Math.floor(r() * 8) : 99 + Math.floor(r() * 8);
  const pickId = (): number => (live.length > 0 && r() < 0.8 ? Number(live[Math.floor(r() * live.length)]) : 1 + Math.floor(r() * 400));
  const x = r();
  if (x < 0.35) return { kind: EventKind.Add, side, price, qty: 1 + Math.floor(r() * 40), id: r() < 0.05 ? 0 : 1 + Math.floor(r() * 400) };
  if (x < 0.5) return { kind: EventKind.Modify, side, price: r() < 0.6 ? price : price + 1, qty: Math.floor(r() * 50), id: r() < 0.05 ? 0 : pickId() };
  if (x < 0.7) return { kind: EventKind.Cancel, side, price, qty: 1 + Math.floor(r() * 40), id: r() < 0.05 ? 0 : pickId() };
  if (x < 0.85) {
    const flags = r() < 0.9 ? EventFlag.ExecResting : EventFlag.ExecResting | EventFlag.Hidden;
    return { kind: EventKind.Trade, side, price, qty: 1 + Math.floor(r() * 40), id: pickId(), flags };
  }
  if (x < 0.88) return { kind: EventKind.DeleteLevel, side, price };
  if (x < 0.89) return { kind: r() < 0.5 ? EventKind.Clear : EventKind.SnapshotBegin };
  if (x < 0.93) return { kind: EventKind.Add, side: r() < 0.5 ? Side.None : side, price, qty: r() < 0.5 ? -3 : 0, id: 1 + Math.floor(r() * 400) }; // malformed
  return { kind: r() < 0.5 ? EventKind.Bbo : EventKind.Status, side, price, qty: 1 };
}

test('random L3 operation streams: native equals reference after every batch', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = rng(seed);
    const book = OrderBook.l3();
    const ref = new ReferenceL3Book();
    for (let round = 0; round < 300; round++) {
      const events: Ev[] = [];
      const size = 1 + Math.floor(r() * 12);
      for (let k = 0; k < size; k++) events.push(randomL3Event(r, ref.liveOrderIds()));
      const b = batchOf(events);
      const ctx = `seed ${seed} round ${round}`;
      assert.equal(book.apply(b), ref.applyBytes(b.bytes()), `${ctx}: applied`);
      assertSameBook(book, ref, ctx);
      for (const id of ref.liveOrderIds()) {
        assert.equal(book.queueAhead(id), ref.queueAhead(id), `${ctx}: queue ahead of ${id}`);
        assert.deepEqual(book.order(id), ref.order(id), `${ctx}: order ${id}`);
      }
      const side = r() < 0.5 ? Side.Bid : Side.Ask;
      const price = 95 + Math.floor(r() * 12);
      assert.equal(book.qtyAhead(side, price), ref.qtyAhead(side, price), `${ctx}: qtyAhead`);
      assert.equal(book.untrackedQty(side, price), ref.untrackedQty(side, price), `${ctx}: untracked`);
      const y = r();
      if (y < 0.1) assert.equal(book.pruneCrossed(side), ref.pruneCrossed(side), `${ctx}: pruneCrossed`);
      else if (y < 0.2) {
        const qty = Math.floor(r() * 60);
        assert.equal(book.setLevel(side, price, qty), ref.setLevel(side, price, qty), `${ctx}: setLevel`);
      }
      assertSameBook(book, ref, `${ctx} after reads`);
    }
    const stats = book.stats();
    assert.equal(stats.unknownOrders, ref.unknownOrders, `seed ${seed}: unknown`);
    assert.equal(stats.invalid, ref.invalidEvents, `seed ${seed}: invalid`);
    assert.equal(stats.duplicateAdds, ref.duplicateAdds, `seed ${seed}: duplicate adds`);
    assert.equal(stats.orders, ref.orderCount, `seed ${seed}: orders`);
  }
});

test('random L2 operation streams: native equals reference after every batch', () => {
  const kinds = [EventKind.Modify, EventKind.Modify, EventKind.Cancel, EventKind.Add, EventKind.DeleteLevel, EventKind.Trade, EventKind.Bbo];
  for (const seed of [11, 12, 13]) {
    const r = rng(seed);
    const book = OrderBook.l2();
    const ref = new ReferenceL2Book();
    for (let round = 0; round < 300; round++) {
      const events: Ev[] = [];
      for (let k = 0, size = 1 + Math.floor(r() * 10); k < size; k++) {
        const x = r();
        const kind = x < 0.01 ? EventKind.SnapshotBegin : kinds[Math.floor(r() * kinds.length)];
        const side = r() < 0.03 ? Side.None : r() < 0.5 ? Side.Bid : Side.Ask;
        events.push({ kind, side, price: 90 + Math.floor(r() * 20), qty: Math.floor(r() * 30) - (r() < 0.03 ? 40 : 0) });
      }
      const b = batchOf(events);
      const ctx = `seed ${seed} round ${round}`;
      assert.equal(book.apply(b), ref.applyBytes(b.bytes()), `${ctx}: applied`);
      assertSameBook(book, ref, ctx);
      const side = r() < 0.5 ? Side.Bid : Side.Ask;
      const price = 90 + Math.floor(r() * 20);
      assert.equal(book.qtyAhead(side, price), ref.qtyAhead(side, price), `${ctx}: qtyAhead`);
      if (r() < 0.1) assert.equal(book.pruneCrossed(side), ref.pruneCrossed(side), `${ctx}: pruneCrossed`);
    }
    assert.equal(book.stats().invalid, ref.invalidEvents);
  }
});
