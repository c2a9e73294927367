// Every baseline end to end on real recordings: the small fixture slices in test/fixtures (always), and the
// full files in ../shared/data (skipped, with the reason, when that folder is absent).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { BacktestOptions, BacktestResult, runBacktest } from '../../src/backtest/run';
import { QueueModelName } from '../../src/backtest/queue';
import { Tape } from '../../src/backtest/tape';
import { importBinance } from '../../src/import/binance';
import { importBitstamp } from '../../src/import/bitstamp';
import { fileSource } from '../../src/import/lines';
import { parseLobsterMessages } from '../../src/import/lobster';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const SHARED = path.resolve(ROOT, '..', 'shared', 'data');
const sharedMissing = fs.existsSync(SHARED) ? false : `${SHARED} is absent`;

function lobsterTape(file: string): Tape {
  const m = parseLobsterMessages(file);
  return Tape.fromEvents([m.instrument], m.batch.bytes(), { source: file });
}

async function binanceTape(file: string): Promise<Tape> {
  const r = await importBinance([fileSource(file)]);
  return Tape.fromEvents(r.instruments, r.batch.bytes(), { source: file });
}

function backtest(tape: Tape, queue: QueueModelName, episodeLenNs: number, over: Partial<BacktestOptions> = {}): BacktestResult {
  return runBacktest({
    tape, strategies: ['fixed', 'as', 'rl'], episodeLenNs, seed: 1, trainFrac: 0.5, fees: { makerBps: 0, takerBps: 2 }, queue: { model: queue },
    latency: { feed: { dist: 'constant', ns: 0 }, entry: { dist: 'constant', ns: 1e6 }, response: { dist: 'constant', ns: 1e6 } },
    stepNs: 1e9, rl: { epochs: 3, save: false }, ...over,
  });
}

function checkResult(r: BacktestResult, episodes: number): void {
  assert.deepEqual(r.strategies.map((s) => s.name), ['fixed', 'as', 'rl']);
  assert.deepEqual(r.calibration.warnings, []);
  assert.ok(r.calibration.sigma > 0 && r.calibration.k > 0 && r.calibration.A > 0);
  for (const s of r.strategies) {
    assert.equal(s.episodes.length, episodes, s.name);
    for (const e of s.episodes) {
      for (const k of ['epnl', 'map', 'pnlMap', 'rpt', 'sharpe', 'maxDrawdown', 'quotedTime'] as const) assert.ok(Number.isFinite(e[k]), `${s.name} ${k} ${e[k]}`);
      assert.ok(e.quotedTime >= 0 && e.quotedTime <= 1 + 1e-12);
      assert.ok(e.maxDrawdown >= 0);
      assert.ok(Math.abs(e.finalPosition) <= r.config.risk.maxPosition);
    }
  }
  const quoted = r.strategies.filter((s) => s.name !== 'rl').map((s) => s.summary.stats.quotedTime.mean);
  assert.ok(quoted.every((q) => q > 0.5), `the spread quoters quote most of the time: ${quoted}`);
  assert.ok(r.strategies.some((s) => s.summary.stats.fills.mean > 0), 'someone trades');
}

test('fixture: LOBSTER MSFT (20 000 messages, L3, FIFO queue)', () => {
  const tape = lobsterTape(path.join(FIXTURES, 'lobster', 'MSFT_2012-06-21_34200000_37800000_message_50.head20000.csv.gz'));
  const r = backtest(tape, 'fifo', 60e9);
  assert.equal(r.calibration.priceStep, 100, 'LOBSTER prices are 1e-4 $, the grid is the cent');
  checkResult(r, 3);
});

test('fixture: LOBSTER AMZN (a whole day, best level, L3, FIFO)', () => {
  const tape = lobsterTape(path.join(FIXTURES, 'lobster', 'AMZN_2012-06-21_34200000_57600000_message_1.with_header.csv.gz'));
  checkResult(backtest(tape, 'fifo', 1800e9), 6);
});

test('fixture: Bitstamp BTC/USD order-by-order slice (L3, FIFO)', async () => {
  const file = path.join(FIXTURES, 'bitstamp', '2015-05-01.head800.log');
  const r = await importBitstamp([fileSource(file)]);
  const tape = Tape.fromEvents(r.instruments, r.batch.bytes(), { source: file });
  const span = tape.lastNs - tape.firstNs;
  const res = backtest(tape, 'fifo', Math.floor(span / 2 / 3), { orderQty: 1e7 });
  assert.equal(res.windows.length, 3);
  for (const s of res.strategies) assert.equal(s.episodes.length, 3);
});

test('fixture: Binance USD-M BTCUSDT slice (L2, probabilistic queue)', async () => {
  const tape = await binanceTape(path.join(FIXTURES, 'binance', 'usdm_btcusdt_20240808.head400.gz'));
  const span = tape.lastNs - tape.firstNs;
  const r = backtest(tape, 'prob-power', Math.floor(span / 2 / 2));
  assert.equal(r.windows.length, 2);
  for (const s of r.strategies) assert.equal(s.episodes.length, 2);
});

test('full data: LOBSTER MSFT 09:30-10:30, all baselines, FIFO', { skip: sharedMissing }, () => {
  const tape = lobsterTape(path.join(SHARED, 'lobster', 'MSFT_2012-06-21_34200000_37800000_message_50.csv'));
  checkResult(backtest(tape, 'fifo', 300e9, { rl: { epochs: 5, save: false } }), 5);
});

test('full data: Binance USD-M BTCUSDT (6 min), all baselines, probabilistic queue', { skip: sharedMissing }, async () => {
  const tape = await binanceTape(path.join(SHARED, 'binance', 'usdm_btcusdt_20240808.gz'));
  checkResult(backtest(tape, 'prob-power', 30e9), 5);
});
