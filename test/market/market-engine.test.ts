// MarketEngine behaviour: sequence gaps and stale books, crossed-book detection and pruning, unknown
// instruments, empty books, validation, and garbage input that must never crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVENT_SIZE, EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';
import { InstrumentInfo } from '../../src/core/instrument';
import { EngineError } from '../../src/errors';
import { FEATURE_NAMES, Feature, MarketEngine, NUM_FEATURES, TOP_OF_BOOK_FEATURES } from '../../src/market/market-engine';
import { ReferenceMarket } from '../../src/features/reference';
import { interleave, l2Messages, rng, toBatch } from './synthetic';

function instruments(...types: ('L2' | 'L3')[]): InstrumentInfo[] {
  return types.map((bookType, id) => ({ id, symbol: `S${id}`, venue: 'test', tickSize: 0.01, lotSize: 1, bookType }));
}

const T0 = 1_700_000_000_000_000_000n;
const EOM = EventFlag.EndOfMessage;

test('featureNames() from the addon equals FEATURE_NAMES and the Feature enum', () => {
  assert.deepEqual(MarketEngine.featureNames(), [...FEATURE_NAMES]);
  assert.equal(NUM_FEATURES, 15);
  assert.equal(FEATURE_NAMES[Feature.Microprice], 'microprice');
  assert.equal(FEATURE_NAMES[Feature.AskQty], 'askQty');
});

test('a removed message is reported as a gap; the book is stale until the next SnapshotEnd', () => {
  const msgs = l2Messages({ messages: 600, seed: 7 });
  const bookMsgs = msgs.filter((m) => m.seq !== 0n);
  const dropped = bookMsgs[100];
  const after = bookMsgs[101];
  const stream = msgs.filter((m) => m !== dropped);
  // A fresh snapshot later re-synchronises: cut the stream at message 300 and insert one there.
  const cut = stream.indexOf(bookMsgs[300]);
  const resnap = l2Messages({ messages: 0, seed: 9, startSeq: 5000n, startTs: stream[cut].events[0][0] });
  const tail = l2Messages({ messages: 50, seed: 9, startSeq: 5000n, startTs: stream[cut].events[0][0] }).slice(1);
  const full = [...stream.slice(0, cut), ...resnap, ...tail];
  const batch = toBatch(full);

  const engine = new MarketEngine(instruments('L2'));
  const firstAfter = stream.slice(0, stream.indexOf(after)).reduce((n, m) => n + m.events.length, 0);
  engine.apply(batch.bytes(), firstAfter);
  assert.equal(engine.isStale(0), false);
  assert.equal(engine.stats().gaps, 0);
  engine.apply(batch.bytes().subarray(firstAfter * EVENT_SIZE), after.events.length);
  assert.equal(engine.isStale(0), true);
  const gaps = engine.gaps();
  assert.equal(gaps.length, 1);
  assert.deepEqual(gaps[0], { instrument: 0, expected: dropped.seq - 1n, got: dropped.seq, eventIndex: firstAfter });
  // One gap per message, not per event: the message's other events share seq/prev_seq.
  assert.equal(engine.stats().gaps, 1);

  const doneBefore = firstAfter + after.events.length;
  const snapAt = full.indexOf(resnap[0]);
  const eventsBeforeSnapEnd = full.slice(0, snapAt).reduce((n, m) => n + m.events.length, 0) + resnap[0].events.length - 1;
  engine.apply(batch.bytes().subarray(doneBefore * EVENT_SIZE), eventsBeforeSnapEnd - doneBefore);
  assert.equal(engine.isStale(0), true);
  engine.apply(batch.bytes().subarray(eventsBeforeSnapEnd * EVENT_SIZE), batch.length - eventsBeforeSnapEnd);
  assert.equal(engine.isStale(0), false, 'SnapshotEnd clears stale');
  const stats = engine.stats();
  assert.equal(stats.gaps, 1);
  assert.equal(stats.staleEvents, eventsBeforeSnapEnd - firstAfter);
  assert.equal(stats.events, batch.length);
  assert.equal(engine.instrumentStats(0).staleEvents, stats.staleEvents);

  // The TS reference agrees on every count.
  const ref = new ReferenceMarket(['L2']);
  ref.apply(batch.bytes(), batch.length);
  assert.equal(ref.counts.gaps, 1);
  assert.equal(ref.counts.staleEvents, stats.staleEvents);
});

