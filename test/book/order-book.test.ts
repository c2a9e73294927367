// Native L2/L3 books through their TS face: event semantics, FIFO queue position, unknown orders,
// crossed detection and pruning, argument validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventFlag, EventKind, Side } from '../../src/core/event';
import { EngineError } from '../../src/errors';
import { OrderBook } from '../../src/book/order-book';
import { ReferenceL2Book, ReferenceL3Book } from '../../src/book/reference-book';
import { assertSameBook, batchOf, nativeLevels } from './book-fixtures';

const { Add, Modify, Cancel, DeleteLevel, Trade, SnapshotBegin, SnapshotEnd, Clear, Bbo, Status } = EventKind;

test('L2: Modify sets absolute quantities, DeleteLevel and Modify 0 remove, Cancel reduces', () => {
  const book = OrderBook.l2();
  const b = batchOf([
    { kind: Modify, side: Side.Bid, price: 100, qty: 5 },
    { kind: Modify, side: Side.Bid, price: 101, qty: 7 },
    { kind: Modify, side: Side.Ask, price: 103, qty: 4 },
    { kind: Modify, side: Side.Ask, price: 102, qty: 9 },
    { kind: Modify, side: Side.Bid, price: 100, qty: 6 },
    { kind: Cancel, side: Side.Ask, price: 102, qty: 2 },
    { kind: Trade, side: Side.Bid, price: 102, qty: 3 },
    { kind: Bbo, side: Side.Bid, price: 1, qty: 1 },
    { kind: Status, qty: 1 },
  ]);
  assert.equal(book.apply(b), 9);
  assert.deepEqual(book.bestBid(), { price: 101, qty: 7 });
  assert.deepEqual(book.bestAsk(), { price: 102, qty: 7 });
  assert.deepEqual(nativeLevels(book, Side.Bid), [[101, 7], [100, 6]]);
  book.apply(batchOf([
    { kind: DeleteLevel, side: Side.Bid, price: 101 },
    { kind: Modify, side: Side.Ask, price: 102, qty: 0 },
  ]));
  assert.deepEqual(nativeLevels(book, Side.Bid), [[100, 6]]);
  assert.deepEqual(nativeLevels(book, Side.Ask), [[103, 4]]);
  assert.equal(book.qtyAhead(Side.Ask, 104), 4);
  assert.equal(book.qtyAhead(Side.Ask, 102), 0);
  book.apply(batchOf([{ kind: SnapshotBegin }, { kind: Modify, side: Side.Ask, price: 110, qty: 1, flags: EventFlag.Snapshot }, { kind: SnapshotEnd }]));
  assert.equal(book.bestBid(), null);
  assert.deepEqual(book.bestAsk(), { price: 110, qty: 1 });
  assert.ok(Number.isNaN(book.bestPrice(Side.Bid)));
});

test('L3: FIFO queue position, priority kept on qty change, lost on price change', () => {
  const book = OrderBook.l3();
  book.apply(batchOf([
    { kind: Add, side: Side.Bid, price: 100, qty: 10, id: 1 },
    { kind: Add, side: Side.Bid, price: 100, qty: 20, id: 2 },
    { kind: Add, side: Side.Bid, price: 100, qty: 30, id: 3 },
    { kind: Add, side: Side.Bid, price: 99, qty: 5, id: 4 },
  ]));
  assert.deepEqual([1, 2, 3, 4].map((id) => book.queueAhead(id)), [0, 10, 30, 0]);
  assert.equal(book.qtyAhead(Side.Bid, 99), 65);
  book.apply(batchOf([{ kind: Modify, side: Side.Bid, price: 100, qty: 25, id: 1 }])); // qty up, same price
  assert.deepEqual([1, 2, 3].map((id) => book.queueAhead(id)), [0, 25, 45]);
  book.apply(batchOf([{ kind: Modify, side: Side.Bid, price: 99, qty: 20, id: 2 }])); // moves: back of 99
  assert.deepEqual([1, 3, 4, 2].map((id) => book.queueAhead(id)), [0, 25, 0, 5]);
  book.apply(batchOf([{ kind: Trade, side: Side.Ask, price: 100, qty: 25, id: 1, flags: EventFlag.ExecResting }]));
  assert.equal(book.order(1), null);
  assert.equal(book.queueAhead(3), 0);
  book.apply(batchOf([{ kind: Cancel, side: Side.Bid, price: 100, qty: 10, id: 3 }]));
  assert.deepEqual(book.order(3), { side: Side.Bid, price: 100, qty: 20 });
  book.apply(batchOf([{ kind: Trade, side: Side.Ask, price: 100, qty: 5, id: 3, flags: EventFlag.Hidden }])); // print only
  assert.deepEqual(book.order(3), { side: Side.Bid, price: 100, qty: 20 });
  assert.deepEqual(nativeLevels(book, Side.Bid), [[100, 20], [99, 25]]);
  assert.equal(book.stats().orders, 3);
});

