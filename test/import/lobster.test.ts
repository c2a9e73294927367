// LOBSTER parsers and the book reconstruction check against LOBSTER's own orderbook files (AAPL
// 10 levels, AMZN whole day at 1 level; fixtures in test/fixtures/lobster, AMZN gzipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { EventFlag, EventKind, Side, readEvent } from '../../src/core/event';
import { EngineError } from '../../src/errors';
import { newYorkUtcOffsetMinutes, parseLobsterMessages, parseLobsterOrderbook } from '../../src/import/lobster';
import { verifyLobster } from '../../src/import/lobster-verify';

const FIX = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'lobster'); // dist/test/import -> test/fixtures
const AAPL_MSG = path.join(FIX, 'AAPL_2012-06-21_34200000_57600000_message_10.csv');
const AAPL_BOOK = path.join(FIX, 'AAPL_2012-06-21_34200000_57600000_orderbook_10.csv');
const AMZN_MSG = path.join(FIX, 'AMZN_2012-06-21_34200000_57600000_message_1.with_header.csv.gz');
const AMZN_BOOK = path.join(FIX, 'AMZN_2012-06-21_34200000_57600000_orderbook_1.with_header.csv.gz');
const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'cmm.js');

const rawRows = (file: string): string[][] => {
  const text = file.endsWith('.gz') ? zlib.gunzipSync(new Uint8Array(fs.readFileSync(file))).toString('utf8') : fs.readFileSync(file, 'utf8');
  return text.split('\n').filter((l) => /^\d/.test(l)).map((l) => l.trim().split(','));
};

test('AAPL: every message maps to one event with the documented kind, side, price, size and flags', () => {
  const m = parseLobsterMessages(AAPL_MSG);
  const rows = rawRows(AAPL_MSG);
  assert.equal(m.header, false);
  assert.equal(m.skipped, 0);
  assert.equal(m.batch.length, rows.length);
  assert.equal(m.instrument.symbol, 'AAPL');
  assert.equal(m.instrument.bookType, 'L3');
  assert.equal(m.instrument.tickSize, 0.01, 'all AAPL prices are whole cents');
  const kindOf: Record<string, EventKind> = { '1': EventKind.Add, '2': EventKind.Cancel, '3': EventKind.Cancel, '4': EventKind.Trade, '5': EventKind.Trade };
  rows.forEach((r, i) => {
    const e = readEvent(m.batch.bytes(), i);
    const dir = r[5] === '1' ? Side.Bid : Side.Ask;
    assert.equal(e.kind, kindOf[r[1]], `row ${i}`);
    assert.equal(e.side, r[1] === '4' || r[1] === '5' ? (dir === Side.Bid ? Side.Ask : Side.Bid) : dir, `row ${i} side`);
    assert.equal(e.price * 100n, BigInt(r[4]), `row ${i} price`);
    assert.equal(e.qty, BigInt(r[3]));
    assert.equal(e.orderId, BigInt(r[2]));
    assert.ok(e.flags & EventFlag.EndOfMessage);
    assert.equal(Boolean(e.flags & EventFlag.ExecResting), r[1] === '4');
    assert.equal(Boolean(e.flags & EventFlag.Hidden), r[1] === '5');
    assert.equal(m.dataRow[i], i);
  });
  // 34200.004241176 s after New York midnight on 2012-06-21 (EDT, UTC-4) = 13:30:00.004241176 UTC.
  const first = readEvent(m.batch.bytes(), 0);
  assert.equal(first.tsExchange, BigInt(Date.UTC(2012, 5, 21, 13, 30, 0)) * 1000000n + 4241176n);
  assert.equal(first.tsLocal, first.tsExchange);
});

test('AMZN: header row detected, gzip read, half-cent hidden executions force 0.0001 USD ticks', () => {
  const m = parseLobsterMessages(AMZN_MSG);
  const rows = rawRows(AMZN_MSG);
  assert.equal(m.header, true);
  assert.equal(m.batch.length, rows.length);
  const offGrid = rows.some((r) => Number(r[4]) % 100 !== 0);
  assert.equal(offGrid, true);
  assert.equal(m.instrument.tickSize, 0.0001);
  assert.equal(m.priceScale, 1);
  const e = readEvent(m.batch.bytes(), 0);
  assert.equal(e.price, BigInt(rows[0][4]));
  assert.equal(m.line[0], 2, 'line numbers count the header');
});