test('seq 0 (trades) and the first message after construction are never gaps', () => {
  const engine = new MarketEngine(instruments('L2'));
  const b = new EventBatch();
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 100n, 5n, 0n, 50n, 49n, EOM); // first seen: no last seq yet
  b.push(T0, T0, 0, EventKind.Trade, Side.Bid, 101n, 1n, 0n, 0n, 0n, EOM); // seq 0: not checked
  b.push(T0, T0, 0, EventKind.Modify, Side.Ask, 101n, 5n, 0n, 51n, 50n, 0);
  b.push(T0, T0, 0, EventKind.Modify, Side.Ask, 102n, 5n, 0n, 51n, 50n, EOM);
  b.push(T0, T0, 0, EventKind.Modify, Side.Ask, 103n, 5n, 0n, 53n, 52n, EOM); // 52 != 51: gap
  engine.apply(b.bytes(), b.length);
  assert.equal(engine.stats().gaps, 1);
  assert.deepEqual(engine.gaps()[0], { instrument: 0, expected: 51n, got: 52n, eventIndex: 4 });
  assert.equal(engine.isStale(0), true);
  assert.equal(engine.stats().staleEvents, 1);
});

test('Clear marks the book stale and empties it', () => {
  const engine = new MarketEngine(instruments('L2'));
  const b = new EventBatch();
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 100n, 5n, 0n, 0n, 0n, EOM);
  b.push(T0, T0, 0, EventKind.Clear, Side.None, 0n, 0n, 0n, 0n, 0n, EOM);
  engine.apply(b.bytes(), b.length);
  assert.equal(engine.isStale(0), true);
  assert.equal(engine.topOfBook(0).bidQty, 0);
});

test('a crossed book is counted once per episode and its stale side is pruned (Binance spot case)', () => {
  // A bid at 100 that the venue never removed; the asks move down through it.
  const engine = new MarketEngine(instruments('L2'));
  const b = new EventBatch();
  let seq = 10n;
  const snap = (kind: EventKind, side: Side, px: bigint, qty: bigint, flags: number): void =>
    b.push(T0, T0, 0, kind, side, px, qty, 0n, seq, 0n, flags | EventFlag.Snapshot);
  snap(EventKind.SnapshotBegin, Side.None, 0n, 0n, 0);
  snap(EventKind.Modify, Side.Bid, 100n, 3n, 0);
  snap(EventKind.Modify, Side.Bid, 98n, 4n, 0);
  snap(EventKind.Modify, Side.Ask, 101n, 2n, 0);
  snap(EventKind.Modify, Side.Ask, 102n, 2n, 0);
  snap(EventKind.SnapshotEnd, Side.None, 0n, 0n, EOM);
  const msg = (side: Side, px: bigint, qty: bigint, t: bigint): void => {
    seq++;
    b.push(t, t, 0, EventKind.Modify, side, px, qty, 0n, seq, seq - 1n, EOM);
  };
  msg(Side.Bid, 97n, 5n, T0 + 1n); // deeper bid update: the stale 100 bid stays best
  msg(Side.Ask, 101n, 0n, T0 + 2n);
  msg(Side.Ask, 99n, 6n, T0 + 3n); // ask 99 < bid 100: crossed, bids are the stale side
  msg(Side.Ask, 99n, 7n, T0 + 4n);
  const out = new Float64Array(b.length * NUM_FEATURES);
  engine.apply(b.bytes(), b.length, out);
  const stats = engine.stats();
  assert.equal(stats.crossedEpisodes, 1);
  assert.equal(stats.prunedLevels, 1);
  assert.deepEqual([...engine.depth(0, Side.Bid, 5)], [98, 4, 97, 5]);
  assert.deepEqual([...engine.depth(0, Side.Ask, 5)], [99, 7, 102, 2]);
  const crossedRow = out.subarray((b.length - 2) * NUM_FEATURES, (b.length - 1) * NUM_FEATURES);
  assert.equal(crossedRow[Feature.BidPrice], 98, 'features see the pruned book');
  assert.equal(crossedRow[Feature.Spread], 1);

  // A new bid through the asks: now the asks are stale.
  const b2 = new EventBatch();
  b2.push(T0 + 5n, T0 + 5n, 0, EventKind.Modify, Side.Bid, 103n, 1n, 0n, seq + 1n, seq, EOM);
  engine.apply(b2.bytes(), 1);
  assert.equal(engine.stats().crossedEpisodes, 2);
  assert.equal(engine.stats().prunedLevels, 3);
  assert.equal(engine.topOfBook(0).askQty, 0);
  assert.equal(engine.topOfBook(0).bidPrice, 103);
});