test('L3: untracked liquidity (order id 0) queues first and absorbs cancels of unknown orders', () => {
  const book = OrderBook.l3();
  book.apply(batchOf([
    { kind: Modify, side: Side.Ask, price: 200, qty: 50 }, // id 0: snapshot quantity
    { kind: Add, side: Side.Ask, price: 200, qty: 10, id: 7 },
  ]));
  assert.equal(book.queueAhead(7), 50);
  assert.equal(book.untrackedQty(Side.Ask, 200), 50);
  const applied = book.apply(batchOf([{ kind: Cancel, side: Side.Ask, price: 200, qty: 20, id: 999 }]));
  assert.equal(applied, 0);
  assert.equal(book.stats().unknownOrders, 1);
  assert.equal(book.levelQty(Side.Ask, 200), 40);
  assert.equal(book.queueAhead(7), 30);
  // An execution of an unknown order on the bid side of the trade reduces the resting ask side.
  book.apply(batchOf([{ kind: Trade, side: Side.Bid, price: 200, qty: 100, id: 998, flags: EventFlag.ExecResting }]));
  assert.equal(book.untrackedQty(Side.Ask, 200), 0);
  assert.equal(book.levelQty(Side.Ask, 200), 10);
  assert.equal(book.stats().unknownOrders, 2);
  // setLevel: below the known total removes the oldest orders first.
  book.apply(batchOf([{ kind: Add, side: Side.Ask, price: 200, qty: 5, id: 8 }]));
  assert.equal(book.setLevel(Side.Ask, 200, 12), 1);
  assert.deepEqual(book.order(7), { side: Side.Ask, price: 200, qty: 7 });
  assert.deepEqual(book.order(8), { side: Side.Ask, price: 200, qty: 5 });
  assert.equal(book.setLevel(Side.Ask, 200, 4), 2);
  assert.equal(book.order(7), null);
  assert.deepEqual(book.order(8), { side: Side.Ask, price: 200, qty: 4 });
  // Above the known total: the untracked part takes the difference.
  assert.equal(book.setLevel(Side.Ask, 200, 9), 0);
  assert.equal(book.untrackedQty(Side.Ask, 200), 5);
  assert.equal(book.queueAhead(8), 5);
});

test('L3: orders the book never saw are counted and skipped, never fatal', () => {
  const book = OrderBook.l3();
  const ref = new ReferenceL3Book();
  const b = batchOf([
    { kind: Cancel, side: Side.Bid, price: 100, qty: 5, id: 41 },
    { kind: Modify, side: Side.Bid, price: 100, qty: 5, id: 42 },
    { kind: Trade, side: Side.Ask, price: 100, qty: 5, id: 43, flags: EventFlag.ExecResting },
    { kind: Add, side: Side.Bid, price: 100, qty: 5, id: 44 },
    { kind: Cancel, side: Side.Bid, price: 100, qty: 2, id: 44 },
  ]);
  assert.equal(book.apply(b), 2);
  assert.equal(ref.applyBytes(b.bytes()), 2);
  assert.equal(book.stats().unknownOrders, 3);
  assert.equal(ref.unknownOrders, 3);
  assertSameBook(book, ref, 'after unknown orders');
  assert.deepEqual(book.bestBid(), { price: 100, qty: 3 });
});

test('malformed events are rejected and counted, the rest of the batch applies', () => {
  for (const book of [OrderBook.l2(), OrderBook.l3()]) {
    const b = batchOf([
      { kind: Add, side: Side.None, price: 100, qty: 5, id: 1 },
      { kind: Modify, side: Side.Bid, price: 100, qty: -1, id: 1 },
      { kind: Add, side: Side.Bid, price: 100, qty: 5, id: 2 },
    ]);
    assert.equal(book.apply(b), 1, book.type);
    assert.equal(book.stats().invalid, 2, book.type);
    assert.equal(book.bestQty(Side.Bid), 5, book.type);
  }
});