test('AAPL (10 levels) reconstructs with zero mismatches against LOBSTER after every message', () => {
  const m = parseLobsterMessages(AAPL_MSG);
  const book = parseLobsterOrderbook(AAPL_BOOK, { priceScale: m.priceScale });
  assert.equal(book.levels, 10);
  assert.equal(book.rows, m.batch.length);
  const r = verifyLobster(m, book);
  assert.equal(r.rows, m.batch.length);
  assert.equal(r.mismatches, 0, JSON.stringify(r.firstMismatch));
  assert.equal(r.fixups.knownOrder, 0, 'every known order moved its level by exactly its size');
  assert.equal(r.fixups.unknownOrder, 0, 'pre-open orders were all inside the seeded levels');
  assert.ok(r.unknownOrders > 0);
  // Without the window model the book lacks the pre-open orders: the raw rebuild cannot match.
  const pure = verifyLobster(m, book, { model: 'pure' });
  assert.ok(pure.mismatches > 0);
});

test('AMZN (whole day, 1 level) reconstructs with zero mismatches against LOBSTER after every message', () => {
  const m = parseLobsterMessages(AMZN_MSG);
  const book = parseLobsterOrderbook(AMZN_BOOK, { priceScale: m.priceScale });
  assert.equal(book.header, true);
  assert.equal(book.levels, 1);
  const r = verifyLobster(m, book);
  assert.equal(r.rows, m.batch.length);
  assert.equal(r.uncompared, 0);
  assert.equal(r.mismatches, 0, JSON.stringify(r.firstMismatch));
});

