// Bybit v5 importer: wrapper and raw lines, snapshot/delta decoding against the raw JSON, per-symbol u
// continuity, an injected gap, trades, and the full recording when ../shared/data is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { EventFlag, EventKind, Side } from '../../src/core/event';
import { importBybit } from '../../src/import/bybit';
import { decimalToUnits } from '../../src/import/decimal';
import { fileSource, textSource } from '../../src/import/lines';
import { L2Model, NO_SHARED_DATA, eventsOf, fixture, isEnd, marketEngineOrSkip, sharedData } from './import-fixtures';

const FIXTURE = fixture('bybit', 'BYBIT.v5.head.jsonl');
const LINES = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.length > 0);

/** The raw v5 message of a wrapper line, or undefined for other recorder lines. */
function raw(line: string): any {
  const o = JSON.parse(line);
  return o.t === 'recv' ? JSON.parse(o.data) : undefined;
}

test('fixture imports without problems: six instruments, spot and linear kept apart', async () => {
  const r = await importBybit([fileSource(FIXTURE)]);
  const rep = r.reports[0];
  assert.equal(rep.errorCount, 0, JSON.stringify(rep.errors));
  assert.equal(rep.gaps.length, 0);
  assert.equal(rep.lines, LINES.length);
  assert.deepEqual(r.instruments.map((i) => `${i.venue}:${i.symbol}`), [
    'bybit.linear:BTCUSDT', 'bybit.linear:ETHUSDT', 'bybit.linear:SOLUSDT', 'bybit.linear:DOGEUSDT', 'bybit.spot:BTCUSDT', 'bybit.spot:ETHUSDT',
  ]);
  assert.ok(r.instruments.every((i) => i.bookType === 'L2'));
  assert.ok((rep.skipped['topic tickers (ignored)'] ?? 0) > 0, 'other topics are counted');
  // The merged stream never goes back in receive time, and every message ends with EndOfMessage.
  const ev = eventsOf(r.batch);
  for (let i = 1; i < ev.length; i++) assert.ok(ev[i].tsLocal >= ev[i - 1].tsLocal, `tsLocal goes back at event ${i}`);
  assert.ok(isEnd(ev[ev.length - 1]));
});

test('per instrument, every delta continues the previous u (prev_seq = u - 1 = last seq)', async () => {
  const r = await importBybit([fileSource(FIXTURE)]);
  const last = new Map<number, bigint>();
  let deltas = 0;
  for (const e of eventsOf(r.batch)) {
    if (e.kind === EventKind.SnapshotBegin) {
      assert.equal(e.prevSeq, 0n);
      last.set(e.instrument, e.seq);
    } else if (e.kind === EventKind.Modify && (e.flags & EventFlag.Snapshot) === 0) {
      if (e.seq !== last.get(e.instrument)) {
        assert.equal(e.prevSeq, last.get(e.instrument), `instrument ${e.instrument} seq ${e.seq}`);
        assert.equal(e.prevSeq, e.seq - 1n);
        deltas++;
      }
      last.set(e.instrument, e.seq);
    }
  }
  const rawDeltas = LINES.map(raw).filter((m) => m?.topic?.startsWith('orderbook.') && m.type === 'delta').length;
  assert.equal(deltas, rawDeltas);
});

