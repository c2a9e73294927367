// Binance importer: snapshot sync (diffs received before the REST snapshot), futures pu chain, spot U/u
// continuity, Bbo and trades, an injected gap, the spot file's 61820.99 bid, and the full files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { EventFlag, EventKind, EventRecord, Side } from '../../src/core/event';
import { importBinance } from '../../src/import/binance';
import { decimalToUnits } from '../../src/import/decimal';
import { fileSource, textSource } from '../../src/import/lines';
import { L2Model, NO_SHARED_DATA, eventsOf, fixture, isEnd, marketEngineOrSkip, sharedData } from './import-fixtures';

const SPOT = fixture('binance', 'spot_btcusdt_20240808.head400.gz');
const USDM_BTC = fixture('binance', 'usdm_btcusdt_20240808.head400.gz');
const USDM_ETH = fixture('binance', 'usdm_ethusdt_20240808.head400.gz');

function lines(file: string): string[] {
  return zlib.gunzipSync(new Uint8Array(fs.readFileSync(file))).toString('utf8').split('\n').filter((l) => l.length > 0);
}
const json = (line: string): any => JSON.parse(line.slice(line.indexOf(' ') + 1));

/** The first event of each book message (snapshot or diff) of one instrument. */
function depthMessages(ev: EventRecord[], instrument: number): EventRecord[] {
  const out: EventRecord[] = [];
  let start = true;
  for (const e of ev) {
    if (e.instrument !== instrument) continue;
    if (start && e.seq !== 0n) out.push(e);
    start = isEnd(e);
  }
  return out;
}

test('futures fixtures: snapshot decoded, held-back diffs synced, pu chain without gaps', async () => {
  for (const file of [USDM_BTC, USDM_ETH]) {
    const raw = lines(file);
    const snapLine = raw.findIndex((l) => json(l).lastUpdateId !== undefined);
    const snap = json(raw[snapLine]);
    const r = await importBinance([fileSource(file)]);
    const rep = r.reports[0];
    assert.equal(rep.errorCount, 0, JSON.stringify(rep.errors));
    assert.deepEqual(rep.gaps, []);
    assert.equal(r.instruments.length, 1);
    const inst = r.instruments[0];
    assert.equal(inst.venue, 'binance.usdm');
    const ev = eventsOf(r.batch);
    const begin = ev.findIndex((e) => e.kind === EventKind.SnapshotBegin);
    assert.equal(ev[begin].seq, BigInt(snap.lastUpdateId));
    const d = Math.round(-Math.log10(inst.tickSize));
    const q = Math.round(-Math.log10(inst.lotSize));
    assert.equal(ev[begin + 1].price, decimalToUnits(snap.bids[0][0], d));
    assert.equal(ev[begin + 1].qty, decimalToUnits(snap.bids[0][1], q));
    assert.equal(ev[begin + 1 + snap.bids.length].side, Side.Ask);
    assert.equal(ev[begin + 1 + snap.bids.length].price, decimalToUnits(snap.asks[0][0], d));

    // Diffs before the snapshot line: u < L dropped, the straddling one applied after the snapshot.
    const early = raw.slice(0, snapLine).map(json).filter((m) => m.data?.e === 'depthUpdate').map((m) => m.data);
    const dropped = early.filter((x) => x.u < snap.lastUpdateId).length;
    assert.equal(rep.skipped['depth diff older than the snapshot'], dropped);
    const msgs = depthMessages(ev, inst.id);
    assert.equal(msgs[0].kind, EventKind.SnapshotBegin);
    const first = early.find((x) => x.u >= snap.lastUpdateId)!;
    assert.ok(first.U <= snap.lastUpdateId && snap.lastUpdateId <= first.u, 'the first applied diff straddles L');
    assert.equal(msgs[1].seq, BigInt(first.u));
    assert.equal(msgs[1].prevSeq, BigInt(snap.lastUpdateId), 'first diff continues the snapshot');
    assert.ok((msgs[1].flags & EventFlag.TsClamped) !== 0 && msgs[1].tsLocal === ev[begin].tsLocal, 'applied at the snapshot receive time');
    // (u may equal L: that diff is applied too, its quantities are the snapshot's.)
    for (let i = 2; i < msgs.length; i++) assert.equal(msgs[i].prevSeq, msgs[i - 1].seq, `pu chain at ${i}`);
    assert.ok(msgs.length > 20);
  }
});