test('crossing is checked only at EndOfMessage; an L3 book prunes its stale orders', () => {
  const engine = new MarketEngine(instruments('L3'));
  const b = new EventBatch();
  b.push(T0, T0, 0, EventKind.Add, Side.Ask, 101n, 5n, 1n, 0n, 0n, EOM);
  b.push(T0, T0, 0, EventKind.Add, Side.Bid, 99n, 5n, 2n, 0n, 0n, EOM);
  b.push(T0 + 1n, T0 + 1n, 0, EventKind.Add, Side.Bid, 102n, 1n, 3n, 0n, 0n, 0); // crossed mid-message
  b.push(T0 + 1n, T0 + 1n, 0, EventKind.Add, Side.Ask, 103n, 1n, 4n, 0n, 0n, 0);
  assert.equal(engine.apply(b.bytes(), b.length), 4);
  assert.equal(engine.stats().crossedEpisodes, 0);
  const b2 = new EventBatch();
  b2.push(T0 + 1n, T0 + 1n, 0, EventKind.Add, Side.Ask, 104n, 1n, 5n, 0n, 0n, EOM);
  engine.apply(b2.bytes(), 1);
  assert.equal(engine.stats().crossedEpisodes, 1);
  assert.equal(engine.stats().prunedLevels, 1); // the ask at 101 (the bid at 102 is newer)
  assert.deepEqual(engine.topOfBook(0), { bidPrice: 102, bidQty: 1, askPrice: 103, askQty: 1 });
  // The pruned order is gone from the L3 book: cancelling it is an unknown order.
  const b3 = new EventBatch();
  b3.push(T0 + 2n, T0 + 2n, 0, EventKind.Cancel, Side.Ask, 101n, 5n, 1n, 0n, 0n, EOM);
  engine.apply(b3.bytes(), 1);
  assert.equal(engine.stats().unknownOrders, 1);
});

test('unknown instruments are counted and skipped, with NaN rows', () => {
  const engine = new MarketEngine(instruments('L2', 'L3'));
  const b = new EventBatch();
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 100n, 5n, 0n, 0n, 0n, EOM);
  b.push(T0, T0, 7, EventKind.Modify, Side.Bid, 100n, 5n, 0n, 0n, 0n, EOM);
  b.push(T0, T0, 0xffffffff, EventKind.Trade, Side.Bid, 100n, 5n, 0n, 0n, 0n, EOM);
  const out = new Float64Array(3 * NUM_FEATURES);
  assert.equal(engine.apply(b.bytes(), 3, out), 1);
  assert.equal(engine.stats().unknownInstruments, 2);
  assert.equal(engine.stats().events, 3);
  assert.ok(out.subarray(NUM_FEATURES).every(Number.isNaN));
  assert.equal(out[Feature.BidPrice], 100);
});

test('empty and one-sided books give NaN features, not a crash', () => {
  const engine = new MarketEngine(instruments('L2'));
  const f = engine.features(0);
  for (const k of [Feature.Mid, Feature.Microprice, Feature.Spread, Feature.Imbalance1, Feature.BidPrice, Feature.TimeSinceTrade]) {
    assert.ok(Number.isNaN(f[k]), FEATURE_NAMES[k]);
  }
  assert.deepEqual([f[Feature.Ofi], f[Feature.TradeFlow], f[Feature.RealisedVol], f[Feature.BidQty]], [0, 0, 0, 0]);
  const b = new EventBatch();
  b.push(T0, T0, 0, EventKind.Trade, Side.Ask, 100n, 2n, 0n, 0n, 0n, EOM);
  b.push(T0 + 500_000_000n, T0, 0, EventKind.Modify, Side.Bid, 100n, 4n, 0n, 0n, 0n, EOM);
  engine.apply(b.bytes(), 2);
  engine.features(0, f);
  assert.ok(Number.isNaN(f[Feature.Mid]) && Number.isNaN(f[Feature.Microprice]) && Number.isNaN(f[Feature.Spread]));
  assert.equal(f[Feature.Imbalance1], 1);
  assert.equal(f[Feature.Imbalance10], 1);
  assert.equal(f[Feature.TimeSinceTrade], 0.5);
  assert.ok(f[Feature.TradeFlow] < 0, 'a sell aggressor gives negative flow');
  assert.deepEqual(engine.topOfBook(0), { bidPrice: 100, bidQty: 4, askPrice: NaN, askQty: 0 });
  assert.deepEqual([...engine.depth(0, Side.Ask, 3)], []);
});

