// Native features (through MarketEngine) equal the plain TypeScript reference row by row, to 1e-9
// relative (NaN = NaN): synthetic L2 streams, and real venue files through the importers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { EventBatch, EventFlag, EventKind, Side, readEvent } from '../../src/core/event';
import { InstrumentInfo } from '../../src/core/instrument';
import { FEATURE_NAMES, Feature, MarketEngine, MarketEngineOptions, NUM_FEATURES } from '../../src/market/market-engine';
import { DEFAULT_FEATURE_CONFIG, ReferenceMarket } from '../../src/features/reference';
import { importBinance } from '../../src/import/binance';
import { importBitstamp } from '../../src/import/bitstamp';
import { importBybit } from '../../src/import/bybit';
import { fileSource } from '../../src/import/lines';
import { LobsterMessages, LobsterOrderbook, parseLobsterMessages, parseLobsterOrderbook } from '../../src/import/lobster';
import { assertRowsClose, interleave, l2Messages, toBatch } from '../market/synthetic';

const DATA = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'data'); // dist/test/features -> /work/shared/data

/** Runs bytes through both engines (in batches of `batchSize`) and compares every feature row and count. */
function compare(label: string, instruments: InstrumentInfo[], bytes: Uint8Array, count: number, options: MarketEngineOptions = {}, batchSize = 4096): ReferenceMarket {
  const engine = new MarketEngine(instruments, options);
  const ref = new ReferenceMarket(instruments.map((i) => i.bookType), { ...DEFAULT_FEATURE_CONFIG, ...options });
  const out = new Float64Array(batchSize * NUM_FEATURES);
  const refOut = new Float64Array(batchSize * NUM_FEATURES);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const slice = bytes.subarray(start * 64, (start + n) * 64);
    assert.equal(engine.apply(slice, n, out), ref.apply(slice, n, refOut));
    assertRowsClose(out.subarray(0, n * NUM_FEATURES), refOut.subarray(0, n * NUM_FEATURES), FEATURE_NAMES, `${label} @${start}`);
  }
  const s = engine.stats();
  const { unknownInstruments, ...counts } = ref.counts;
  assert.deepEqual({ ...s }, { ...counts, unknownInstruments }, `${label}: counts`);
  assert.deepEqual(engine.gaps(), ref.gaps.slice(0, 1024), `${label}: gaps`);
  instruments.forEach((_, i) => {
    assertRowsClose(engine.features(i), ref.features(i), FEATURE_NAMES, `${label}: latest features of ${i}`);
    assert.equal(engine.isStale(i), ref.isStale(i));
  });
  return ref;
}

function l2(n: number): InstrumentInfo[] {
  return Array.from({ length: n }, (_, id) => ({ id, symbol: `S${id}`, venue: 'synthetic', tickSize: 0.01, lotSize: 1, bookType: 'L2' as const }));
}

test('synthetic L2 streams: three interleaved instruments, default parameters', () => {
  const msgs = interleave(
    l2Messages({ instrument: 0, seed: 1, messages: 3000 }),
    l2Messages({ instrument: 1, seed: 2, messages: 3000, startSeq: 7n }),
    l2Messages({ instrument: 2, seed: 3, messages: 3000, depth: 3 }),
  );
  const batch = toBatch(msgs);
  compare('synthetic', l2(3), batch.bytes(), batch.length, {}, 1000);
});

test('synthetic L2 stream with short half-lives, a dropped message and an injected crossing', () => {
  const msgs = l2Messages({ seed: 11, messages: 4000, depth: 12 });
  msgs.splice(1500, 1);
  const batch = toBatch(msgs);
  // A stale bid far through the asks, injected as its own message (seq 0: not sequenced) at event 2000.
  const at = 2000;
  const ts = new DataView(batch.bytes().buffer).getBigInt64(at * 64, true);
  const inject = new EventBatch(1);
  inject.push(ts, ts, 0, EventKind.Modify, Side.Bid, 20_000n, 3n, 0n, 0n, 0n, EventFlag.EndOfMessage);
  const bytes = new Uint8Array((batch.length + 1) * 64);
  bytes.set(batch.bytes().subarray(0, at * 64), 0);
  bytes.set(inject.bytes(), at * 64);
  bytes.set(batch.bytes().subarray(at * 64), (at + 1) * 64);
  const ref = compare('synthetic-short', l2(1), bytes, batch.length + 1, {
    ofiHalfLife: 0.01, tradeFlowHalfLife: 0.002, volatilityHalfLife: 0.05, intensityTimeConstant: 0.003,
  }, 333);
  assert.ok(ref.counts.crossedEpisodes >= 1 && ref.counts.prunedLevels >= 1);
});