test('spot fixture: U == previous u + 1 (prev_seq = U - 1), and the snapshot bid 61820.99 is removed by the held-back diff', async () => {
  const raw = lines(SPOT);
  const r = await importBinance([fileSource(SPOT)]);
  assert.equal(r.reports[0].errorCount, 0);
  assert.deepEqual(r.reports[0].gaps, []);
  const inst = r.instruments[0];
  assert.equal(inst.venue, 'binance.spot');
  assert.equal(inst.tickSize, 0.01);
  const ev = eventsOf(r.batch);
  const msgs = depthMessages(ev, inst.id);
  for (let i = 2; i < msgs.length; i++) assert.equal(msgs[i].prevSeq, msgs[i - 1].seq);
  // Every applied diff after the first: prev_seq is its own U - 1.
  const byU = new Map(raw.map(json).filter((m) => m.data?.e === 'depthUpdate').map((m) => [BigInt(m.data.u), BigInt(m.data.U)]));
  for (let i = 2; i < msgs.length; i++) assert.equal(msgs[i].prevSeq, byU.get(msgs[i].seq)! - 1n);
  // The REST snapshot holds a bid at 61820.99; the diff received just before it (U <= L+1 <= u)
  // deletes that level. Applied after the snapshot, as Binance's procedure says, nothing is stuck.
  const stuck = 6182099n;
  const begin = ev.findIndex((e) => e.kind === EventKind.SnapshotBegin);
  const end = ev.findIndex((e) => e.kind === EventKind.SnapshotEnd);
  assert.ok(ev.slice(begin, end).some((e) => e.side === Side.Bid && e.price === stuck && e.qty > 0n));
  const removal = ev.slice(end + 1).find((e) => e.side === Side.Bid && e.price === stuck && e.kind === EventKind.Modify)!;
  assert.equal(removal.qty, 0n);
  assert.equal(removal.seq, msgs[1].seq);
});

test('bookTicker -> two Bbo events; trade m=true -> seller aggressor (Side.Ask)', async () => {
  const raw = lines(USDM_BTC);
  const r = await importBinance([fileSource(USDM_BTC)]);
  const ev = eventsOf(r.batch);
  const inst = r.instruments[0];
  const d = Math.round(-Math.log10(inst.tickSize));
  const bt = raw.map(json).find((m) => m.data?.e === 'bookTicker').data;
  const i = ev.findIndex((e) => e.kind === EventKind.Bbo && e.tsExchange === BigInt(bt.T) * 1_000_000n);
  assert.deepEqual([ev[i].side, ev[i].price, ev[i + 1].side, ev[i + 1].price], [Side.Bid, decimalToUnits(bt.b, d), Side.Ask, decimalToUnits(bt.a, d)]);
  assert.ok(!isEnd(ev[i]) && isEnd(ev[i + 1]));
  const trades = raw.map(json).filter((m) => m.data?.e === 'trade').map((m) => m.data);
  const mine = ev.filter((e) => e.kind === EventKind.Trade);
  assert.equal(mine.length, trades.length);
  trades.forEach((t, k) => {
    assert.equal(mine[k].side, t.m ? Side.Ask : Side.Bid);
    assert.equal(mine[k].price, decimalToUnits(t.p, d));
    assert.equal(mine[k].tsExchange, BigInt(t.T) * 1_000_000n);
  });
  assert.ok(trades.some((t) => t.m) && trades.some((t) => !t.m));
});