test('options and arguments are validated in TypeScript', () => {
  const bad = (fn: () => unknown, re: RegExp): void =>
    assert.throws(fn, (e: unknown) => e instanceof EngineError && e.code === 'E_INVALID_ARG' && re.test(e.message));
  bad(() => new MarketEngine([{ ...instruments('L2')[0], id: 1 }]), /ids 0\.\.0/);
  bad(() => new MarketEngine(instruments('L2'), { ofiHalfLife: 0 }), /options\.ofiHalfLife/);
  bad(() => new MarketEngine(instruments('L2'), { features: 'some' as 'top' }), /options\.features/);
  bad(() => new MarketEngine(instruments('L2'), { volatilityHalfLife: NaN }), /volatilityHalfLife/);
  bad(() => new MarketEngine([{ ...instruments('L2')[0], bookType: 'L4' as 'L2' }]), /bookType/);
  const engine = new MarketEngine(instruments('L2'));
  const b = new EventBatch();
  b.push(T0, T0, 0, EventKind.Modify, Side.Bid, 100n, 5n);
  bad(() => engine.apply(b.bytes(), 2), /count/);
  bad(() => engine.apply(b.bytes(), 1, new Float64Array(3)), /featuresOut/);
  bad(() => engine.features(1), /instrument/);
  bad(() => engine.depth(0, 3 as Side.Bid, 2), /side/);
  const unaligned = new Uint8Array(new ArrayBuffer(EVENT_SIZE + 4), 4, EVENT_SIZE);
  bad(() => engine.apply(unaligned, 1), /aligned/);
  // Rows written over the events being read: refused (a row buffer just past the events is fine).
  const shared = new ArrayBuffer(EVENT_SIZE + NUM_FEATURES * 8 * 2);
  new Uint8Array(shared, 0, EVENT_SIZE).set(b.bytes());
  bad(() => engine.apply(new Uint8Array(shared, 0, EVENT_SIZE), 1, new Float64Array(shared, 0, NUM_FEATURES)), /overlap/);
  assert.equal(engine.apply(new Uint8Array(shared, 0, EVENT_SIZE), 1, new Float64Array(shared, EVENT_SIZE, NUM_FEATURES)), 1);
});

test('garbage events never crash the engine (random bytes, extreme values, both book types)', () => {
  const r = rng(42);
  const engine = new MarketEngine(instruments('L2', 'L3', 'L2'));
  const n = 20_000;
  const bytes = new Uint8Array(n * EVENT_SIZE);
  const dv = new DataView(bytes.buffer);
  const extremes = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 62n];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < EVENT_SIZE; j++) bytes[i * EVENT_SIZE + j] = Math.floor(r() * 256);
    const o = i * EVENT_SIZE;
    if (r() < 0.8) dv.setUint32(o + 56, Math.floor(r() * 4), true); // mostly known instruments
    if (r() < 0.7) bytes[o + 60] = Math.floor(r() * 12); // mostly valid kinds
    if (r() < 0.7) bytes[o + 61] = Math.floor(r() * 3);
    if (r() < 0.5) dv.setBigInt64(o + 16, BigInt(9_990 + Math.floor(r() * 20)), true); // clustered prices
    else if (r() < 0.3) dv.setBigInt64(o + 16, extremes[Math.floor(r() * extremes.length)], true);
    if (r() < 0.5) dv.setBigInt64(o + 24, BigInt(Math.floor(r() * 100) - 10), true);
    else if (r() < 0.3) dv.setBigInt64(o + 24, extremes[Math.floor(r() * extremes.length)], true);
    if (r() < 0.5) dv.setBigUint64(o + 32, BigInt(Math.floor(r() * 50)), true); // reused order ids
    if (r() < 0.5) dv.setBigInt64(o + 0, extremes[Math.floor(r() * extremes.length)], true);
  }
  const out = new Float64Array(n * NUM_FEATURES);
  engine.apply(bytes, n, out);
  const s = engine.stats();
  assert.equal(s.events, n);
  assert.ok(s.unknownInstruments > 0);
  for (let i = 0; i < 3; i++) {
    const f = engine.features(i);
    assert.equal(f.length, NUM_FEATURES);
    engine.depth(i, Side.Bid, 10);
  }
  assert.ok(Array.isArray(engine.gaps()) && engine.gaps().length <= 1024);
});