test('snapshot levels and a delta decode exactly as in the raw JSON', async () => {
  const r = await importBybit([fileSource(FIXTURE)]);
  const ev = eventsOf(r.batch);
  const btc = r.instruments.find((i) => i.venue === 'bybit.linear' && i.symbol === 'BTCUSDT')!;
  const snapMsg = LINES.map(raw).find((m) => m?.topic === 'orderbook.200.BTCUSDT' && m.type === 'snapshot');
  const begin = ev.findIndex((e) => e.kind === EventKind.SnapshotBegin && e.instrument === btc.id);
  assert.equal(ev[begin].seq, BigInt(snapMsg.data.u));
  assert.equal(ev[begin].tsExchange, BigInt(snapMsg.cts) * 1_000_000n, 'exchange time = cts');
  const bids = snapMsg.data.b as string[][];
  const asks = snapMsg.data.a as string[][];
  const levels = ev.slice(begin + 1, begin + 1 + bids.length + asks.length);
  assert.ok(levels.every((e) => e.kind === EventKind.Modify && (e.flags & EventFlag.Snapshot) !== 0));
  const decimals = Math.round(-Math.log10(btc.tickSize));
  const lotDecimals = Math.round(-Math.log10(btc.lotSize));
  for (const k of [0, 1, 5, bids.length - 1]) {
    assert.equal(levels[k].side, Side.Bid);
    assert.equal(levels[k].price, decimalToUnits(bids[k][0], decimals));
    assert.equal(levels[k].qty, decimalToUnits(bids[k][1], lotDecimals));
  }
  for (const k of [0, 3, asks.length - 1]) {
    const e = levels[bids.length + k];
    assert.equal(e.side, Side.Ask);
    assert.equal(e.price, decimalToUnits(asks[k][0], decimals));
    assert.equal(e.qty, decimalToUnits(asks[k][1], lotDecimals));
  }
  assert.equal(ev[begin + 1 + bids.length + asks.length].kind, EventKind.SnapshotEnd);
  assert.ok(isEnd(ev[begin + 1 + bids.length + asks.length]));
  // 65114.20 at tick 0.1 is 651142 ticks: trailing zeros do not refine the tick.
  assert.equal(btc.tickSize, 0.1);
  assert.equal(levels[0].price, 651142n);

  // A delta: its levels in order, absolute sizes, "0" kept as qty 0 (removal).
  const delta = LINES.map(raw).find((m) => m?.topic === 'orderbook.200.BTCUSDT' && m.type === 'delta' && m.data.a.some((l: string[]) => l[1] === '0'));
  const mine = ev.filter((e) => e.instrument === btc.id && e.seq === BigInt(delta.data.u) && e.kind === EventKind.Modify);
  const want = [...delta.data.b.map((l: string[]) => [Side.Bid, ...l]), ...delta.data.a.map((l: string[]) => [Side.Ask, ...l])];
  assert.equal(mine.length, want.length);
  want.forEach(([side, p, q], k) => {
    assert.deepEqual([mine[k].side, mine[k].price, mine[k].qty], [side, decimalToUnits(p, decimals), decimalToUnits(q, lotDecimals)]);
  });
  assert.ok(mine.some((e) => e.qty === 0n));
  assert.ok(isEnd(mine[mine.length - 1]) && mine.slice(0, -1).every((e) => !isEnd(e)), 'one message, EndOfMessage on its last event');
});

test('a removed delta line is reported as a gap with the right symbol, expected and got', async () => {
  // Drop the third ETHUSDT linear delta.
  let seen = 0;
  let removed = -1;
  for (let i = 0; i < LINES.length; i++) {
    const m = raw(LINES[i]);
    if (m?.topic === 'orderbook.200.ETHUSDT' && m.type === 'delta' && JSON.parse(LINES[i]).conn === 'BYBIT.ws.2' && ++seen === 3) {
      removed = i;
      break;
    }
  }
  assert.ok(removed > 0);
  const u = raw(LINES[removed]).data.u as number;
  const cut = [...LINES.slice(0, removed), ...LINES.slice(removed + 1)];
  const next = cut.findIndex((l, i) => i >= removed && raw(l)?.topic === 'orderbook.200.ETHUSDT' && JSON.parse(l).conn === 'BYBIT.ws.2');
  const r = await importBybit([textSource('cut.jsonl', cut)]);
  assert.deepEqual(r.reports[0].gaps, [{ file: 'cut.jsonl', symbol: 'ETHUSDT', line: next + 1, expected: u, got: u + 1 }]);
  // The event keeps prev_seq = u: the engine sees the same break.
  const eth = r.instruments.find((i) => i.venue === 'bybit.linear' && i.symbol === 'ETHUSDT')!;
  const after = eventsOf(r.batch).find((e) => e.instrument === eth.id && e.seq === BigInt(u + 1))!;
  assert.equal(after.prevSeq, BigInt(u));
});