test('crossed books are detected and the stale side pruned (L2 and L3)', () => {
  const l2 = OrderBook.l2();
  const ref2 = new ReferenceL2Book();
  const l2Events = batchOf([
    { kind: Modify, side: Side.Bid, price: 99, qty: 1 },
    { kind: Modify, side: Side.Bid, price: 101, qty: 2 }, // stale bid above the ask
    { kind: Modify, side: Side.Bid, price: 100, qty: 3 },
    { kind: Modify, side: Side.Ask, price: 100, qty: 4 },
    { kind: Modify, side: Side.Ask, price: 102, qty: 5 },
  ]);
  l2.apply(l2Events);
  ref2.applyBytes(l2Events.bytes());
  assert.equal(l2.crossed(), true);
  assert.equal(l2.pruneCrossed(Side.Bid), 2);
  assert.equal(ref2.pruneCrossed(Side.Bid), 2);
  assert.equal(l2.crossed(), false);
  assert.deepEqual(nativeLevels(l2, Side.Bid), [[99, 1]]);
  assertSameBook(l2, ref2, 'L2 after pruning');
  assert.equal(l2.pruneCrossed(Side.Ask), 0, 'nothing to prune once uncrossed');

  const l3 = OrderBook.l3();
  l3.apply(batchOf([
    { kind: Add, side: Side.Ask, price: 100, qty: 4, id: 1 },
    { kind: Add, side: Side.Ask, price: 101, qty: 4, id: 2 },
    { kind: Add, side: Side.Ask, price: 103, qty: 4, id: 3 },
    { kind: Add, side: Side.Bid, price: 101, qty: 6, id: 4 },
  ]));
  assert.equal(l3.crossed(), true);
  assert.equal(l3.pruneCrossed(Side.Ask), 2);
  assert.equal(l3.crossed(), false);
  assert.equal(l3.order(1), null);
  assert.equal(l3.queueAhead(2), -1);
  assert.deepEqual(l3.bestAsk(), { price: 103, qty: 4 });
  assert.equal(l3.stats().orders, 2);
});

test('Clear and SnapshotBegin empty an L3 book; ids can be reused afterwards', () => {
  const book = OrderBook.l3();
  book.apply(batchOf([{ kind: Add, side: Side.Bid, price: 10, qty: 1, id: 5 }, { kind: Clear }]));
  assert.equal(book.stats().orders, 0);
  assert.equal(book.bestBid(), null);
  book.apply(batchOf([{ kind: Add, side: Side.Bid, price: 11, qty: 2, id: 5 }]));
  assert.deepEqual(book.order(5n), { side: Side.Bid, price: 11, qty: 2 });
});

test('depth and topLevels fill caller arrays; empty levels are NaN/0', () => {
  const book = OrderBook.l2();
  book.apply(batchOf([
    { kind: Modify, side: Side.Bid, price: 50, qty: 1 },
    { kind: Modify, side: Side.Bid, price: 51, qty: 2 },
    { kind: Modify, side: Side.Ask, price: 53, qty: 3 },
  ]));
  const out = new Float64Array(6);
  assert.equal(book.depthInto(Side.Bid, 3, out), 2);
  assert.deepEqual(Array.from(out.subarray(0, 4)), [51, 2, 50, 1]);
  const top = new Float64Array(8);
  assert.equal(book.topLevels(2, top), 2);
  assert.deepEqual(Array.from(top.subarray(0, 4)), [53, 3, 51, 2]);
  assert.ok(Number.isNaN(top[4]));
  assert.equal(top[5], 0);
  assert.deepEqual(Array.from(top.subarray(6)), [50, 1]);
});

test('arguments are validated with "expected X for Y, got Z" errors', () => {
  const book = OrderBook.l2();
  const bad = (f: () => unknown, re: RegExp): void => {
    assert.throws(f, (err: unknown) => err instanceof EngineError && err.code === 'E_INVALID_ARG' && re.test(err.message));
  };
  bad(() => book.apply(new Uint8Array(63)), /expected a byte length that is a multiple of 64 for events, got 63/);
  bad(() => book.apply(batchOf([{ kind: Status }]), 2), /expected at most 1 events for count, got 2/);
  bad(() => book.qtyAhead(3 as Side, 1), /expected 1 \(Side.Bid\) or 2 \(Side.Ask\) for side, got 3/);
  bad(() => book.depth(Side.Bid, -1), /for n, got -1/);
  bad(() => book.queueAhead(1), /expected an L3 book for queueAhead\(\)/);
  bad(() => OrderBook.l3().queueAhead(-2), /for orderId, got -2/);
  bad(() => OrderBook.create('L4' as 'L2'), /expected 'L2' or 'L3' for book type, got "L4"/);
});