test("features: 'top' gives the top-of-book columns of 'all' in compact rows, NaN in the others of features(), and the same books and counts", () => {
  const msgs = interleave(l2Messages({ instrument: 0, seed: 21, messages: 1500 }), l2Messages({ instrument: 1, seed: 22, messages: 1500, depth: 12, startSeq: 9n }));
  msgs.splice(700, 1); // a gap
  const batch = toBatch(msgs);
  const all = new MarketEngine(instruments('L2', 'L2'));
  const top = new MarketEngine(instruments('L2', 'L2'), { features: 'top' });
  assert.equal(top.featureSet, 'top');
  assert.equal(all.featureSet, 'all');
  assert.equal(all.rowWidth, NUM_FEATURES);
  const width = top.rowWidth;
  assert.equal(width, TOP_OF_BOOK_FEATURES.length);
  const outAll = new Float64Array(batch.length * NUM_FEATURES);
  const outTop = new Float64Array(batch.length * width + 1).fill(7); // stale values must be overwritten
  assert.throws(() => top.apply(batch.bytes(), batch.length, new Float64Array(batch.length * width - 1)), /featuresOut/);
  for (let s = 0; s < batch.length; s += 333) {
    const n = Math.min(333, batch.length - s);
    const bytes = batch.bytes().subarray(s * EVENT_SIZE, (s + n) * EVENT_SIZE);
    assert.equal(top.apply(bytes, n, outTop.subarray(s * width)), all.apply(bytes, n, outAll.subarray(s * NUM_FEATURES)));
  }
  for (let i = 0; i < batch.length; i++) {
    TOP_OF_BOOK_FEATURES.forEach((f, c) => {
      const a = outAll[i * NUM_FEATURES + f];
      const t = outTop[i * width + c];
      assert.ok(Object.is(a, t), `row ${i} ${FEATURE_NAMES[f]}: ${t} != ${a}`);
    });
  }
  assert.equal(outTop[batch.length * width], 7, 'nothing written past the rows');
  const isTop = new Set<number>(TOP_OF_BOOK_FEATURES);
  for (const i of [0, 1]) {
    const fa = all.features(i);
    const ft = top.features(i);
    for (let f = 0; f < NUM_FEATURES; f++) assert.ok(isTop.has(f) ? Object.is(fa[f], ft[f]) : Number.isNaN(ft[f]), `features(${i}) ${FEATURE_NAMES[f]}`);
    assert.deepEqual([...top.depth(i, Side.Bid, 20)], [...all.depth(i, Side.Bid, 20)]);
  }
  assert.deepEqual(top.stats(), all.stats());
  assert.deepEqual(top.gaps(), all.gaps());
  // A fresh 'top' engine: NaN everywhere but the empty book's zero quantities.
  const fresh = new MarketEngine(instruments('L3'), { features: 'top' }).features(0);
  assert.deepEqual([...fresh].map((v, f) => (Number.isNaN(v) ? 'NaN' : `${FEATURE_NAMES[f]}=${v}`)).filter((v) => v !== 'NaN'), ['bidQty=0', 'askQty=0']);
});