async function importFile(
  run: typeof importBybit,
  file: string,
): Promise<{ bytes: Uint8Array; count: number; instruments: InstrumentInfo[] } | undefined> {
  const full = path.join(DATA, file);
  if (!fs.existsSync(full)) return undefined;
  const r = await run([fileSource(full)]);
  return { bytes: r.batch.bytes(), count: r.batch.length, instruments: r.instruments };
}

function lobster(file: string): { parsed: LobsterMessages; ob?: LobsterOrderbook } | undefined {
  const full = path.join(DATA, 'lobster', `${file}_message_${file.startsWith('MSFT') ? 50 : 10}.csv`);
  if (!fs.existsSync(full)) return undefined;
  const parsed = parseLobsterMessages(full);
  const obFile = path.join(DATA, 'lobster', `${file}_orderbook_10.csv`);
  const ob = fs.existsSync(obFile) ? parseLobsterOrderbook(obFile, { priceScale: parsed.priceScale }) : undefined;
  return { parsed, ob };
}

test('LOBSTER AAPL (L3, 999 events) from an empty book, and seeded from the first orderbook row', (t) => {
  const d = lobster('AAPL_2012-06-21_34200000_57600000');
  if (!d) return t.skip(`${DATA}/lobster is missing`);
  const { batch, instrument } = d.parsed;
  const ref = compare('AAPL', [instrument], batch.bytes(), batch.length, {}, 100);
  assert.ok(ref.counts.unknownOrders > 0, 'orders resting before 09:30 are unknown to an empty book');
  // Seeded: the book after message 0 (orderbook row 0) as untracked liquidity (order id 0) in a snapshot.
  const seeded = new EventBatch(batch.length + 32);
  const ts = new DataView(batch.bytes().buffer, batch.bytes().byteOffset).getBigInt64(0, true);
  seeded.push(ts, ts, 0, EventKind.SnapshotBegin, Side.None, 0n, 0n, 0n, 0n, 0n, EventFlag.Snapshot);
  const ob = d.ob as LobsterOrderbook;
  for (let l = 0; l < ob.levels; l++) {
    const [ap, aq, bp, bq] = ob.data.subarray(l * 4, l * 4 + 4);
    if (aq > 0) seeded.push(ts, ts, 0, EventKind.Modify, Side.Ask, BigInt(ap), BigInt(aq), 0n, 0n, 0n, EventFlag.Snapshot);
    if (bq > 0) seeded.push(ts, ts, 0, EventKind.Modify, Side.Bid, BigInt(bp), BigInt(bq), 0n, 0n, 0n, EventFlag.Snapshot);
  }
  seeded.push(ts, ts, 0, EventKind.SnapshotEnd, Side.None, 0n, 0n, 0n, 0n, 0n, EventFlag.Snapshot | EventFlag.EndOfMessage);
  const head = seeded.length;
  const all = new Uint8Array((head + batch.length - 1) * 64);
  all.set(seeded.bytes(), 0);
  all.set(batch.bytes().subarray(64), head * 64);
  compare('AAPL-seeded', [instrument], all, head + batch.length - 1, {}, 128);
  // The seeded book's first rows are the orderbook file's (LOBSTER row i = book after message i).
  const engine = new MarketEngine([instrument]);
  const out = new Float64Array(all.length / 64 * NUM_FEATURES);
  engine.apply(all, all.length / 64, out);
  for (let i = 1; i <= 100; i++) {
    const f = out.subarray((head + i - 1) * NUM_FEATURES, (head + i) * NUM_FEATURES);
    const row: Float64Array = ob.data.subarray(d.parsed.dataRow[i] * ob.levels * 4);
    assert.deepEqual([f[Feature.AskPrice], f[Feature.AskQty], f[Feature.BidPrice], f[Feature.BidQty]], [...row.subarray(0, 4)], `row ${i}`);
    assert.equal(f[Feature.Mid], (row[0] + row[2]) / 2);
    assert.equal(f[Feature.Microprice], (row[2] * row[1] + row[0] * row[3]) / (row[3] + row[1]));
    assert.equal(f[Feature.Imbalance1], (row[3] - row[1]) / (row[3] + row[1]));
  }
});

