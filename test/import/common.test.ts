// Shared importer machinery: exact decimals, the merge, and bad input (garbage, NaN, negative sizes,
// out-of-order times, truncated gzip, unknown symbols) counted with file:line, or thrown with --strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { EventBatch, EventFlag, EventKind, Side } from '../../src/core/event';
import { EngineError } from '../../src/errors';
import { importBinance } from '../../src/import/binance';
import { importBitstamp } from '../../src/import/bitstamp';
import { importBybit } from '../../src/import/bybit';
import { mergeByLocalTime } from '../../src/import/merge';
import { decimalPlaces, decimalToUnits, numberToUnits } from '../../src/import/decimal';
import { gzipBufferSource, textSource } from '../../src/import/lines';
import { eventsOf, fixture } from './import-fixtures';

test('decimal strings convert exactly, trailing zeros do not count', () => {
  assert.equal(decimalPlaces('61837.63000000'), 2);
  assert.equal(decimalPlaces('0.00000000'), 0);
  assert.equal(decimalPlaces('5'), 0);
  assert.equal(decimalPlaces('1e-5'), -1);
  assert.equal(decimalToUnits('0.1', 1) + decimalToUnits('0.2', 1), decimalToUnits('0.3', 1));
  assert.equal(decimalToUnits('61837.63000000', 2), 6183763n);
  assert.equal(decimalToUnits('0.07055', 5), 7055n);
  assert.equal(decimalToUnits('-1.5', 2), -150n);
  // Beyond 2^53 the BigInt path keeps every digit.
  assert.equal(decimalToUnits('123456789012.123456789', 9), 123456789012123456789n);
  assert.equal(decimalToUnits('9007199254740993', 0), 9007199254740993n);
  for (const bad of ['NaN', '', ' 1', '1.', '.5', '1e5', '+1', 'Infinity', '0x10']) assert.throws(() => decimalToUnits(bad, 4), /not a decimal/, bad);
  assert.throws(() => decimalToUnits('1.234', 2), /more than 2 decimals/);
  assert.deepEqual(numberToUnits(1.7885566900000001, 8), { units: 178855669n, rounded: false });
  assert.deepEqual(numberToUnits(0.125, 2), { units: 13n, rounded: true });
});

test('merge by local time: stable, whole messages, ties to the earlier stream', () => {
  const a = new EventBatch(4);
  const b = new EventBatch(4);
  const M = EventFlag.EndOfMessage;
  a.push(1n, 10n, 0, EventKind.Modify, Side.Bid, 1n, 1n, 0n, 1n, 0n, 0);
  a.push(1n, 10n, 0, EventKind.Modify, Side.Ask, 2n, 1n, 0n, 1n, 0n, M);
  a.push(1n, 30n, 0, EventKind.Trade, Side.Bid, 2n, 1n, 0n, 0n, 0n, M);
  b.push(1n, 10n, 1, EventKind.Trade, Side.Ask, 5n, 1n, 0n, 0n, 0n, M);
  b.push(1n, 20n, 1, EventKind.Modify, Side.Bid, 4n, 1n, 0n, 9n, 0n, 0);
  b.push(1n, 20n, 1, EventKind.Modify, Side.Bid, 3n, 1n, 0n, 9n, 0n, M);
  const m = eventsOf(mergeByLocalTime([a, b]));
  assert.deepEqual(m.map((e) => `${e.instrument}:${e.price}`), ['0:1', '0:2', '1:5', '1:4', '1:3', '0:2']);
});

const BYBIT_OK = (ts: number, u: number, price = '100.5', size = '2') =>
  JSON.stringify({ t: 'recv', conn: 'c', ts, data: JSON.stringify({ topic: 'orderbook.50.XUSDT', type: u === 1 ? 'snapshot' : 'delta', ts: 1000 + u, data: { s: 'XUSDT', b: [[price, size]], a: [['101.0', '1']], u } }) });

test('bad lines are skipped and counted with file:line; the rest is imported', async () => {
  const lines = [
    BYBIT_OK(1.0, 1),
    'this is not json',
    BYBIT_OK(1.1, 2, 'NaN'),
    BYBIT_OK(1.2, 3, '100.4', '-1'),
    BYBIT_OK(1.3, 4),
    BYBIT_OK(1.25, 5), // receive time goes back
    BYBIT_OK(1.4, 6, '100.7', '0'),
  ];
  const r = await importBybit([textSource('bad.jsonl', lines)]);
  const rep = r.reports[0];
  assert.deepEqual(rep.errors.map((e) => [e.file, e.line]), [['bad.jsonl', 2], ['bad.jsonl', 3], ['bad.jsonl', 4], ['bad.jsonl', 6]]);
  assert.match(rep.errors[0].message, /not JSON/);
  assert.match(rep.errors[1].message, /bad price.*NaN/);
  assert.match(rep.errors[2].message, /size >= 0.*-1/);
  assert.match(rep.errors[3].message, /went back by 50000000 ns/);
  assert.deepEqual(rep.skipped, { 'garbage line': 1, 'bad price': 1, 'negative size': 1, 'out-of-order timestamp': 1 });
  assert.equal(rep.clamped, 1);
  assert.equal(rep.errorCount, 4);
  // Lines 3 and 4 are gone: u 2 and 3 missing -> one gap at line 5.
  assert.deepEqual(rep.gaps.map((g) => [g.line, g.expected, g.got]), [[5, 2, 4]]);
  const ev = eventsOf(r.batch);
  const clamped = ev.filter((e) => (e.flags & EventFlag.TsClamped) !== 0);
  assert.equal(clamped.length, 2); // both levels of line 6
  assert.ok(clamped.every((e) => e.tsLocal === 1_300_000_000n && e.tsExchange === 1_005_000_000n), 'tsLocal clamped, exchange time kept');
  assert.equal(ev.filter((e) => e.seq === 6n && e.side === Side.Bid)[0].qty, 0n, 'size "0" removes the level');
});