test('cmm verify-lobster prints a summary and one JSON object on the last line', () => {
  const out = spawnSync(process.execPath, [CLI, 'verify-lobster', AAPL_MSG, AAPL_BOOK, '--json'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.match(lines[0], /999 rows compared at 10 level\(s\)/);
  const j = JSON.parse(lines[lines.length - 1]);
  assert.equal(j.rows, 999);
  assert.equal(j.levels, 10);
  assert.equal(j.mismatches, 0);
  assert.equal(j.firstMismatch, null);
  assert.equal(typeof j.unknownOrders, 'number');
});

const name = 'TEST_2012-06-21_34200000_57600000_message_1.csv';

test('malformed message lines are skipped, counted and reported with file and line', () => {
  const text = [
    'Time,Type,OrderId,Size,Price,Direction',
    '34200.1,1,11,100,2238100,1',
    'garbage',
    '34200.2,1,12,NaN,2238100,1',
    '34200.3,1,13,0,2238100,1',
    '34200.4,1,14,-5,2238100,-1',
    '34200.5,9,15,5,2238100,-1',
    '34200.6,1,16,5,2238100,2',
    '34200.7,1,17,5,2238100',
    '',
    '34200.8,3,11,100,2238100,1',
  ].join('\n');
  const m = parseLobsterMessages({ text, name }, { maxErrors: 3 });
  assert.equal(m.batch.length, 2);
  assert.equal(m.rows, 9);
  assert.equal(m.skipped, 7);
  assert.equal(m.errorCount, 7);
  assert.equal(m.errors.length, 3);
  assert.deepEqual(m.errors.map((e) => e.line), [3, 4, 5]);
  assert.match(m.errors[0].message, /expected 6 columns/);
  assert.match(m.errors[1].message, /expected an integer for column 4, got "NaN"/);
  assert.match(m.errors[2].message, /expected a positive size, got 0/);
  assert.equal(m.errors[0].file, name);
  assert.deepEqual(Array.from(m.line), [2, 11]);
  assert.deepEqual(Array.from(m.dataRow), [0, 8], 'data rows keep counting bad rows: they align with the orderbook file');
  const garbageFirst = parseLobsterMessages({ text: 'not a header\n34200.1,1,11,100,2238100,1', name });
  assert.equal(garbageFirst.header, false, 'a first line that is not a 6-column header is a bad data row');
  assert.deepEqual(garbageFirst.errors.map((e) => e.line), [1]);
  const all = parseLobsterMessages({ text, name });
  assert.deepEqual(all.errors.map((e) => e.line), [3, 4, 5, 6, 7, 8, 9]);
  assert.throws(
    () => parseLobsterMessages({ text, name }, { strict: true }),
    (err: unknown) => err instanceof EngineError && err.code === 'E_BAD_INPUT' && err.where?.line === 3 && err.message.includes(name),
  );
});

test('a time that goes back is kept, clamped and flagged (strict mode throws)', () => {
  const text = ['34200.5,1,1,10,100,1', '34200.25,1,2,10,100,1', '34200.75,1,3,10,100,1'].join('\n');
  const m = parseLobsterMessages({ text, name });
  assert.equal(m.batch.length, 3);
  assert.equal(m.clamped, 1);
  const [a, b, c] = [0, 1, 2].map((i) => readEvent(m.batch.bytes(), i));
  assert.ok(b.flags & EventFlag.TsClamped);
  assert.equal(b.tsLocal, a.tsLocal);
  assert.equal(b.tsExchange, a.tsExchange - 250000000n, 'the venue time is kept as sent');
  assert.equal(c.flags & EventFlag.TsClamped, 0);
  assert.equal(m.errors[0].line, 2);
  assert.throws(() => parseLobsterMessages({ text, name }, { strict: true }), (err: unknown) => err instanceof EngineError && err.where?.line === 2);
});

test('trading date comes from the file name; halts become Status events', () => {
  const text = '36023.5,7,0,0,-1,-1\n36323,7,0,0,0,-1\n36723,7,0,0,1,-1\n';
  const m = parseLobsterMessages({ text, name: 'X_2012-12-03_1_2_message_1.csv' });
  const evs = [0, 1, 2].map((i) => readEvent(m.batch.bytes(), i));
  assert.deepEqual(evs.map((e) => [e.kind, e.qty]), [[EventKind.Status, -1n], [EventKind.Status, 0n], [EventKind.Status, 1n]]);
  // December: EST, UTC-5.
  assert.equal(evs[0].tsExchange, (BigInt(Date.UTC(2012, 11, 3, 5, 0, 0)) + 36023500n) * 1000000n);
  assert.throws(() => parseLobsterMessages({ text, name: 'nodate.csv' }), /no trading date/);
  const dated = parseLobsterMessages({ text, name: 'nodate.csv' }, { date: '2012-12-03' });
  assert.equal(readEvent(dated.batch.bytes(), 0).tsExchange, evs[0].tsExchange);
});

test('New York UTC offset agrees with the ICU time zone database on every day of several years', () => {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', timeZoneName: 'short' });
  for (const year of [2005, 2006, 2007, 2012, 2024]) {
    for (let t = Date.UTC(year, 0, 1, 12); t < Date.UTC(year + 1, 0, 1); t += 86400000) {
      const d = new Date(t);
      // 05:00 UTC is 00:00 EST or 01:00 EDT: the zone in force at the start of that local date.
      const name = fmt.formatToParts(new Date(Date.UTC(year, d.getUTCMonth(), d.getUTCDate(), 5, 0, 0))).find((p) => p.type === 'timeZoneName')!.value;
      const want = name === 'EDT' ? -240 : -300;
      assert.equal(newYorkUtcOffsetMinutes(year, d.getUTCMonth() + 1, d.getUTCDate()), want, `${d.toISOString().slice(0, 10)}`);
    }
  }
});

test('orderbook CSV: empty levels become NaN/0, prices become ticks, bad rows are reported by line', () => {
  const text = [
    'askP,askS,bidP,bidS,askP2,askS2,bidP2,bidS2',
    '5859400,200,5853300,18,9999999999,0,-9999999999,0',
    '5859400,200,x,18,9999999999,0,-9999999999,0',
    '5859400,200,5853300',
    '5859400,200,5853300,18,5859500,-1,-9999999999,0',
  ].join('\n');
  const b = parseLobsterOrderbook({ text, name: 'ob.csv' }, { priceScale: 100 });
  assert.equal(b.header, true);
  assert.equal(b.levels, 2);
  assert.equal(b.rows, 4);
  assert.deepEqual(Array.from(b.data.subarray(0, 4)), [58594, 200, 58533, 18]);
  assert.ok(Number.isNaN(b.data[4]) && b.data[5] === 0 && Number.isNaN(b.data[6]) && b.data[7] === 0);
  assert.deepEqual(Array.from(b.bad), [0, 1, 1, 1]);
  assert.deepEqual(b.errors.map((e) => e.line), [3, 4, 5]);
  assert.match(b.errors[1].message, /expected 8 columns, got 3/);
  assert.throws(() => parseLobsterOrderbook({ text, name: 'ob.csv' }, { strict: true }), (err: unknown) => err instanceof EngineError && err.where?.line === 3);
});
