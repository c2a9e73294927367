// `cmm import` end to end: writes an event log equal to the importer's batch, prints the report with
// the JSON summary on the last line, merges inputs, and fails with file:line under --strict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importBinance } from '../../src/import/binance';
import { importBybit } from '../../src/import/bybit';
import { fileSource } from '../../src/import/lines';
import { readAllEvents } from '../../src/log/event-log';

const REPO = path.resolve(__dirname, '..', '..', '..');
const CMM = path.join(REPO, 'dist', 'src', 'cli', 'cmm.js');
const FIX = path.join(REPO, 'test', 'fixtures');

function cmm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CMM, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cmm-import-')), name);
}

test('bybit: the log holds exactly the importer events; --json summary on the last line', async () => {
  const input = path.join(FIX, 'bybit', 'BYBIT.v5.head.jsonl');
  const out = tmp('bybit.cmm');
  const r = cmm('import', 'bybit', input, '-o', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]);
  assert.equal(summary.venue, 'bybit');
  assert.equal(summary.files.length, 1);
  assert.equal(summary.files[0].file, input);
  assert.deepEqual(summary.files[0].gaps, []);
  assert.match(lines[1], /BYBIT\.v5\.head\.jsonl: \d+ lines, \d+ messages, \d+ events, 0 gaps, 0 problems/);
  const expected = await importBybit([fileSource(input)]);
  const log = readAllEvents(out);
  assert.equal(log.stoppedAt.reason, 'eof');
  assert.equal(log.count, expected.batch.length);
  assert.equal(summary.eventsWritten, expected.batch.length);
  assert.deepEqual(Buffer.from(log.events.subarray(0, log.count * 64)), Buffer.from(expected.batch.bytes()));
  assert.deepEqual(log.header.instruments, expected.instruments);
  assert.equal(log.header.source, 'cmm import bybit');
});

test('binance: gzip inputs merged into one log, --symbols keeps spot and futures BTCUSDT', async () => {
  const inputs = ['spot_btcusdt', 'usdm_btcusdt', 'usdm_ethusdt'].map((f) => path.join(FIX, 'binance', `${f}_20240808.head400.gz`));
  const out = tmp('binance.cmm');
  const r = cmm('import', 'binance', ...inputs, '-o', out, '--json', '--symbols', 'BTCUSDT');
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(summary.instruments.map((i: { venue: string }) => i.venue), ['binance.spot', 'binance.usdm']);
  assert.equal(summary.files[2].skipped['symbol not in --symbols'] > 0, true);
  const expected = await importBinance(inputs.map(fileSource), { symbols: ['BTCUSDT'] });
  assert.equal(readAllEvents(out).count, expected.batch.length);
});

test('--strict stops at the first bad line with file:line and writes no log', () => {
  const bad = tmp('bad.jsonl');
  const good = fs.readFileSync(path.join(FIX, 'bybit', 'BYBIT.v5.head.jsonl'), 'utf8').split('\n').slice(0, 60);
  good.splice(50, 0, '{"t":"recv","conn":"BYBIT.ws.2","ts":1786310819.8,"data":"not json"}');
  fs.writeFileSync(bad, good.join('\n'));
  const out = tmp('never.cmm');
  const r = cmm('import', 'bybit', bad, '-o', out, '--strict');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_BAD_INPUT: not JSON.*bad\.jsonl, line 51/);
  assert.equal(fs.existsSync(out), false);
  // Without --strict the line is counted and listed.
  const ok = cmm('import', 'bybit', bad, '-o', out);
  assert.equal(ok.status, 0);
  assert.match(ok.stdout, /bad\.jsonl:51: not JSON/);
});

test('argument errors: unknown venue, no output, output equal to an input', () => {
  assert.match(cmm('import', 'kraken', 'x', '-o', 'y').stderr, /expected a venue \(lobster\|bybit\|binance\|bitstamp\)/);
  assert.match(cmm('import', 'bybit', 'x').stderr, /expected an output file/);
  const f = path.join(FIX, 'bybit', 'BYBIT.v5.head.jsonl');
  assert.match(cmm('import', 'bybit', f, '-o', f).stderr, /not an input/);
  assert.match(cmm('import', 'bybit', '/no/such/file', '-o', tmp('x.cmm')).stderr, /E_FILE_NOT_FOUND/);
});

test('lobster: message files merged (instrument per ticker), orderbook files skipped', async () => {
  const { parseLobsterMessages } = await import('../../src/import/lobster');
  const dir = path.join(FIX, 'lobster');
  const aapl = path.join(dir, 'AAPL_2012-06-21_34200000_57600000_message_10.csv');
  const book = path.join(dir, 'AAPL_2012-06-21_34200000_57600000_orderbook_10.csv');
  const amzn = path.join(dir, 'AMZN_2012-06-21_34200000_57600000_message_1.with_header.csv.gz');
  const out = tmp('lobster.cmm');
  const r = cmm('import', 'lobster', aapl, book, amzn, '-o', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(summary.instruments.map((i: { id: number; symbol: string }) => `${i.id}:${i.symbol}`), ['0:AAPL', '1:AMZN']);
  assert.equal(summary.files[1].skipped['orderbook file'], 1);
  const n = parseLobsterMessages(aapl).batch.length + parseLobsterMessages(amzn).batch.length;
  const log = readAllEvents(out);
  assert.equal(log.count, n);
  const dv = new DataView(log.events.buffer, log.events.byteOffset, log.count * 64);
  const seen = new Set<number>();
  for (let i = 0; i < log.count; i++) {
    seen.add(dv.getUint32(i * 64 + 56, true));
    if (i > 0) assert.ok(dv.getBigInt64(i * 64 + 8, true) >= dv.getBigInt64((i - 1) * 64 + 8, true), 'merged by receive time');
  }
  assert.deepEqual([...seen].sort(), [0, 1]);
});