test('LOBSTER MSFT (L3, 141,507 events, unknown pre-open orders)', (t) => {
  const d = lobster('MSFT_2012-06-21_34200000_37800000');
  if (!d) return t.skip(`${DATA}/lobster is missing`);
  const { batch, instrument } = d.parsed;
  const ref = compare('MSFT', [instrument], batch.bytes(), batch.length, {}, 8192);
  assert.ok(ref.counts.unknownOrders > 0);
  assert.equal(ref.counts.events, 141_507);
});

test('Bybit v5 recording (4 perpetuals, L2 snapshot + deltas + trades)', async (t) => {
  const d = await importFile(importBybit, 'bybit/BYBIT.v5.jsonl');
  if (!d) return t.skip(`${DATA}/bybit is missing`);
  const ref = compare('bybit', d.instruments, d.bytes, d.count);
  assert.equal(ref.counts.gaps, 0, 'the recording has no gaps');
});

test('Binance USD-M futures BTCUSDT (REST snapshot, diffs with pu, trades, bookTicker)', async (t) => {
  const d = await importFile(importBinance, 'binance/usdm_btcusdt_20240808.gz');
  if (!d) return t.skip(`${DATA}/binance is missing`);
  const ref = compare('usdm', d.instruments, d.bytes, d.count);
  assert.equal(ref.counts.gaps, 0);
});

test('Binance spot BTCUSDT: synced import is never crossed; the naive rebuild (61820.99 bid kept) is pruned back', async (t) => {
  const d = await importFile(importBinance, 'binance/spot_btcusdt_20240808.gz');
  if (!d) return t.skip(`${DATA}/binance is missing`);
  const synced = compare('spot', d.instruments, d.bytes, d.count);
  assert.equal(synced.counts.crossedEpisodes, 0, 'the importer applies the diff straddling the snapshot, which removes the bid');

  // The naive rebuild skips that diff's removal of the 61820.99 bid: drop exactly that event.
  const ticks = BigInt(Math.round(61820.99 / d.instruments[0].tickSize));
  let k = -1;
  for (let i = 0; i < d.count && k < 0; i++) {
    const e = readEvent(d.bytes, i);
    if (e.kind === EventKind.Modify && e.side === Side.Bid && e.price === ticks && e.qty === 0n) k = i;
  }
  assert.ok(k > 0, 'the removal of the 61820.99 bid is in the import');
  assert.equal(readEvent(d.bytes, k).flags & EventFlag.EndOfMessage, 0, 'not the last event of its message');
  const naive = new Uint8Array((d.count - 1) * 64);
  naive.set(d.bytes.subarray(0, k * 64), 0);
  naive.set(d.bytes.subarray((k + 1) * 64), k * 64);
  const ref = compare('spot-naive', d.instruments, naive, d.count - 1);
  assert.ok(ref.counts.crossedEpisodes >= 1, 'crossed');
  assert.ok(ref.counts.prunedLevels >= 1, 'pruned');
  assert.equal(ref.counts.gaps, 0);
  // Once pruned, the naive book is the synced one again: same top of book at the end.
  const a = new MarketEngine(d.instruments);
  a.apply(d.bytes, d.count);
  const b = new MarketEngine(d.instruments);
  b.apply(naive, d.count - 1);
  assert.deepEqual(b.topOfBook(0), a.topOfBook(0));
  assert.deepEqual([...b.depth(0, Side.Bid, 10)], [...a.depth(0, Side.Bid, 10)]);
});

test('Bitstamp BTC/USD (L3 order-by-order events with top-20 snapshots)', async (t) => {
  const d = await importFile(importBitstamp, 'bitstamp/2015-05-01.log');
  if (!d) return t.skip(`${DATA}/bitstamp is missing`);
  compare('bitstamp', d.instruments, d.bytes, d.count);
});