test('a removed futures diff is a gap: expected the previous u, got the next pu', async () => {
  const raw = lines(USDM_ETH);
  const snapLine = raw.findIndex((l) => json(l).lastUpdateId !== undefined);
  const diffs = raw.map((l, i) => [i, json(l).data] as const).filter(([i, x]) => i > snapLine && x?.e === 'depthUpdate');
  const [cutAt, gone] = diffs[10];
  const [, next] = diffs[11];
  const cut = [...raw.slice(0, cutAt), ...raw.slice(cutAt + 1)];
  const r = await importBinance([textSource('cut', cut)]);
  assert.equal(next.pu, gone.u);
  assert.deepEqual(r.reports[0].gaps.map((g) => [g.symbol, g.expected, g.got, g.line]), [['ETHUSDT', diffs[9][1].u, next.pu, diffs[11][0]]]);
});

test('three files merge by receive time into three instruments', async () => {
  const r = await importBinance([SPOT, USDM_BTC, USDM_ETH].map(fileSource));
  assert.deepEqual(r.instruments.map((i) => `${i.id} ${i.venue}:${i.symbol}`), ['0 binance.spot:BTCUSDT', '1 binance.usdm:BTCUSDT', '2 binance.usdm:ETHUSDT']);
  const ev = eventsOf(r.batch);
  assert.equal(ev.length, r.reports.reduce((n, x) => n + x.events, 0));
  for (let i = 1; i < ev.length; i++) assert.ok(ev[i].tsLocal >= ev[i - 1].tsLocal);
  // Messages stay whole: a run of one seq is never interleaved with another instrument.
  for (let i = 1; i < ev.length; i++) if (!isEnd(ev[i - 1])) assert.equal(ev[i].instrument, ev[i - 1].instrument);
});

test('full files: no gaps; spot synced per the procedure is never crossed, a naive start is', async (t) => {
  const files = ['usdm_btcusdt_20240808.gz', 'usdm_ethusdt_20240808.gz', 'spot_btcusdt_20240808.gz'].map((f) => sharedData(`binance/${f}`));
  if (files.some((f) => !f)) return t.skip(NO_SHARED_DATA);
  for (const f of files) {
    const r = await importBinance([fileSource(f!)]);
    assert.equal(r.reports[0].errorCount, 0, f);
    assert.deepEqual(r.reports[0].gaps, [], f);
  }
  const spot = await importBinance([fileSource(files[2]!)]);
  const model = new L2Model();
  let crossed = 0;
  for (const e of eventsOf(spot.batch)) {
    model.apply(e);
    if (isEnd(e)) {
      const { bid, ask } = model.best(0);
      if (bid !== undefined && ask !== undefined && bid >= ask) crossed++;
    }
  }
  assert.equal(crossed, 0);
  // Naive: start at the snapshot line, i.e. without the diff received before it. The importer reports
  // the break (expected U <= L+1) and the 61820.99 bid stays: the book crosses, and the engine sees it.
  const all = lines(files[2]!);
  const snapLine = all.findIndex((l) => json(l).lastUpdateId !== undefined);
  const naive = await importBinance([textSource('naive', all.slice(snapLine))]);
  const L = json(all[snapLine]).lastUpdateId as number;
  assert.equal(naive.reports[0].gaps.length, 1);
  assert.equal(naive.reports[0].gaps[0].expected, L + 1);
  const MarketEngine = marketEngineOrSkip();
  if (MarketEngine) {
    const good = new MarketEngine(spot.instruments);
    good.apply(spot.batch.bytes(), spot.batch.length);
    assert.equal(good.stats().crossedEpisodes, 0);
    const bad = new MarketEngine(naive.instruments);
    bad.apply(naive.batch.bytes(), naive.batch.length);
    assert.ok(bad.stats().crossedEpisodes >= 1);
    assert.ok(bad.stats().prunedLevels >= 1);
    assert.equal(bad.stats().gaps, 1);
  }
});