test("features(i) without rows equals the last row written by an engine fed the same events with rows", () => {
  const batch = toBatch(l2Messages({ seed: 5, messages: 2000, depth: 15 }));
  for (const features of ['all', 'top'] as const) {
    const withRows = new MarketEngine(instruments('L2'), { features });
    const noRows = new MarketEngine(instruments('L2'), { features });
    const out = new Float64Array(batch.length * withRows.rowWidth);
    withRows.apply(batch.bytes(), batch.length, out);
    noRows.apply(batch.bytes(), batch.length);
    const last = out.subarray((batch.length - 1) * withRows.rowWidth);
    // A 'top' row holds TOP_OF_BOOK_FEATURES' columns; features(i) has every column (NaN in the others).
    const lastFull = features === 'all' ? [...last] : [...noRows.features(0)].map((v, f) => (TOP_OF_BOOK_FEATURES.includes(f) ? last[TOP_OF_BOOK_FEATURES.indexOf(f)] : v));
    assert.deepEqual([...noRows.features(0)], lastFull, features);
    assert.deepEqual([...withRows.features(0)], lastFull, features);
  }
});

test('the stale side of a crossed book is the same with and without rows, in both feature sets, at any batch size, as in the TS reference', () => {
  // Two instruments; stale quotes injected through the other side on both sides at random events (their
  // own messages, seq 0), so the crossings need the history of which side changed last, sometimes across
  // batch boundaries, sometimes with a pruned event just before.
  const msgs = interleave(l2Messages({ instrument: 0, seed: 31, messages: 2500, depth: 8 }), l2Messages({ instrument: 1, seed: 32, messages: 2500, depth: 4, startSeq: 5n }));
  const r = rng(33);
  for (let j = 0; j < 60; j++) {
    const at = 20 + Math.floor(r() * (msgs.length - 40));
    const inst = r() < 0.5 ? 0 : 1;
    const bid = r() < 0.5;
    const ts = msgs[at].events[0][0];
    msgs.splice(at, 0, { seq: 0n, events: [[ts, ts, inst, EventKind.Modify, bid ? Side.Bid : Side.Ask, bid ? 10_030n : 9_970n, 2n, 0n, 0n, 0n, EOM]] });
  }
  const batch = toBatch(msgs);
  const ref = new ReferenceMarket(['L2', 'L2']);
  ref.apply(batch.bytes(), batch.length, new Float64Array(batch.length * NUM_FEATURES));
  assert.ok(ref.counts.crossedEpisodes >= 40, `crossings: ${ref.counts.crossedEpisodes}`);
  for (const features of ['all', 'top'] as const) {
    for (const rows of [true, false]) {
      for (const size of [1, 7, 64, 333, 4096]) {
        const engine = new MarketEngine(instruments('L2', 'L2'), { features });
        const out = new Float64Array(size * engine.rowWidth);
        for (let s = 0; s < batch.length; s += size) {
          const n = Math.min(size, batch.length - s);
          engine.apply(batch.bytes().subarray(s * EVENT_SIZE, (s + n) * EVENT_SIZE), n, rows ? out : undefined);
        }
        const label = `${features}, rows ${rows}, batches of ${size}`;
        const { unknownInstruments, ...counts } = ref.counts;
        assert.deepEqual({ ...engine.stats() }, { ...counts, unknownInstruments }, label);
        for (const i of [0, 1]) {
          for (const side of [Side.Bid, Side.Ask] as const) {
            const l = side === Side.Bid ? ref.book(i).bids : ref.book(i).asks;
            const want = Array.from({ length: Math.min(30, l.size) }, (_, j) => [l.priceAt(j), l.qtyAtLevel(j)]).flat();
            assert.deepEqual([...engine.depth(i, side, 30)], want, `${label}: side ${side} of ${i}`);
          }
        }
      }
    }
  }
});