test('trades: taker side, price, size and trade time', async () => {
  const r = await importBybit([fileSource(FIXTURE)]);
  const trades = eventsOf(r.batch).filter((e) => e.kind === EventKind.Trade);
  const rawTrades = LINES.map((l) => [JSON.parse(l), raw(l)] as const).filter(([, m]) => m?.topic?.startsWith('publicTrade.'));
  assert.equal(trades.length, rawTrades.reduce((n, [, m]) => n + m.data.length, 0));
  const [w, m] = rawTrades[0];
  const t = m.data[0];
  const inst = r.instruments.find((i) => i.symbol === t.s && i.venue === (w.conn === 'BYBIT.ws.2' ? 'bybit.linear' : 'bybit.spot'))!;
  const first = trades.find((e) => e.instrument === inst.id && e.tsExchange === BigInt(t.T) * 1_000_000n)!;
  assert.equal(first.side, t.S === 'Buy' ? Side.Bid : Side.Ask);
  assert.equal(first.price, decimalToUnits(t.p, Math.round(-Math.log10(inst.tickSize))));
  assert.equal(first.seq, 0n, 'trades carry no sequence number');
  assert.ok(trades.every((e) => e.side === Side.Bid || e.side === Side.Ask));
});

test('plain raw v5 lines (no recorder wrapper) decode to the same book events', async () => {
  const linear = LINES.filter((l) => JSON.parse(l).conn === 'BYBIT.ws.2');
  const wrapped = await importBybit([textSource('w.jsonl', linear)]);
  const rawLines = linear.map((l) => JSON.parse(l)).filter((o) => o.t === 'recv').map((o) => o.data as string);
  const plain = await importBybit([textSource('raw.jsonl', rawLines)]);
  assert.equal(plain.reports[0].errorCount, 0);
  assert.deepEqual(plain.instruments.map((i) => i.venue), ['bybit', 'bybit', 'bybit', 'bybit']);
  const a = eventsOf(wrapped.batch).filter((e) => e.kind !== EventKind.Trade);
  const b = eventsOf(plain.batch).filter((e) => e.kind !== EventKind.Trade);
  assert.equal(a.length, b.length);
  // Same content per instrument (the merged order may differ: receive time vs push time).
  const key = (e: (typeof a)[number]) => `${e.instrument}|${e.kind}|${e.side}|${e.price}|${e.qty}|${e.seq}|${e.prevSeq}|${e.tsExchange}`;
  assert.deepEqual(a.map(key).sort(), b.map(key).sort());
});

test('full recording: no gaps, no problems, book never crossed (reference model)', async (t) => {
  const file = sharedData('bybit/BYBIT.v5.jsonl');
  if (!file) return t.skip(NO_SHARED_DATA);
  const r = await importBybit([fileSource(file)]);
  const rep = r.reports[0];
  assert.equal(rep.errorCount, 0);
  assert.deepEqual(rep.gaps, []);
  assert.equal(r.instruments.length, 6);
  const model = new L2Model();
  let checked = 0;
  for (const e of eventsOf(r.batch)) {
    model.apply(e);
    if (isEnd(e) && e.kind !== EventKind.Trade) {
      const { bid, ask } = model.best(e.instrument);
      if (bid !== undefined && ask !== undefined) {
        assert.ok(bid < ask, `crossed at seq ${e.seq} of instrument ${e.instrument}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 2000);
  const MarketEngine = marketEngineOrSkip();
  if (MarketEngine) {
    const engine = new MarketEngine(r.instruments);
    engine.apply(r.batch.bytes(), r.batch.length);
    const s = engine.stats();
    assert.equal(s.gaps, 0);
    assert.equal(s.crossedEpisodes, 0);
  }
});