test('--strict: the first bad line throws E_BAD_INPUT with file and line', async () => {
  const cases: [string, string][] = [
    ['this is not json', 'garbage'],
    [BYBIT_OK(1.1, 2, 'NaN'), 'NaN price'],
    [BYBIT_OK(1.1, 2, '100.4', '-1'), 'negative size'],
    [BYBIT_OK(0.5, 2), 'out-of-order time'],
  ];
  for (const [line, what] of cases) {
    await assert.rejects(importBybit([textSource('s.jsonl', [BYBIT_OK(1.0, 1), line])], { strict: true }), (err: unknown) => {
      assert.ok(err instanceof EngineError, what);
      assert.equal(err.code, 'E_BAD_INPUT', what);
      assert.deepEqual(err.where, { file: 's.jsonl', line: 2 }, what);
      return true;
    });
  }
  // Bitstamp: a zero-size order and a sell/buy code that does not exist.
  const zero = '1 order_created {"price": "10.00", "amount": "0.00000000", "datetime": "1", "id": 1, "order_type": 0}';
  await assert.rejects(importBitstamp([textSource('b.log', [zero])], { strict: true }), /expected a size > 0.*b\.log, line 1/);
  const r = await importBitstamp([textSource('b.log', [zero, zero.replace('"order_type": 0', '"order_type": 3').replace('0.00000000', '1.0')])]);
  assert.deepEqual(r.reports[0].skipped, { 'zero size': 1, 'bad side': 1 });
});

test('Binance: garbage, missing receive time and a symbol that contradicts its stream', async () => {
  const good = '1000 {"stream":"xusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"XUSDT","t":1,"p":"1.5","q":"2","m":true}}';
  const r = await importBinance([textSource('b.txt', [good, 'garbage', '{"stream":"xusdt@trade"}', good.replace('"s":"XUSDT"', '"s":"YUSDT"'), good.replace('"q":"2"', '"q":"NaN"')])]);
  const rep = r.reports[0];
  assert.deepEqual(rep.errors.map((e) => e.line), [2, 3, 4, 5]);
  assert.deepEqual(rep.skipped, { 'garbage line': 2, 'unknown symbol': 1, 'bad size': 1 });
  assert.equal(r.batch.length, 1);
});

test('truncated gzip: complete lines kept, the damage reported at the next line; strict throws E_TRUNCATED', async () => {
  const whole = fs.readFileSync(fixture('binance', 'usdm_ethusdt_20240808.head400.gz'));
  const cut = new Uint8Array(whole.subarray(0, Math.floor(whole.length * 0.6)));
  const r = await importBinance([gzipBufferSource('cut.gz', cut)]);
  const rep = r.reports[0];
  assert.equal(rep.skipped['truncated input'], 1);
  const last = rep.errors[rep.errors.length - 1];
  assert.equal(last.line, rep.lines + 1);
  assert.match(last.message, /truncated or corrupt gzip/);
  assert.ok(rep.lines > 50 && rep.lines < 400 && r.batch.length > 0);
  // Every line before the damage is whole: the same lines import identically from the plain text.
  const text = zlib.gunzipSync(new Uint8Array(whole)).toString('utf8').split('\n').slice(0, rep.lines);
  const plain = await importBinance([textSource('plain', text)]);
  assert.equal(plain.batch.length, r.batch.length);
  await assert.rejects(importBinance([gzipBufferSource('cut.gz', cut)], { strict: true }), (err: unknown) =>
    err instanceof EngineError && err.code === 'E_TRUNCATED' && err.where?.line === rep.lines + 1);
});

test('--symbols: other symbols skipped and counted; a symbol never seen is an error (strict: E_UNKNOWN_SYMBOL)', async () => {
  const src = () => textSource('f.jsonl', [BYBIT_OK(1.0, 1), BYBIT_OK(1.1, 2).replace(/XUSDT/g, 'ZUSDT')]);
  const r = await importBybit([src()], { symbols: ['zusdt', 'QQQ'] });
  const rep = r.reports[0];
  assert.deepEqual(r.instruments.map((i) => i.symbol), ['ZUSDT']);
  assert.equal(rep.skipped['symbol not in --symbols'], 1);
  assert.ok(rep.notes.some((n) => n === 'XUSDT skipped (not in --symbols), first at f.jsonl:1'));
  assert.deepEqual(rep.errors, [{ file: 'f.jsonl', line: 0, message: 'symbol QQQ from --symbols never appears in the input' }]);
  await assert.rejects(importBybit([src()], { symbols: ['QQQ'], strict: true }), (err: unknown) => err instanceof EngineError && err.code === 'E_UNKNOWN_SYMBOL');
});