test("'top' rows of an L3 book whose top changes at most events (the eager row writer) equal 'all''s columns, through empty sides, price moves and crossings, at any batch size", () => {
  // One instrument, so runs are long: after a run of 64 events or more whose top changed at over a quarter
  // of them, later calls write the rows with the eager writer (EagerTopRow), which caches the price
  // columns. The stream starts empty, empties each side now and then, moves the best prices and crosses.
  const r = rng(41);
  const b = new EventBatch(1024);
  const orders = new Map<bigint, { side: Side; price: bigint; qty: bigint }>();
  let id = 1n;
  let ts = T0;
  const best = (side: Side): bigint | undefined => {
    let p: bigint | undefined;
    for (const o of orders.values()) if (o.side === side && (p === undefined || (side === Side.Bid ? o.price > p : o.price < p))) p = o.price;
    return p;
  };
  const add = (side: Side, price: bigint, qty: bigint) => {
    b.push(ts, ts, 0, EventKind.Add, side, price, qty, id, 0n, 0n, EOM);
    orders.set(id++, { side, price, qty });
  };
  const cancel = (oid: bigint, qty: bigint) => {
    const o = orders.get(oid)!;
    b.push(ts, ts, 0, EventKind.Cancel, o.side, o.price, qty, oid, 0n, 0n, EOM);
    if (qty >= o.qty) orders.delete(oid);
    else o.qty -= qty;
  };
  for (let e = 0; e < 6000; e++) {
    ts += BigInt(1 + Math.floor(r() * 1000));
    const side = r() < 0.5 ? Side.Bid : Side.Ask;
    if (e % 900 === 450) {
      // Empty one side, one order at a time (its price column NaN meanwhile), then refill it.
      for (const [oid, o] of [...orders]) if (o.side === side) cancel(oid, o.qty);
      continue;
    }
    if (e % 500 === 250) {
      // A stale quote through the other side: the book crosses and is pruned.
      const other = best(side === Side.Bid ? Side.Ask : Side.Bid);
      if (other !== undefined) add(side, side === Side.Bid ? other + 1n : other - 1n, 3n);
      continue;
    }
    const own = best(side);
    const mine = [...orders].filter(([, o]) => o.side === side && o.price === own);
    if (own === undefined || mine.length === 0 || r() < 0.55) {
      const opp = best(side === Side.Bid ? Side.Ask : Side.Bid);
      const base = own ?? (opp !== undefined ? (side === Side.Bid ? opp - 2n : opp + 2n) : 10_000n);
      // Mostly at the best price (quantity changes), sometimes one tick better or worse (price moves).
      const u = r();
      let price = u < 0.8 ? base : u < 0.9 ? (side === Side.Bid ? base + 1n : base - 1n) : side === Side.Bid ? base - 1n : base + 1n;
      if (opp !== undefined && (side === Side.Bid ? price >= opp : price <= opp)) price = base;
      add(side, price, BigInt(1 + Math.floor(r() * 40)));
    } else {
      const [oid, o] = mine[Math.floor(r() * mine.length)];
      cancel(oid, r() < 0.7 ? o.qty : 1n + BigInt(Math.floor(r() * Number(o.qty))));
    }
  }
  const all = new MarketEngine(instruments('L3'));
  const outAll = new Float64Array(b.length * NUM_FEATURES);
  all.apply(b.bytes(), b.length, outAll);
  assert.ok(all.stats().crossedEpisodes >= 8, `crossings: ${all.stats().crossedEpisodes}`);
  let nanBids = 0;
  let changes = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(outAll[i * NUM_FEATURES + Feature.BidPrice])) nanBids++;
    if (i > 0 && (outAll[i * NUM_FEATURES + Feature.BidQty] !== outAll[(i - 1) * NUM_FEATURES + Feature.BidQty] || outAll[i * NUM_FEATURES + Feature.AskQty] !== outAll[(i - 1) * NUM_FEATURES + Feature.AskQty])) changes++;
  }
  assert.ok(nanBids >= 10, `events with an empty bid side: ${nanBids}`);
  assert.ok(changes * 2 > b.length, `top changes at ${changes} of ${b.length} events`);
  for (const size of [1, 100, 333, 4096]) {
    const top = new MarketEngine(instruments('L3'), { features: 'top' });
    const w = top.rowWidth;
    const out = new Float64Array(b.length * w);
    for (let s = 0; s < b.length; s += size) {
      const n = Math.min(size, b.length - s);
      top.apply(b.bytes().subarray(s * EVENT_SIZE, (s + n) * EVENT_SIZE), n, out.subarray(s * w, (s + n) * w));
    }
    for (let i = 0; i < b.length; i++) {
      TOP_OF_BOOK_FEATURES.forEach((f, c) => {
        const want = outAll[i * NUM_FEATURES + f];
        const got = out[i * w + c];
        assert.ok(Object.is(got, want), `batches of ${size}, row ${i} ${FEATURE_NAMES[f]}: ${got} != ${want}`);
      });
    }
    assert.deepEqual(top.stats(), all.stats(), `batches of ${size}`);
  }
});
